-- Problems of the round's loaded files by action, kind, column and reason (entries superseded by a later good
-- export are left out; a rejected file is counted once elsewhere, not here). `records`: the rows concerned,
-- so that a row with several problems of one kind is counted once. The reason is written by the validation
-- code; the report words it again from the kind and the question, and never shows an answer.
WITH rejected AS (
    SELECT sha256 FROM files WHERE round = $round AND status = 'rejected'
),
source AS (
    SELECT * FROM quarantine
    WHERE round = $round AND superseded_by IS NULL AND sha256 NOT IN (SELECT sha256 FROM rejected)
),
final AS (
    SELECT action, kind, "column", reason,
           list(DISTINCT coalesce(submission_id, file || ':' || coalesce(CAST("row" AS VARCHAR), ''))) AS records
    FROM source
    GROUP BY action, kind, "column", reason
)
SELECT * FROM final ORDER BY action DESC, kind, "column", reason;
