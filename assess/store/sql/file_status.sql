SELECT status, name, processed_at FROM files WHERE sha256 = $sha256 AND round = $round;
