-- Analysis results (issue 16): one row per result of the round's analysis plan (or of the default plan), in
-- analysistools' long format, with the computed values kept for audit even when a cell is suppressed (exports
-- blank them). Written by run_estimates with the estimates.
CREATE TABLE IF NOT EXISTS results (
    round              VARCHAR,
    analysis_type      VARCHAR,   -- prop_select_one, prop_select_multiple, mean, median, ratio
    analysis_var       VARCHAR,   -- for a ratio 'numerator %/% denominator'
    analysis_var_value VARCHAR,   -- the answer (proportions), '' (mean, median), 'NA %/% NA' (ratio)
    group_var          VARCHAR,   -- '' nationally; 'admin1 %/% hoh_gender' for two group variables
    group_var_value    VARCHAR,
    stat               DOUBLE,
    stat_low           DOUBLE,
    stat_upp           DOUBLE,
    n                  DOUBLE,    -- units choosing the answer (proportions), units used (others)
    n_total            DOUBLE,
    n_w                DOUBLE,
    n_w_total          DOUBLE,
    analysis_key       VARCHAR,
    unit               VARCHAR,   -- 'household' or the repeat group whose rows were analysed
    se                 DOUBLE,
    df                 BIGINT,
    suppressed         BOOLEAN,   -- [privacy] min_cell (the cell's own count too) and complementary cells
    plan_row           INTEGER    -- the analysis' row in the plan file (0: the default plan)
);
