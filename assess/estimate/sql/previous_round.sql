-- Rounds ordered by when their first submission was loaded.
WITH rounds AS (
    SELECT round, min(loaded_at) AS first_loaded FROM submissions GROUP BY round
)
SELECT r.round
FROM rounds r, rounds cur
WHERE cur.round = $round
  AND r.round <> $round
  AND r.first_loaded < cur.first_loaded
  AND r.round IN (SELECT DISTINCT round FROM estimates)
ORDER BY r.first_loaded DESC
LIMIT 1;
