-- moments_shifts: a centring constant for each variable that has none yet (the mean of its first answers).
-- It only protects the precision of the sums of squares; the estimates do not depend on it.
INSERT INTO est_shifts
SELECT $round, v.indicator, v.option, avg(v.y)
FROM est_values AS v
WHERE v.y IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM est_shifts AS k
                  WHERE k.round = $round AND k.indicator = v.indicator AND k.option = v.option)
GROUP BY v.indicator, v.option;
