-- estimate_df_psu: design degrees of freedom per variable, as R's degf() on the design restricted
-- to the households that answered it: distinct PSUs minus distinct strata among those households.
-- Area estimates use this national df (srvyr uses degf of the whole filtered design).
CREATE OR REPLACE TEMP TABLE _est_df AS
SELECT vid, CAST(count(DISTINCT pid) - count(DISTINCT sid) AS BIGINT) AS df
FROM _est_cells
GROUP BY vid;
