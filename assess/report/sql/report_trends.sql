-- Change since the previous round (table written by the trends step, when it exists).
WITH source AS (
    SELECT * FROM trends WHERE round = $round
),
final AS (
    SELECT previous_round, level, area, indicator, option, estimate, previous_estimate, change, significant
    FROM source
)
SELECT * FROM final ORDER BY level, area, indicator, option;
