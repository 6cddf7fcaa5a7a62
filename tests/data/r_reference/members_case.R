# Reference results for tests/test_members.py::test_member_estimates_match_r_survey (member-level estimates).
# Run from this folder:  Rscript members_case.R   (prints the CSV block pasted into the test)
# Produced with R 4.2.2 and the survey package 4.1.1 (Debian r-base-core, r-cran-survey).
#
# The data below is the test's HOUSEHOLDS and MEMBERS, written out as CSV (the test checks that the two agree):
# 18 households in 3 strata (A, B: 3 clusters each, C: 2; cluster ids repeat across strata: nest = TRUE),
# unequal weights, regions north/south (h05: unknown, so national only; a cluster spans both regions), h07
# without any roster row; 47 roster members with sex (select_one f/m), age (integer; 999 = [needs]
# missing_codes; no age at all in cluster A-3), act (select_multiple: space-separated codes) and vision (a
# Washington Group answer). NA = unanswered.
#
# Member-level design (README "Members (repeat groups)"): svydesign on the member table with the household's
# weight, stratum and PSU -- ids = ~cluster (design 'cluster') or ids = ~hid (design 'household': no clusters,
# the PSU of a member is its household). Household-level indicators from the members ([[indicators.members]])
# use the same designs on the household table. Per variable, as srvyr / IMPACT analysistools: filter the design
# to the units that answered (subset(design, !is.na(v))), svymean on it (national) and on its region domains
# (svyby, checked equal to subset(region == area)), confint(df = degf(filtered design)).
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "certainty")

hh <- read.csv(text = "
hid,stratum,cluster,w,region
h01,A,1,17.0,north
h02,A,1,17.0,south
h03,A,2,17.0,south
h04,A,2,19.5,south
h05,A,3,17.0,NA
h06,A,3,17.0,north
h07,A,3,17.0,south
h08,B,1,32.5,north
h09,B,1,32.5,south
h10,B,1,30.0,north
h11,B,2,30.0,south
h12,B,2,35.0,north
h13,B,3,37.5,south
h14,B,3,30.0,south
h15,C,1,57.5,south
h16,C,1,62.5,north
h17,C,2,62.5,south
h18,C,2,62.5,north
", colClasses = c(hid = "character", stratum = "character", cluster = "character", region = "character"),
  na.strings = "NA")
mem <- read.csv(text = "
hid,row,sex,age,act,vision
h01,1,f,15,work,no_difficulty
h01,2,f,54,work,no_difficulty
h01,3,f,32,none,no_difficulty
h02,1,f,51,work care,no_difficulty
h02,2,f,60,NA,no_difficulty
h02,3,f,64,school,some_difficulty
h03,1,NA,33,work,no_difficulty
h04,1,m,65,care,no_difficulty
h04,2,m,4,none,a_lot_of_difficulty
h04,3,f,18,NA,a_lot_of_difficulty
h04,4,f,32,school,a_lot_of_difficulty
h04,5,f,28,school care,no_difficulty
h05,1,m,NA,NA,some_difficulty
h05,2,NA,NA,care,cannot_do
h05,3,f,NA,work,some_difficulty
h05,4,NA,NA,school care,no_difficulty
h06,1,f,NA,care,cannot_do
h06,2,m,NA,work,no_difficulty
h08,1,NA,43,school work,some_difficulty
h09,1,m,31,NA,no_difficulty
h09,2,f,9,none,no_difficulty
h09,3,NA,36,none,no_difficulty
h09,4,f,58,care,no_difficulty
h10,1,f,6,NA,a_lot_of_difficulty
h10,2,f,NA,NA,no_difficulty
h10,3,f,47,NA,cannot_do
h10,4,f,16,care,a_lot_of_difficulty
h11,1,NA,45,none,no_difficulty
h11,2,m,38,NA,a_lot_of_difficulty
h12,1,f,56,school care,no_difficulty
h12,2,NA,68,care,no_difficulty
h13,1,f,29,NA,no_difficulty
h14,1,f,46,care,some_difficulty
h14,2,f,999,NA,no_difficulty
h14,3,f,45,school,some_difficulty
h15,1,f,61,school work,some_difficulty
h16,1,m,38,school work,no_difficulty
h16,2,m,18,care,some_difficulty
h16,3,f,30,school,no_difficulty
h16,4,NA,35,school,no_difficulty
h16,5,f,25,work,no_difficulty
h17,1,m,40,none,no_difficulty
h17,2,m,56,none,no_difficulty
h17,3,f,NA,work care,some_difficulty
h17,4,f,48,school,no_difficulty
h17,5,f,15,school,no_difficulty
h18,1,m,22,school,cannot_do
", colClasses = c(hid = "character", sex = "character", act = "character", vision = "character"),
  na.strings = "NA")

# household-level numbers from the roster ([[indicators.members]]); conditions see the answers as entered
# (999 included) and a row whose condition is unknown (NA) does not match; no roster row -> NA
m <- mem
hit <- function(x) as.numeric(!is.na(x) & x)
m$child <- hit(m$age >= 5 & m$age <= 17)
m$dis <- hit(m$vision %in% c("a_lot_of_difficulty", "cannot_do"))
m$adult <- hit(m$age >= 18)
m$fem <- hit(m$sex == "f")
agg <- do.call(rbind, lapply(split(m, m$hid), function(g) data.frame(
  hid = g$hid[1], children_5_17 = sum(g$child), any_disability = max(g$dis), all_adults = min(g$adult),
  share_female = mean(g$fem))))
hh <- merge(hh, agg, by = "hid", all.x = TRUE)

# member-level variables: [needs] missing_codes = [999]; one 0/1 column per answer / option (NA when unanswered)
mem$age[!is.na(mem$age) & mem$age == 999] <- NA
members <- merge(mem, hh[, c("hid", "stratum", "cluster", "w", "region")], by = "hid")
for (o in c("f", "m")) members[[paste0("ind_sex.", o)]] <- ifelse(is.na(members$sex), NA, as.numeric(members$sex == o))
members$ind_age <- members$age
for (o in c("school", "work", "care", "none")) members[[paste0("ind_act.", o)]] <-
  ifelse(is.na(members$act), NA, sapply(strsplit(ifelse(is.na(members$act), "", members$act), " "),
                                        function(x) as.numeric(o %in% x)))

make <- function(kind, d) if (kind == "cluster") {
  svydesign(ids = ~cluster, strata = ~stratum, weights = ~w, nest = TRUE, data = d)
} else {
  svydesign(ids = ~hid, strata = ~stratum, weights = ~w, nest = TRUE, data = d)
}
vars <- list(roster = c("ind_sex.f", "ind_sex.m", "ind_age", "ind_act.school", "ind_act.work", "ind_act.care",
                        "ind_act.none"),
             household = c("children_5_17", "any_disability", "all_adults", "share_female"))
out <- list()
for (kind in c("cluster", "household")) for (unit in names(vars)) {
  data <- if (unit == "roster") members else hh
  des <- make(kind, data)
  for (v in vars[[unit]]) {
    sub <- subset(des, !is.na(data[[v]]))
    df <- degf(sub)
    f <- as.formula(paste0("~`", v, "`"))
    byr <- svyby(f, ~region, sub, svymean)
    for (area in c("all", "north", "south")) {
      s <- if (area == "all") sub else subset(sub, region == area)
      est <- svymean(f, s)
      at <- match(area, byr$region)
      if (area != "all") stopifnot(isTRUE(all.equal(as.numeric(coef(est)), as.numeric(coef(byr)[at]))),
                                   isTRUE(all.equal(as.numeric(SE(est)), as.numeric(SE(byr)[at]))))
      ci <- confint(est, level = 0.95, df = df)
      kept <- weights(s, "sampling") > 0
      out[[length(out) + 1]] <- data.frame(
        design = kind, unit = unit, area = area, variable = v,
        estimate = sprintf("%.15g", coef(est)[1]), se = sprintf("%.15g", SE(est)[1]),
        ci_low = sprintf("%.15g", ci[1, 1]), ci_high = sprintf("%.15g", ci[1, 2]), df = df,
        n = sum(kept), n_households = length(unique(s$variables$hid[kept])))
    }
  }
}
res <- do.call(rbind, out)
write.csv(res, stdout(), row.names = FALSE, quote = FALSE)
