-- estimate_tq: df -> t quantile (computed by scipy). Parameters: $dfs, $qs (lists of equal length).
CREATE OR REPLACE TEMP TABLE _est_tq AS
SELECT CAST(unnest($dfs) AS BIGINT) AS df, CAST(unnest($qs) AS DOUBLE) AS q;
