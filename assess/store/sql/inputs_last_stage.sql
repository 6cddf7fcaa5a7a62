-- The round's latest completed run of a stage (estimate or report).
SELECT run_id, finished_at, result
FROM stage_runs
WHERE round = $round AND stage = $stage
ORDER BY finished_at DESC
LIMIT 1;
