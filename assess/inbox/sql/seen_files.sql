-- Files already processed in this round (loaded or rejected): never new again.
SELECT sha256 FROM files WHERE round = $round;
