-- estimate_strata: number of PSUs per stratum in the WHOLE design (all households, including those
-- that later miss a variable). R's survey keeps these counts (fpc$sampsize) when a design is subset,
-- and pads the subset with zero PSU totals up to this count.
CREATE OR REPLACE TEMP TABLE _est_strata AS
SELECT sid, count(DISTINCT pid) AS n_psu
FROM _est_design
GROUP BY sid;
