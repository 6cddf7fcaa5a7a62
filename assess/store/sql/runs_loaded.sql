UPDATE runs
SET status = 'loaded', finished_at = $now, files = $files, accepted = $acc, quarantined = $quar
WHERE run_id = $run;
