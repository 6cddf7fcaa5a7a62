# Reference results for tests/test_estimate.py::test_design_case_matches_r_survey.
# Run from this folder:  Rscript design_case.R   (writes design_case_expected.csv)
# Produced with R's survey package (4.1.1, Debian r-cran-survey).
#
# design_case.csv: 60 households, 3 strata (A: 4 PSUs, B: 3 PSUs, C: a single PSU), cluster ids repeating
# across strata (nest = TRUE), unequal weights, two regions plus two households with unknown region,
# y_bin (0/1, with a whole PSU of stratum A missing it) and y_num (numeric), NA = missing.
# Two designs: 'cluster' (PSU = psu within stratum) and 'household' (no clusters: ids = ~1).
#
# This mirrors what srvyr / IMPACT analysistools do: one design on all households, then per variable
# filter(!is.na(var)) and survey_mean(vartype = "ci"), i.e. svymean + confint(df = degf(filtered design)).
# Areas are domains (subset) of the filtered design and use the same df as the national estimate.
# Stratum C has a single PSU: R's default (survey.lonely.psu = "fail") would stop; we use "certainty".
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "certainty")

d <- read.csv("design_case.csv", colClasses = c(stratum = "character", psu = "character", region = "character"),
              na.strings = "NA")
designs <- list(
  cluster = svydesign(ids = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = d),
  household = svydesign(ids = ~1, strata = ~stratum, weights = ~w, data = d)  # no clusters
)

out <- list()
for (dname in names(designs)) for (v in c("y_bin", "y_num")) {
  des <- designs[[dname]]
  sub <- des[!is.na(d[[v]]), ]          # srvyr: filter(!is.na(v))
  df <- degf(sub)
  for (area in c("all", "north", "south")) {
    s <- if (area == "all") sub else subset(sub, region == area)
    m <- svymean(as.formula(paste0("~", v)), s)
    ci <- confint(m, level = 0.95, df = df)
    out[[length(out) + 1]] <- data.frame(
      design = dname, level = if (area == "all") "national" else "region", area = area, indicator = v,
      estimate = unname(coef(m)[1]), se = unname(SE(m)[1]), ci_low = ci[1, 1], ci_high = ci[1, 2],
      df = df, n = sum(weights(s, "sampling") > 0))
  }
}
res <- do.call(rbind, out)
for (k in c("estimate", "se", "ci_low", "ci_high")) res[[k]] <- sprintf("%.17g", res[[k]])  # full precision
write.csv(res, "design_case_expected.csv", row.names = FALSE)
print(res)
