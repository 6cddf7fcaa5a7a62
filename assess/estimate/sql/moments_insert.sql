-- moments_insert: the sums of the buckets being recomputed, from `est_units` / `est_values` built for their
-- households only, per (bucket, unit type, variable, stratum, PSU, area cell); w is the unit's own weight
-- ([design] weight, else 1). {psu} is NULL for households when every household is its own PSU; {areas} the
-- list of the units' area keys.
INSERT INTO est_moments
SELECT $round, u._bucket, u._unit, v.indicator, v.option, max(v.kind), u._stratum, {psu}, {areas},
       count(*), count(DISTINCT u._hh), count(*) FILTER (WHERE v.y = 1),
       sum(u._weight * v.y),
       sum(u._weight * (v.y - k.shift)),
       sum(u._weight),
       sum((u._weight * (v.y - k.shift)) * (u._weight * (v.y - k.shift))),
       sum(u._weight * u._weight * (v.y - k.shift)),
       sum(u._weight * u._weight),
       min(v.y), max(v.y)
FROM est_values AS v
JOIN est_units AS u ON u._rid = v._rid
JOIN est_shifts AS k ON k.round = $round AND k.indicator = v.indicator AND k.option = v.option
WHERE v.y IS NOT NULL
GROUP BY u._bucket, u._unit, v.indicator, v.option, u._stratum, {psu}, {areas};
