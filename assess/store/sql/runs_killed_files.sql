-- Files loaded by runs of this round that were killed before they finished (their receipts may be missing).
SELECT sha256
FROM files
WHERE round = $round
  AND run_id IN (SELECT run_id FROM runs WHERE round = $round AND status = 'loading')
ORDER BY processed_at;
