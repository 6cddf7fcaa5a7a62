-- median_domains: one row per (unit type, variable, domain, unit) for the medians, with a domain id (did):
-- the whole sample (lvl 0, 'all') and each value of each level column; units of weight 0 are left out (as
-- R's quantile rules drop them). Domain ids come from the small table of distinct domains (a hash join, no
-- sort of the big one). Identifiers: {units}, {values} (allow-listed, quoted by the caller);
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
expanded AS MATERIALIZED (
    SELECT unit, indicator, _rid, w, y, unnest(lvls) AS lvl, unnest(areas) AS area FROM source
),
domains AS (
    SELECT unit, indicator, lvl, area, row_number() OVER (ORDER BY unit, indicator, lvl, area) AS did
    FROM (SELECT DISTINCT unit, indicator, lvl, area FROM expanded WHERE area IS NOT NULL)
)
SELECT d.did, e.unit, e.indicator, e.lvl, e.area, e._rid, e.w, e.y
FROM expanded AS e
JOIN domains AS d ON d.unit = e.unit AND d.indicator = e.indicator AND d.lvl = e.lvl AND d.area = e.area;
