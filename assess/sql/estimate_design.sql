-- estimate_design: one row per household of the whole design, with integer stratum / PSU ids.
-- A PSU is the pair (stratum, psu): cluster ids may repeat across strata (R: nest = TRUE).
-- Identifiers: {units} (allow-listed, quoted by the caller).
CREATE OR REPLACE TEMP TABLE _est_design AS
SELECT
    CAST(_rid AS BIGINT)                                              AS _rid,
    CAST(_weight AS DOUBLE)                                           AS w,
    dense_rank() OVER (ORDER BY CAST(_stratum AS VARCHAR))            AS sid,
    dense_rank() OVER (ORDER BY CAST(_stratum AS VARCHAR), CAST(_psu AS VARCHAR)) AS pid
FROM {units};
