INSERT INTO quarantine (round, submission_id, file, sha256, "row", "column", value, expectation, reason, kind,
                        action, superseded_by, run_id, recorded_at, member, path)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
