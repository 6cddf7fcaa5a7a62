DELETE FROM selections WHERE round = $round AND submission_id IN (SELECT _sid FROM _accepted);
