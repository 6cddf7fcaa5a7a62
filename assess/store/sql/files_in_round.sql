SELECT sha256 FROM files WHERE round = $round;
