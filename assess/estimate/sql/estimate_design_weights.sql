-- estimate_design_weights: write the post-stratification weight w_h = (N_h/N)/(n_h/n) of each stratum
-- (computed by the caller into the registered relation _est_frame_w(stratum, w)) into the units table.
-- Identifiers: {units}, {weight_col}, {strata_col} (allow-listed, quoted by the caller).
UPDATE {units} AS u
SET {weight_col} = f.w
FROM _est_frame_w AS f
WHERE trim(CAST(u.{strata_col} AS VARCHAR)) = f.stratum;
