-- Estimates as shared: suppressed cells keep their n but lose the value, interval and degrees of freedom.
-- Labels are added in Python from the XLSForm (assess/report/exports.py).
SELECT
    round, level, area, indicator, option,
    CASE WHEN suppressed THEN NULL ELSE estimate END AS estimate,
    CASE WHEN suppressed THEN NULL ELSE ci_low END AS ci_low,
    CASE WHEN suppressed THEN NULL ELSE ci_high END AS ci_high,
    CASE WHEN suppressed THEN NULL ELSE se END AS se,
    CASE WHEN suppressed THEN NULL ELSE df END AS df,
    n,
    CASE WHEN suppressed THEN NULL ELSE n_option END AS n_option,
    CASE WHEN suppressed THEN NULL ELSE weighted_n END AS weighted_n,
    suppressed
FROM estimates
WHERE $round IS NULL OR round = $round
ORDER BY round, indicator, level = 'national' DESC, level, area, option;
