-- Filled cleaning logs applied under another round, first applied first: skipped like exports loaded there.
SELECT sha256, round
FROM cleaning_logs
WHERE round <> $round
ORDER BY received_at, round;
