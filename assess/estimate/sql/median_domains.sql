-- median_domains: one row per (unit type, variable, domain, unit) for the medians, with a domain id (did):
-- the whole sample (lvl 0, 'all') and each value of each level column; units of weight 0 are left out (as
-- R's quantile rules drop them). Identifiers: {units}, {values} (allow-listed, quoted by the caller);
-- {unit} is u._unit or 'household'; {lvls} and {areas} are list expressions over the quoted level columns of {units}.
CREATE OR REPLACE TEMP TABLE _med_dom AS
WITH source AS (
    SELECT CAST({unit} AS VARCHAR) AS unit, v.indicator, v._rid,
           CAST(u._weight AS DOUBLE) AS w, CAST(v.y AS DOUBLE) AS y,
           {lvls} AS lvls, {areas} AS areas
    FROM {values} AS v
    JOIN {units} AS u ON u._rid = v._rid
    WHERE v.y IS NOT NULL AND u._weight > 0
),
expanded AS (
    SELECT unit, indicator, _rid, w, y, unnest(lvls) AS lvl, unnest(areas) AS area FROM source
)
SELECT dense_rank() OVER (ORDER BY unit, indicator, lvl, area) AS did, unit, indicator, lvl, area, _rid, w, y
FROM expanded
WHERE area IS NOT NULL;
