SELECT name, format, rows, accepted, quarantined, status, reason, archive_path, received_at, notes
FROM files
WHERE sha256 = $sha AND round = $round;
