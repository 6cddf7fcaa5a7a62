-- estimate_areas_national: every household belongs to the national domain (lvl 0, area 'all').
CREATE OR REPLACE TEMP TABLE _est_areas AS
SELECT CAST(0 AS INTEGER) AS lvl, CAST('all' AS VARCHAR) AS area, _rid, w, sid, pid
FROM _est_design;
