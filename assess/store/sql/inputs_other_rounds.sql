-- The other rounds' estimates (trends compare with them), summed up: a change in any shows in the fingerprint.
SELECT round, count(*), sum(estimate), sum(n)
FROM estimates
WHERE round <> $round
GROUP BY round
ORDER BY round;
