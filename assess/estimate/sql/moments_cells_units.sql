-- moments_cells_units: the engine's `_est_cells` (estimate_cells_units) from the stored sums of every bucket,
-- for a unit type whose PSUs are its units: frame weight f of the stratum applied (sums of w: f, of w^2: f^2).
CREATE OR REPLACE TEMP TABLE _est_cells AS
SELECT k.vid, s.sid, c.cell,
       sum(m.n) AS n, sum(m.nh) AS nh, sum(m.n1) AS n1,
       any_value(w.f) * sum(m.sy) AS swy, any_value(w.f) * sum(m.a) AS a, any_value(w.f) * sum(m.b) AS b,
       any_value(w.f) * sum(m.wn) AS wn, min(m.ymin) AS ymin, max(m.ymax) AS ymax,
       any_value(w.f) * any_value(w.f) * sum(m.aa) AS aa, any_value(w.f) * any_value(w.f) * sum(m.ab) AS ab,
       any_value(w.f) * any_value(w.f) * sum(m.bb) AS bb, sum(m.n) AS npsu
FROM est_moments AS m
JOIN _est_vars AS k ON k.indicator = m.indicator AND k.option = m.option
JOIN _est_sids AS s ON s.stratum = m.stratum
JOIN _est_design AS c ON c.areas IS NOT DISTINCT FROM m.areas
JOIN _est_w AS w ON w.stratum = m.stratum
WHERE m.round = $round AND m.pass = $pass AND m.unit = $unit
GROUP BY k.vid, s.sid, c.cell;
