-- moments_shifts: a centring constant for each variable of {values} that has none yet in $pass (the mean of its
-- first answers, over the mean of {x} for a ratio, as estimate_vars). It only protects the precision of the
-- sums of squares; the estimates do not depend on it. A plan's proportion also keeps here every option it has
-- seen, so that later buckets give their units a 0 for it (moments.py).
INSERT INTO est_shifts
SELECT $round, $pass, v.indicator, v.option, coalesce(avg(v.y) / NULLIF(avg({x}), 0), 0.0)
FROM {values} AS v
WHERE v.y IS NOT NULL AND {x} IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM est_shifts AS k
                  WHERE k.round = $round AND k.pass = $pass AND k.indicator = v.indicator AND k.option = v.option)
GROUP BY v.indicator, v.option;
