-- Content already loaded under another round (a changed [survey] round would load the households twice),
-- first loaded first.
SELECT sha256, round
FROM files
WHERE round <> $round AND status = $loaded
ORDER BY processed_at, round;
