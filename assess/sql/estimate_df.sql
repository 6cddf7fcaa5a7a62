-- estimate_df: design degrees of freedom per variable, as R's degf() on the design restricted to the
-- households that answered it: distinct PSUs minus distinct strata among those rows.
-- Area estimates use this national df (srvyr/analysistools use degf of the whole filtered design).
-- Identifiers: {values} (allow-listed, quoted by the caller).
CREATE OR REPLACE TEMP TABLE _est_df AS
SELECT
    v.indicator,
    v.option,
    CAST(count(DISTINCT d.pid) - count(DISTINCT d.sid) AS BIGINT) AS df
FROM {values} AS v
JOIN _est_design AS d ON d._rid = v._rid
WHERE v.y IS NOT NULL
GROUP BY v.indicator, v.option;
