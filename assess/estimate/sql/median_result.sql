-- median_result: one row per domain in the shape of the estimates table. _med_est holds, per domain (as
-- indicator = did), the design estimate p-hat of the share with y <= the median, its SE and df (from
-- compute_estimates: the subset design of the domain); _med_q the quantiles (k 0 = median, 1 = lower,
-- 2 = upper bound). Parameters: $min_cell; {levels} maps lvl -> level name (a VALUES list built by the caller).
WITH doms AS (
    SELECT did, any_value(unit) AS unit, any_value(indicator) AS indicator, any_value(lvl) AS lvl,
           any_value(area) AS area, count(*) AS n, sum(w) AS wn
    FROM _med_dom
    GROUP BY did
),
hh AS (
    SELECT did, count(DISTINCT u._hh) AS nh FROM _med_dom AS d JOIN _med_units AS u ON u._rid = d._rid GROUP BY did
)
SELECT
    CAST(d.unit AS VARCHAR)                                   AS unit,
    CAST(l.level AS VARCHAR)                                  AS level,
    CAST(d.area AS VARCHAR)                                   AS area,
    CAST(d.indicator AS VARCHAR)                              AS indicator,
    CAST('' AS VARCHAR)                                       AS option,
    CAST(q0.q AS DOUBLE)                                      AS estimate,
    CAST(q1.q AS DOUBLE)                                      AS ci_low,
    CAST(q2.q AS DOUBLE)                                      AS ci_high,
    CAST((q2.q - q1.q) / (2 * e.tq) AS DOUBLE)                AS se,
    CAST(d.n AS BIGINT)                                       AS n,
    CAST(hh.nh AS BIGINT)                                     AS n_households,
    CAST(NULL AS BIGINT)                                      AS n_option,
    CAST(d.wn AS DOUBLE)                                      AS weighted_n,
    CAST(e.df AS BIGINT)                                      AS df,
    CAST(d.n < $min_cell OR hh.nh < $min_cell AS BOOLEAN)    AS suppressed
FROM doms AS d
JOIN hh ON hh.did = d.did
JOIN (VALUES {levels}) AS l(lvl, level) ON l.lvl = d.lvl
LEFT JOIN _med_est AS e ON e.did = d.did
LEFT JOIN _med_q AS q0 ON q0.did = d.did AND q0.k = 0
LEFT JOIN _med_q AS q1 ON q1.did = d.did AND q1.k = 1
LEFT JOIN _med_q AS q2 ON q2.did = d.did AND q2.k = 2
ORDER BY d.lvl, d.indicator, d.area;
