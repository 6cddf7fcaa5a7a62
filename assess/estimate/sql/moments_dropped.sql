-- moments_dropped: households interviewed but not in the design (no valid [design] weight), over all buckets.
SELECT (SELECT coalesce(sum(interviewed), 0) FROM est_counts WHERE round = $round)
     - (SELECT coalesce(sum(units), 0) FROM est_design WHERE round = $round AND pass = '' AND unit = 'household');
