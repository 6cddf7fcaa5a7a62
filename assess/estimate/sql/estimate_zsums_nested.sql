-- estimate_zsums_nested: every PSU lies within one area cell (clusters nested in the region levels), so
-- a cell row of _est_cells is already the PSU total for every domain containing the cell; per
-- (variable, domain, stratum): sums of a_c, b_c, a_c^2, a_c*b_c, b_c^2.
CREATE OR REPLACE TEMP TABLE _est_zs AS
SELECT c.vid, m.dom, c.sid,
       sum(c.n) AS n, sum(c.nh) AS nh, sum(c.n1) AS n1, sum(c.swy) AS swy, sum(c.a) AS a, sum(c.b) AS b, sum(c.wn) AS wn, min(c.ymin) AS ymin, max(c.ymax) AS ymax,
       sum(c.a * c.a) AS aa, sum(c.a * c.b) AS ab, sum(c.b * c.b) AS bb
FROM _est_cells AS c
JOIN _est_cellmap AS m ON m.cell = c.cell
GROUP BY c.vid, m.dom, c.sid;
