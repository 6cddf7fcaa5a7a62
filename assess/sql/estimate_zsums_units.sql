-- estimate_zsums_units: same as estimate_zsums_psu when every PSU is a single household (no clusters):
-- the PSU total is the household's own z, so the PSU-level grouping is skipped.
-- Identifiers: {values} (allow-listed, quoted by the caller).
CREATE OR REPLACE TEMP TABLE _est_zs AS
WITH z AS (
    SELECT v.indicator, v.option, a.lvl, a.area, a.sid,
           a.w * (v.y - e.estimate) / e.sw AS z
    FROM {values} AS v
    JOIN _est_areas AS a ON a._rid = v._rid
    JOIN _est_dom AS e
      ON e.indicator = v.indicator AND e.option = v.option AND e.lvl = a.lvl AND e.area = a.area
    WHERE v.y IS NOT NULL
)
SELECT indicator, option, lvl, area, sid, sum(z) AS s1, sum(z * z) AS s2
FROM z
GROUP BY indicator, option, lvl, area, sid;
