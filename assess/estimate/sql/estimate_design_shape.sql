-- estimate_design_shape: units, PSUs, distinct (PSU, area cell) pairs and households of the design.
SELECT count(*) AS n_units, count(DISTINCT pid) AS n_psu, count(DISTINCT (pid, cell)) AS n_psu_cell,
       count(DISTINCT hh) AS n_hh
FROM _est_design;
