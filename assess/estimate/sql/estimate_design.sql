-- estimate_design: one row per unit (household, or member of a repeat) of the whole design of one unit
-- type, with integer ids:
--   sid  stratum;  pid  PSU = the pair (stratum, psu), as cluster ids may repeat across strata
--   (R: nest = TRUE);  cell  the unit's combination of region-level values (areas);  hh  its household.
-- Identifiers: {units}; {area_list} is a list expression of allow-listed, quoted level columns of
-- {units}, e.g. [CAST("admin1" AS VARCHAR), CAST("admin2" AS VARCHAR)] (or []::VARCHAR[]); {hh} is
-- "_hh" or "_rid" (a unit that is its own household); {where} is empty or `WHERE "_unit" = $unit`.
CREATE OR REPLACE TEMP TABLE _est_design AS
WITH u AS (
    SELECT CAST(_rid AS BIGINT)      AS _rid,
           CAST(_weight AS DOUBLE)   AS w,
           CAST(_stratum AS VARCHAR) AS stratum,
           CAST(_psu AS VARCHAR)     AS psu,
           {area_list}               AS areas,
           {hh}                      AS hh
    FROM {units}
    {where}
)
SELECT _rid, w, hh,
       dense_rank() OVER (ORDER BY stratum)      AS sid,
       dense_rank() OVER (ORDER BY stratum, psu) AS pid,
       dense_rank() OVER (ORDER BY areas)        AS cell,
       areas
FROM u;
