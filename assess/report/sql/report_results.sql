-- The round's results of the configured plan with group variables (the national report's disaggregation tables),
-- in plan order.
SELECT plan_row, unit, analysis_type, analysis_var, analysis_var_value, group_var, group_var_value,
       stat, stat_low, stat_upp, suppressed
FROM results
WHERE round = $round AND group_var <> '' AND plan_row > 0
ORDER BY plan_row, rowid;
