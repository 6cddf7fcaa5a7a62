-- Results as shared, in analysistools' long format: a suppressed row keeps its keys, n_total and n_w_total
-- but loses stat, stat_low, stat_upp, n and n_w (the store keeps them for audit). Labels are added in Python.
SELECT
    analysis_type, analysis_var, analysis_var_value, group_var, group_var_value,
    CASE WHEN suppressed THEN NULL ELSE stat END     AS stat,
    CASE WHEN suppressed THEN NULL ELSE stat_low END AS stat_low,
    CASE WHEN suppressed THEN NULL ELSE stat_upp END AS stat_upp,
    CASE WHEN suppressed THEN NULL ELSE n END        AS n,
    n_total,
    CASE WHEN suppressed THEN NULL ELSE n_w END      AS n_w,
    n_w_total,
    analysis_key,
    suppressed
FROM results
WHERE $round IS NULL OR round = $round
ORDER BY round, rowid;
