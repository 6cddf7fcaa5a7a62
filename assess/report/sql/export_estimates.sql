-- Estimates as shared: suppressed cells keep their n and n_households but lose the value, interval and degrees
-- of freedom. `unit` says what was counted: households, or the rows (members) of a repeat group.
-- Labels are added in Python from the XLSForm (assess/report/exports.py).
SELECT
    round, unit, level, area, indicator, option,
    CASE WHEN suppressed THEN NULL ELSE estimate END AS estimate,
    CASE WHEN suppressed THEN NULL ELSE ci_low END AS ci_low,
    CASE WHEN suppressed THEN NULL ELSE ci_high END AS ci_high,
    CASE WHEN suppressed THEN NULL ELSE se END AS se,
    CASE WHEN suppressed THEN NULL ELSE df END AS df,
    n,
    n_households,
    CASE WHEN suppressed THEN NULL ELSE n_option END AS n_option,
    CASE WHEN suppressed THEN NULL ELSE weighted_n END AS weighted_n,
    suppressed
FROM estimates
WHERE $round IS NULL OR round = $round
ORDER BY round, indicator, level = 'national' DESC, level, area, option;
