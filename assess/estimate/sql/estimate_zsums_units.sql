-- estimate_zsums_units: per (variable, domain, stratum) sums from the household-level cells.
CREATE OR REPLACE TEMP TABLE _est_zs AS
SELECT c.vid, m.dom, c.sid,
       sum(c.n) AS n, sum(c.nh) AS nh, sum(c.n1) AS n1, sum(c.swy) AS swy, sum(c.a) AS a, sum(c.b) AS b, sum(c.wn) AS wn, min(c.ymin) AS ymin, max(c.ymax) AS ymax,
       sum(c.aa) AS aa, sum(c.ab) AS ab, sum(c.bb) AS bb
FROM _est_cells AS c
JOIN _est_cellmap AS m ON m.cell = c.cell
GROUP BY c.vid, m.dom, c.sid;
