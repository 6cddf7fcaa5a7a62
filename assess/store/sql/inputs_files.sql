-- The files of a round with a status (loaded or rejected), by content: the `*_files` inputs of the registry.
SELECT sha256 FROM files WHERE round = $round AND status = $status ORDER BY sha256;
