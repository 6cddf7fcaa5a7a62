-- A submission that loads from a later file supersedes its earlier quarantine entries.
UPDATE quarantine
SET superseded_by = $file
WHERE round = $round
  AND superseded_by IS NULL
  AND sha256 <> $sha256
  AND submission_id IN (SELECT submission_id FROM submissions WHERE round = $round AND source_sha256 = $sha256);
