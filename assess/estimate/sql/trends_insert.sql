-- Change of each estimate from the previous round (both rounds unsuppressed).
WITH cur AS (
    SELECT * FROM estimates WHERE round = $round AND NOT suppressed
), prev AS (
    SELECT * FROM estimates WHERE round = $prev AND NOT suppressed
), joined AS (
    SELECT
        cur.level, cur.area, cur.indicator, cur.option,
        cur.estimate, prev.estimate AS previous_estimate,
        cur.estimate - prev.estimate AS change,
        sqrt(coalesce(cur.se, 0) ^ 2 + coalesce(prev.se, 0) ^ 2) AS se_change,
        cur.ci_low <= prev.ci_high AND prev.ci_low <= cur.ci_high AS ci_overlap
    FROM cur
    JOIN prev USING (unit, level, area, indicator, option)  -- the same unit: households, or a repeat's rows
)
INSERT INTO trends
SELECT
    $round, $prev, level, area, indicator, option, estimate, previous_estimate, change, se_change,
    CASE WHEN se_change > 0 THEN abs(change) > 1.959963984540054 * se_change END AS significant,
    ci_overlap
FROM joined;
