-- Runs of this round still marked `loading` were killed; the run finishing their receipts marks them.
UPDATE runs SET status = 'interrupted' WHERE round = $round AND status = 'loading' AND run_id <> $run;
