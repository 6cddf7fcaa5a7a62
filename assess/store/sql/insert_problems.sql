-- Every problem of one file in one statement, from the Arrow table `_problems` registered by the caller
-- (executemany of ~10,000 rows cost ~8 s per file).
INSERT INTO quarantine (round, submission_id, file, sha256, "row", "column", value, expectation, reason, kind,
                        action, superseded_by, run_id, recorded_at, member, path)
SELECT round, submission_id, file, sha256, "row", "column", value, expectation, reason, kind,
       action, NULL, run_id, recorded_at, member, path
FROM _problems;
