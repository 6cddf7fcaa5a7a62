-- The files whose rows are in the numbers: every file a household of the round was loaded from (a rejected
-- file, or one whose rows were all replaced by a later export, has none), with the sha256 that pins it.
WITH used AS (
    SELECT DISTINCT source_sha256 AS sha256 FROM submissions WHERE round = $round
),
final AS (
    SELECT f.name, f.sha256, f.received_at
    FROM files f JOIN used u ON u.sha256 = f.sha256
    WHERE f.round = $round
)
SELECT name, sha256 FROM final ORDER BY received_at NULLS LAST, name;
