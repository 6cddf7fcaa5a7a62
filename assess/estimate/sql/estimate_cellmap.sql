-- estimate_cellmap: the domains (dom) each area cell belongs to: the national domain (lvl 0, 'all') and
-- (lvl i, value of level i) for each region level i whose value is known. Domains get integer ids.
CREATE OR REPLACE TEMP TABLE _est_cellmap AS
WITH c AS (SELECT DISTINCT cell, areas FROM _est_design),
l AS (SELECT cell, generate_subscripts(areas, 1) AS lvl, unnest(areas) AS area FROM c),
m AS (
    SELECT cell, CAST(0 AS INTEGER) AS lvl, CAST('all' AS VARCHAR) AS area FROM c
    UNION ALL
    SELECT cell, CAST(lvl AS INTEGER), area FROM l WHERE area IS NOT NULL
)
SELECT cell, lvl, area, CAST(dense_rank() OVER (ORDER BY lvl, area) AS INTEGER) AS dom
FROM m;
