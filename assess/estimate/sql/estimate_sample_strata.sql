-- estimate_sample_strata: households per stratum in the units table (for design weights).
-- Identifiers: {units}, {strata_col} (allow-listed, quoted by the caller).
SELECT trim(CAST({strata_col} AS VARCHAR)) AS stratum, count(*) AS n_h
FROM {units}
GROUP BY 1
ORDER BY 1;
