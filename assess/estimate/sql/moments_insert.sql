-- moments_insert: the sums of the buckets being recomputed, from units {units} and values {values} built for their
-- households only, per (bucket, unit type, variable, stratum, PSU, area cell); w is the unit's own weight
-- ([design] weight, else 1). {psu} is NULL for households when every household is its own PSU; {areas} the
-- list of the units' area keys (or group values); {x} a ratio's denominator (v.x) or 1.0. $pass names the
-- estimates ('') or a batch of the analysis plan.
INSERT INTO est_moments (round, pass, bucket, unit, indicator, option, kind, stratum, psu, areas, n, nh, n1, sy, a,
                         b, wn, aa, ab, bb, ymin, ymax)
SELECT $round, $pass, u._bucket, u._unit, v.indicator, v.option, max(v.kind), u._stratum, {psu}, {areas},
       count(*), count(DISTINCT u._hh), count(*) FILTER (WHERE v.y = 1),
       sum(u._weight * v.y),
       sum(u._weight * (v.y - k.shift * {x})),
       sum(u._weight * {x}),
       sum(u._weight),
       sum((u._weight * (v.y - k.shift * {x})) * (u._weight * (v.y - k.shift * {x}))),
       sum(u._weight * u._weight * (v.y - k.shift * {x}) * {x}),
       sum(u._weight * u._weight * {x} * {x}),
       min(v.y), max(v.y)
FROM {values} AS v
JOIN {units} AS u ON u._rid = v._rid
JOIN est_shifts AS k ON k.round = $round AND k.pass = $pass AND k.indicator = v.indicator AND k.option = v.option
WHERE v.y IS NOT NULL AND {x} IS NOT NULL
GROUP BY u._bucket, u._unit, v.indicator, v.option, u._stratum, {psu}, {areas};
