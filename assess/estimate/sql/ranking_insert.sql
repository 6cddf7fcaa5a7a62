-- Options of each proportion indicator ranked by estimate within each area (suppressed cells left out); an
-- indicator's unit (households, or members of a repeat) is part of its key.
WITH ranked AS (
    SELECT
        level, area, indicator, option, estimate, ci_low, ci_high,
        row_number() OVER w AS rank,
        lag(ci_low) OVER w AS above_ci_low
    FROM estimates
    WHERE round = $round AND option <> '' AND NOT suppressed AND estimate IS NOT NULL
    WINDOW w AS (PARTITION BY unit, level, area, indicator ORDER BY estimate DESC, option)
)
INSERT INTO ranking
SELECT $round, level, area, indicator, option, estimate, rank,
       CASE WHEN rank = 1 THEN false ELSE ci_high >= above_ci_low END
FROM ranked;
