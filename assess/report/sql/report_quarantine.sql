-- Problems of the round by kind, reason and action (entries superseded by a later good export are left out).
-- The reason text is written by the validation code, never copied from an answer.
WITH source AS (
    SELECT * FROM quarantine WHERE round = $round AND superseded_by IS NULL
),
final AS (
    SELECT action, kind, reason, count(*) AS problems,
           count(DISTINCT coalesce(submission_id, file || ':' || coalesce(CAST("row" AS VARCHAR), ''))) AS records
    FROM source
    GROUP BY action, kind, reason
)
SELECT * FROM final ORDER BY action DESC, records DESC, kind, reason;
