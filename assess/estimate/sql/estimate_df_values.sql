-- estimate_df_values: the distinct design degrees of freedom (for the t quantiles).
SELECT DISTINCT df FROM _est_df WHERE df IS NOT NULL;
