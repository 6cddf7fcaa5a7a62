-- estimate_design_shape: households, PSUs, and distinct (PSU, area cell) pairs of the design.
SELECT count(*) AS n_units, count(DISTINCT pid) AS n_psu, count(DISTINCT (pid, cell)) AS n_psu_cell
FROM _est_design;
