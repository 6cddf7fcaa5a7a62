INSERT OR REPLACE INTO files (sha256, round, name, format, rows, accepted, quarantined, warnings, notes, status,
                              reason, archive_path, received_at, processed_at, run_id)
VALUES ($sha, $round, $name, $fmt, $rows, $acc, $quar, $warn, $notes, $status, $reason, $archive, $received, $now,
        $run);
