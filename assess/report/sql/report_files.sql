-- Files received for the round: what was read, accepted and quarantined, with the sha256 that pins each input.
WITH source AS (
    SELECT * FROM files WHERE round = $round
),
final AS (
    SELECT name, format, sha256, coalesce(rows, 0) AS rows, coalesce(accepted, 0) AS accepted,
           coalesce(quarantined, 0) AS quarantined, coalesce(warnings, 0) AS warnings, status, reason,
           received_at
    FROM source
)
SELECT * FROM final ORDER BY received_at NULLS LAST, name;
