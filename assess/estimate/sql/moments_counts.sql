-- moments_counts: households interviewed and in the estimates, per (bucket, area keys), for the buckets being
-- recomputed. A household is in the estimates when it is in the design and answered one of $ind.
-- {bucket} is the bucket key; {scope} selects the stale buckets' households of `submissions` (s), {areas} is the list of its area keys.
INSERT INTO est_counts
SELECT $round, {bucket}, {areas}, count(*), count(*) FILTER (WHERE a.submission_id IS NOT NULL)
FROM submissions AS s
LEFT JOIN (
    SELECT DISTINCT u.submission_id
    FROM est_units AS u
    JOIN est_values AS v ON v._rid = u._rid
    WHERE v.y IS NOT NULL AND v.indicator IN (SELECT unnest($ind::VARCHAR[]))
) AS a ON a.submission_id = s.submission_id
WHERE s.round = $round AND {scope}
GROUP BY ALL;
