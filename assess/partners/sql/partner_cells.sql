-- The round's household estimates as coverage and people in need read them.
SELECT level, area, indicator, option, estimate, ci_low, ci_high, suppressed
FROM estimates
WHERE round = $round AND coalesce(unit, 'household') = 'household'
