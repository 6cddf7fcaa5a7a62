-- First and last day of data collection and the number of households, for the round or one area.
-- {day} is a date expression over allow-listed, quoted date columns; {area} an area-key expression
-- (analysis.area_expressions) or NULL. Both are built in report_data.py, never from answers.
WITH source AS (
    SELECT {day} AS day, {area} AS area FROM submissions WHERE round = $round
),
final AS (
    SELECT min(day) AS first_day, max(day) AS last_day, count(*) AS households
    FROM source
    WHERE $area IS NULL OR area = $area
)
SELECT * FROM final;
