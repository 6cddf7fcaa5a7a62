-- Households of one area per source file ({area}: an area-key expression from analysis.area_expressions).
WITH source AS (
    SELECT source_file, {area} AS area FROM submissions WHERE round = $round
),
final AS (
    SELECT source_file AS name, count(*) AS households
    FROM source WHERE area = $area GROUP BY source_file
)
SELECT * FROM final ORDER BY name;
