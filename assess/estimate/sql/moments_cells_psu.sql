-- moments_cells_psu: the engine's `_est_cells` (estimate_cells_psu) from the stored sums of every bucket, per
-- (variable, stratum, PSU, area cell): a cluster's households may sit in several buckets, so PSU totals are
-- summed over buckets here, before any square is taken. Frame weight f of the stratum applied.
CREATE OR REPLACE TEMP TABLE _est_cells AS
SELECT k.vid, p.sid, p.pid, c.cell,
       sum(m.n) AS n, sum(m.nh) AS nh, sum(m.n1) AS n1,
       any_value(w.f) * sum(m.sy) AS swy, any_value(w.f) * sum(m.a) AS a, any_value(w.f) * sum(m.b) AS b,
       any_value(w.f) * sum(m.wn) AS wn, min(m.ymin) AS ymin, max(m.ymax) AS ymax
FROM est_moments AS m
JOIN _est_vars AS k ON k.indicator = m.indicator AND k.option = m.option
JOIN _est_pids AS p ON p.stratum = m.stratum AND p.psu = m.psu
JOIN _est_design AS c ON c.areas IS NOT DISTINCT FROM m.areas
JOIN _est_w AS w ON w.stratum = m.stratum
WHERE m.round = $round AND m.pass = $pass AND m.unit = $unit
GROUP BY k.vid, p.sid, p.pid, c.cell;
