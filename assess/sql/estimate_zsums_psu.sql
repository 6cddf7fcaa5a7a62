-- estimate_zsums_psu: linearisation. Influence of a household in domain D:
--   z_i = w_i * (y_i - est_D) / sum_w_D   (0 outside D and for households missing y),
-- summed to PSU totals z_hc, then per stratum: s1 = sum_c z_hc, s2 = sum_c z_hc^2 (PSUs with no row in
-- D have z_hc = 0 and add nothing to either sum). Used when some PSU holds more than one household.
-- Identifiers: {values} (allow-listed, quoted by the caller).
CREATE OR REPLACE TEMP TABLE _est_zs AS
WITH psu AS (
    SELECT v.indicator, v.option, a.lvl, a.area, a.sid, a.pid,
           sum(a.w * (v.y - e.estimate)) / any_value(e.sw) AS z
    FROM {values} AS v
    JOIN _est_areas AS a ON a._rid = v._rid
    JOIN _est_dom AS e
      ON e.indicator = v.indicator AND e.option = v.option AND e.lvl = a.lvl AND e.area = a.area
    WHERE v.y IS NOT NULL
    GROUP BY v.indicator, v.option, a.lvl, a.area, a.sid, a.pid
)
SELECT indicator, option, lvl, area, sid, sum(z) AS s1, sum(z * z) AS s2
FROM psu
GROUP BY indicator, option, lvl, area, sid;
