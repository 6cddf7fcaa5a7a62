-- estimate_zsums_split: general case where a PSU may span several area cells: PSU totals a_c, b_c are
-- first summed within each domain, then per (variable, domain, stratum): sums of a_c, b_c, a_c^2, a_c*b_c, b_c^2.
CREATE OR REPLACE TEMP TABLE _est_zs AS
WITH dp AS (
    SELECT c.vid, m.dom, c.sid, c.pid,
           sum(c.n) AS n, sum(c.nh) AS nh, sum(c.n1) AS n1, sum(c.swy) AS swy, sum(c.a) AS a, sum(c.b) AS b, sum(c.wn) AS wn,
           min(c.ymin) AS ymin, max(c.ymax) AS ymax
    FROM _est_cells AS c
    JOIN _est_cellmap AS m ON m.cell = c.cell
    GROUP BY c.vid, m.dom, c.sid, c.pid
)
SELECT vid, dom, sid,
       sum(n) AS n, sum(nh) AS nh, sum(n1) AS n1, sum(swy) AS swy, sum(a) AS a, sum(b) AS b, sum(wn) AS wn, min(ymin) AS ymin, max(ymax) AS ymax,
       sum(a * a) AS aa, sum(a * b) AS ab, sum(b * b) AS bb
FROM dp
GROUP BY vid, dom, sid;
