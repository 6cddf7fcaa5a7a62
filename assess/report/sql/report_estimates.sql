-- Every estimate of one round, for the reports (labels and formatting are added in Python). `unit` is
-- 'household' or the repeat group (members) the rows were counted in.
WITH source AS (
    SELECT * FROM estimates WHERE round = $round
),
final AS (
    SELECT level, area, indicator, option, estimate, ci_low, ci_high, n, suppressed, df, n_households, unit
    FROM source
)
SELECT * FROM final ORDER BY level, area, indicator, option;
