DELETE FROM quarantine WHERE sha256 = $sha AND round = $round;
