-- estimate_areas_level: households with a known value of one region level (lvl = $lvl).
-- Identifiers: {units}, {level_col} (a column of {units}; allow-listed, quoted by the caller).
INSERT INTO _est_areas
SELECT CAST($lvl AS INTEGER) AS lvl, CAST(u.{level_col} AS VARCHAR) AS area, d._rid, d.w, d.sid, d.pid
FROM {units} AS u
JOIN _est_design AS d ON d._rid = CAST(u._rid AS BIGINT)
WHERE u.{level_col} IS NOT NULL;
