-- moments_design: units of the design per (bucket, unit type, stratum, PSU), answering or not: the PSU counts
-- of each stratum (R's survey keeps them for every subset) and the households of each stratum (frame weights).
INSERT INTO est_design
SELECT $round, $pass, u._bucket, u._unit, u._stratum, {psu}, count(*)
FROM {units} AS u
GROUP BY u._bucket, u._unit, u._stratum, {psu};
