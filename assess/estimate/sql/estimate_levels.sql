-- estimate_levels: level number -> level name (0 = 'national'). Parameters: $lvls, $names (lists).
CREATE OR REPLACE TEMP TABLE _est_levels AS
SELECT CAST(unnest($lvls) AS INTEGER) AS lvl, CAST(unnest($names) AS VARCHAR) AS level;
