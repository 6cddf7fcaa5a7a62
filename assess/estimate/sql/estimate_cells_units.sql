-- estimate_cells_units: sums per (variable, stratum, area cell) over households that answered, for a
-- design where every PSU is one household (no clusters): the PSU total of a household is its own value,
-- so sums of squares of PSU totals are taken directly (yc = y - shift):
--   a = sum w*yc, b = sum w, aa = sum (w*yc)^2, ab = sum w*w*yc, bb = sum w^2, npsu = PSUs answering.
-- nh = households among them: {nh} is count(*) when every unit is its own household, else
-- count(DISTINCT d.hh) (a household's units share its stratum, PSU and areas, so these sums add up).
-- A ratio's denominator is {x} ("v.x"; 1.0 for means and proportions): b = sum w*x, wn = sum w.
-- Identifiers: {values} (allow-listed, quoted by the caller).
CREATE OR REPLACE TEMP TABLE _est_cells AS
SELECT k.vid, d.sid, d.cell,
       count(*)                                   AS n,
       {nh}                                       AS nh,
       count(*) FILTER (WHERE v.y = 1)            AS n1,
       sum(d.w * v.y)                             AS swy,
       sum(d.w * (v.y - k.shift * {x}))          AS a,
       sum(d.w * {x})                             AS b,
       sum(d.w)                                   AS wn,
       min(v.y)                                   AS ymin,
       max(v.y)                                   AS ymax,
       sum((d.w * (v.y - k.shift * {x})) * (d.w * (v.y - k.shift * {x}))) AS aa,
       sum(d.w * d.w * (v.y - k.shift * {x}) * {x}) AS ab,
       sum(d.w * d.w * {x} * {x})                 AS bb,
       count(*)                                   AS npsu
FROM {values} AS v
JOIN _est_design AS d ON d._rid = v._rid
JOIN _est_vars AS k ON k.indicator = v.indicator AND k.option = v.option
WHERE v.y IS NOT NULL AND {x} IS NOT NULL
GROUP BY k.vid, d.sid, d.cell;
