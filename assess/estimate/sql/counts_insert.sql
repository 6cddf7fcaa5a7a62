-- Households per area of one level, from the temp table `_counted` (one row per accepted household, with its
-- area keys and whether it is in the estimates). {area} is 'all' or a quoted `_lvlN` alias built in counts.py.
WITH source AS (
    SELECT CAST({area} AS VARCHAR) AS area, counted FROM _counted
),
final AS (
    SELECT $round AS round, $level AS level, area, count(*) AS interviewed,
           count(*) FILTER (WHERE NOT counted) AS declined, count(*) FILTER (WHERE counted) AS in_estimates
    FROM source
    WHERE area IS NOT NULL
    GROUP BY area
)
INSERT INTO household_counts SELECT * FROM final;
