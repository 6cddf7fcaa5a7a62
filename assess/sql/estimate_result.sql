-- estimate_result: Var = sum_h n_h/(n_h-1) * sum_c (z_hc - zbar_h)^2 with zbar_h = s1/n_h over all n_h
-- PSUs of stratum h in the whole design, i.e. n_h/(n_h-1) * (s2 - s1^2/n_h). Strata with a single PSU
-- contribute 0 (R: options(survey.lonely.psu = "certainty")). CI = est +/- t(df) * SE, not clipped;
-- NULL when df <= 0. Parameters: $min_cell. Identifiers: {out}; _est_levels maps lvl -> level name,
-- _est_tq maps df -> t quantile.
CREATE OR REPLACE TABLE {out} AS
WITH var AS (
    SELECT z.indicator, z.option, z.lvl, z.area,
           sum(CASE WHEN s.n_psu > 1
                    THEN s.n_psu / (s.n_psu - 1.0) * greatest(z.s2 - z.s1 * z.s1 / s.n_psu, 0.0)
                    ELSE 0.0 END) AS v
    FROM _est_zs AS z
    JOIN _est_strata AS s ON s.sid = z.sid
    GROUP BY z.indicator, z.option, z.lvl, z.area
)
SELECT
    CAST(l.level AS VARCHAR)                         AS level,
    CAST(d.area AS VARCHAR)                          AS area,
    CAST(d.indicator AS VARCHAR)                     AS indicator,
    CAST(d.option AS VARCHAR)                        AS option,
    CAST(d.estimate AS DOUBLE)                       AS estimate,
    CAST(CASE WHEN f.df > 0 THEN d.estimate - t.q * sqrt(var.v) END AS DOUBLE) AS ci_low,
    CAST(CASE WHEN f.df > 0 THEN d.estimate + t.q * sqrt(var.v) END AS DOUBLE) AS ci_high,
    CAST(sqrt(var.v) AS DOUBLE)                      AS se,
    CAST(d.n AS BIGINT)                              AS n,
    CAST(CASE WHEN d.kind = 'prop' THEN d.n_option END AS BIGINT) AS n_option,
    CAST(d.sw AS DOUBLE)                             AS weighted_n,
    CAST(f.df AS BIGINT)                             AS df,
    CAST(d.n < $min_cell AS BOOLEAN)                 AS suppressed
FROM _est_dom AS d
JOIN _est_levels AS l ON l.lvl = d.lvl
LEFT JOIN var ON var.indicator = d.indicator AND var.option = d.option AND var.lvl = d.lvl AND var.area = d.area
LEFT JOIN _est_df AS f ON f.indicator = d.indicator AND f.option = d.option
LEFT JOIN _est_tq AS t ON t.df = f.df
ORDER BY d.lvl, d.indicator, d.option, d.area;
