INSERT OR REPLACE INTO files
VALUES ($sha, $round, $name, $fmt, $rows, $acc, $quar, $warn, $status, $reason, $archive, $received, $now, $run);
