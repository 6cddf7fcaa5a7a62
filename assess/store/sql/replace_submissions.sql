-- A later file replaces earlier rows with the same (round, submission id): cumulative exports count once.
DELETE FROM submissions WHERE round = $round AND submission_id IN (SELECT _sid FROM _accepted);
