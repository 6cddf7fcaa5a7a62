-- estimate_design: one row per household of the whole design with integer ids:
--   sid  stratum;  pid  PSU = the pair (stratum, psu), as cluster ids may repeat across strata
--   (R: nest = TRUE);  cell  the household's combination of region-level values (areas).
-- Identifiers: {units}; {area_list} is a list expression of allow-listed, quoted level columns of
-- {units}, e.g. [CAST("admin1" AS VARCHAR), CAST("admin2" AS VARCHAR)] (or []::VARCHAR[]).
CREATE OR REPLACE TEMP TABLE _est_design AS
WITH u AS (
    SELECT CAST(_rid AS BIGINT)      AS _rid,
           CAST(_weight AS DOUBLE)   AS w,
           CAST(_stratum AS VARCHAR) AS stratum,
           CAST(_psu AS VARCHAR)     AS psu,
           {area_list}               AS areas
    FROM {units}
)
SELECT _rid, w,
       dense_rank() OVER (ORDER BY stratum)      AS sid,
       dense_rank() OVER (ORDER BY stratum, psu) AS pid,
       dense_rank() OVER (ORDER BY areas)        AS cell,
       areas
FROM u;
