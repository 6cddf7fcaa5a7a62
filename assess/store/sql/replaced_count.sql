-- How many of the rows about to load replace households already in the store (usually none: new households).
SELECT count(*) FROM submissions WHERE round = $round AND submission_id IN (SELECT _sid FROM _accepted);
