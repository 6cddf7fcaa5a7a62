-- The fingerprints a completed stage used.
SELECT name, fingerprint, detail FROM stage_inputs WHERE run_id = $run AND stage = $stage ORDER BY name;
