-- estimate_result: estimates, SE and CI per (variable, domain), for one unit type (the caller creates or
-- appends to its output table with this query).
-- Domain D: sw = sum w*x (x = 1 but for a ratio's denominator), est = sum w*y / sw; with yc = y - shift*x,
-- e = sum w*yc / sw (= est - shift): z_i = w_i (y_i - est x_i) / sw, svymean's and svyratio's linearisation.
-- PSU c of stratum h: z_hc = (a_c - e*b_c) / sw (0 for PSUs without a household of D answering), so
--   s1_h = sum_c z_hc = (a_h - e*b_h) / sw,  s2_h = sum_c z_hc^2 = (aa_h - 2e*ab_h + e^2*bb_h) / sw^2
--   Var = sum_h n_h/(n_h-1) * (s2_h - s1_h^2/n_h),  n_h = PSUs of stratum h in the whole design.
-- Strata with a single PSU contribute 0 (R: options(survey.lonely.psu = "certainty")).
-- CI = est -/+ t(df) * SE, not clipped; NULL when df <= 0.
-- A cell is suppressed when it has fewer than $min_cell units or fewer than $min_cell households, or (a
-- proportion) when fewer than $min_cell units but at least one chose the option (the cell's own count).
-- Parameters: $min_cell, $unit ('household' or the repeat's name). _est_levels maps lvl -> level name,
-- _est_tq maps df -> t quantile.
WITH dom AS (
    SELECT vid, dom,
           sum(n) AS n, sum(nh) AS nh, sum(n1) AS n1, sum(b) AS sw, sum(wn) AS wn, sum(swy) AS swy,
           sum(a) / NULLIF(sum(b), 0) AS e,
           min(ymin) = max(ymax) AS constant
    FROM _est_zs
    GROUP BY vid, dom
),
var AS (
    SELECT z.vid, z.dom,
           sum(CASE WHEN d.constant AND k.kind <> 'ratio' THEN 0.0  -- all answers equal: every z is exactly 0 (as in R)
                    WHEN s.n_psu > 1 THEN
                   s.n_psu / (s.n_psu - 1.0) * greatest(
                       (z.aa - 2 * d.e * z.ab + d.e * d.e * z.bb) / (d.sw * d.sw)
                       - ((z.a - d.e * z.b) / d.sw) * ((z.a - d.e * z.b) / d.sw) / s.n_psu,
                       0.0)
               ELSE 0.0 END) AS v
    FROM _est_zs AS z
    JOIN dom AS d ON d.vid = z.vid AND d.dom = z.dom
    JOIN _est_strata AS s ON s.sid = z.sid
    JOIN _est_vars AS k ON k.vid = z.vid
    GROUP BY z.vid, z.dom
),
doms AS (SELECT DISTINCT dom, lvl, area FROM _est_cellmap)
SELECT
    CAST($unit AS VARCHAR)                                                     AS unit,
    CAST(l.level AS VARCHAR)                                                   AS level,
    CAST(a.area AS VARCHAR)                                                    AS area,
    CAST(k.indicator AS VARCHAR)                                               AS indicator,
    CAST(k.option AS VARCHAR)                                                  AS option,
    CAST(d.swy / NULLIF(d.sw, 0) AS DOUBLE)                                    AS estimate,
    CAST(CASE WHEN f.df > 0 THEN d.swy / NULLIF(d.sw, 0) - t.q * sqrt(var.v) END AS DOUBLE) AS ci_low,
    CAST(CASE WHEN f.df > 0 THEN d.swy / NULLIF(d.sw, 0) + t.q * sqrt(var.v) END AS DOUBLE) AS ci_high,
    CAST(sqrt(var.v) AS DOUBLE)                                                AS se,
    CAST(d.n AS BIGINT)                                                        AS n,
    CAST(d.nh AS BIGINT)                                                       AS n_households,
    CAST(CASE WHEN k.kind = 'prop' THEN d.n1 END AS BIGINT)                    AS n_option,
    CAST(d.wn AS DOUBLE)                                                       AS weighted_n,
    CAST(f.df AS BIGINT)                                                       AS df,
    CAST(d.n < $min_cell OR d.nh < $min_cell
         OR (k.kind = 'prop' AND d.n1 BETWEEN 1 AND $min_cell - 1) AS BOOLEAN)       AS suppressed
FROM dom AS d
JOIN doms AS a ON a.dom = d.dom
JOIN _est_levels AS l ON l.lvl = a.lvl
JOIN _est_vars AS k ON k.vid = d.vid
LEFT JOIN var ON var.vid = d.vid AND var.dom = d.dom
LEFT JOIN _est_df AS f ON f.vid = d.vid
LEFT JOIN _est_tq AS t ON t.df = f.df
ORDER BY a.lvl, k.indicator, k.option, a.area;
