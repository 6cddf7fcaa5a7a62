-- suppress_within: complementary suppression inside a distribution. When the options of an indicator in a
-- domain are exclusive (their counts add up to the domain's n: a select_one) and exactly one of the options
-- chosen by someone is suppressed, its count is n minus the others: suppress the smallest other one too.
-- Identifiers: {table} (allow-listed, quoted by the caller).
WITH dist AS (
    SELECT unit, level, area, indicator
    FROM {table}
    WHERE option <> '' AND n_option IS NOT NULL
    GROUP BY unit, level, area, indicator
    HAVING sum(n_option) = max(n) AND count(*) > 1
       AND count(*) FILTER (WHERE suppressed AND n_option > 0) = 1
       AND count(*) FILTER (WHERE NOT suppressed AND n_option > 0) >= 1
),
pick AS (
    SELECT t.unit, t.level, t.area, t.indicator, arg_min(t.option, t.n_option) AS option
    FROM {table} AS t
    JOIN dist AS d ON d.unit = t.unit AND d.level = t.level AND d.area = t.area AND d.indicator = t.indicator
    WHERE NOT t.suppressed AND t.n_option > 0
    GROUP BY t.unit, t.level, t.area, t.indicator
)
UPDATE {table} AS t SET suppressed = true
FROM pick AS p
WHERE t.unit = p.unit AND t.level = p.level AND t.area = p.area AND t.indicator = p.indicator
  AND t.option = p.option;
