-- Warnings (accepted households with a flagged answer) in one area, by kind, column and reason.
WITH units AS (
    SELECT submission_id, {area} AS area FROM submissions WHERE round = $round
),
problems AS (
    SELECT * FROM quarantine WHERE round = $round AND superseded_by IS NULL AND action = 'warn'
),
final AS (
    SELECT p.kind, p."column", p.reason, list(DISTINCT p.submission_id) AS records
    FROM problems p JOIN units u ON u.submission_id = p.submission_id
    WHERE u.area = $area
    GROUP BY p.kind, p."column", p.reason
)
SELECT * FROM final ORDER BY kind, "column", reason;
