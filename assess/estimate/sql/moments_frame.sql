-- moments_frame: the finished design of one unit type from `est_design` and `est_moments`: stratum ids
-- (_est_sids), PSU ids (_est_pids), PSUs per stratum in the whole design (_est_strata), variables with their
-- stored centring constant (_est_vars) and area cells (_est_design: cell, areas; read by estimate_cellmap).
CREATE OR REPLACE TEMP TABLE _est_sids AS
SELECT stratum, CAST(dense_rank() OVER (ORDER BY stratum) AS BIGINT) AS sid
FROM (SELECT DISTINCT stratum FROM est_design WHERE round = $round AND pass = $pass AND unit = $unit);

CREATE OR REPLACE TEMP TABLE _est_pids AS
SELECT d.stratum, d.psu, s.sid, CAST(dense_rank() OVER (ORDER BY d.stratum, d.psu) AS BIGINT) AS pid
FROM (SELECT DISTINCT stratum, psu FROM est_design
      WHERE round = $round AND pass = $pass AND unit = $unit AND psu IS NOT NULL) AS d
JOIN _est_sids AS s USING (stratum);

CREATE OR REPLACE TEMP TABLE _est_strata AS
SELECT s.sid, CASE WHEN count(d.psu) = 0 THEN sum(d.units) ELSE count(DISTINCT d.psu) END AS n_psu
FROM est_design AS d
JOIN _est_sids AS s USING (stratum)
WHERE d.round = $round AND d.pass = $pass AND d.unit = $unit
GROUP BY s.sid;

CREATE OR REPLACE TEMP TABLE _est_vars AS
SELECT CAST(row_number() OVER (ORDER BY indicator, option) AS INTEGER) AS vid, indicator, option, kind, shift
FROM (
    SELECT m.indicator, m.option, max(m.kind) AS kind, any_value(k.shift) AS shift
    FROM est_moments AS m
    JOIN est_shifts AS k ON k.round = m.round AND k.pass = m.pass AND k.indicator = m.indicator AND k.option = m.option
    WHERE m.round = $round AND m.pass = $pass AND m.unit = $unit
    GROUP BY m.indicator, m.option
);

CREATE OR REPLACE TEMP TABLE _est_design AS
SELECT areas, CAST(dense_rank() OVER (ORDER BY areas) AS BIGINT) AS cell
FROM (SELECT DISTINCT areas FROM est_moments WHERE round = $round AND pass = $pass AND unit = $unit);
