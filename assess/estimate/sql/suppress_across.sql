-- suppress_across: complementary suppression across the areas (groups) of one level. The areas of a level
-- add up to the whole sample, so when exactly one area of an (indicator, option) is suppressed its counts are
-- the national ones minus the others: suppress the area with the smallest count (above 0) too.
-- Identifiers: {table} (allow-listed, quoted by the caller).
WITH grp AS (
    SELECT unit, level, indicator, option
    FROM {table}
    WHERE level <> 'national'
    GROUP BY unit, level, indicator, option
    HAVING count(*) FILTER (WHERE suppressed) = 1 AND count(*) FILTER (WHERE NOT suppressed) >= 1
),
pick AS (
    SELECT t.unit, t.level, t.indicator, t.option, arg_min(t.area, coalesce(t.n_option, t.n)) AS area
    FROM {table} AS t
    JOIN grp AS g ON g.unit = t.unit AND g.level = t.level AND g.indicator = t.indicator AND g.option = t.option
    WHERE NOT t.suppressed AND coalesce(t.n_option, t.n) > 0
    GROUP BY t.unit, t.level, t.indicator, t.option
)
UPDATE {table} AS t SET suppressed = true
FROM pick AS p
WHERE t.unit = p.unit AND t.level = p.level AND t.indicator = p.indicator AND t.option = p.option
  AND t.area = p.area;
