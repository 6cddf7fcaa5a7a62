-- estimate_domains: weighted totals per domain = (indicator, option, level, area) over the rows that
-- answered the variable (y not null). Ratio estimate sum(w*y) / sum(w).
-- Identifiers: {values} (allow-listed, quoted by the caller).
CREATE OR REPLACE TEMP TABLE _est_dom AS
SELECT
    v.indicator,
    v.option,
    max(v.kind)                                   AS kind,
    a.lvl,
    a.area,
    count(*)                                      AS n,
    count(*) FILTER (WHERE v.y = 1)               AS n_option,
    sum(a.w)                                      AS sw,
    sum(a.w * v.y)                                AS swy,
    sum(a.w * v.y) / NULLIF(sum(a.w), 0)          AS estimate
FROM {values} AS v
JOIN _est_areas AS a ON a._rid = v._rid
WHERE v.y IS NOT NULL
GROUP BY v.indicator, v.option, a.lvl, a.area;
