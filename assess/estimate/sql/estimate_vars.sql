-- estimate_vars: one row per variable (indicator, option) with an integer id, its kind and a centring
-- constant (unweighted mean of the answered y, over the mean of x for a ratio). Sums of squares are taken of
-- y - shift*x so that means of large values do not lose precision; the linearised variance does not depend
-- on the shift. {x} is "x" (the denominator of a ratio; 1 for means and proportions) or 1.0.
-- Identifiers: {values} (allow-listed, quoted by the caller).
CREATE OR REPLACE TEMP TABLE _est_vars AS
SELECT CAST(row_number() OVER (ORDER BY indicator, option) AS INTEGER) AS vid,
       indicator, option, kind, shift
FROM (
    SELECT indicator, option, max(kind) AS kind, coalesce(avg(y) / NULLIF(avg({x}), 0), 0.0) AS shift
    FROM {values}
    WHERE y IS NOT NULL AND {x} IS NOT NULL
    GROUP BY indicator, option
);
