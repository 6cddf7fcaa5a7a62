-- A quarantined household released by a cleaning log (issue 17): its quarantine lines stay (never lost), marked
-- with the log file, sha256 and line whose change made the row pass its checks again. `superseded_by` names the
-- log too, so every "kept aside now" query (superseded_by IS NULL) leaves the released row out.
ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS released_by VARCHAR;
ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS released_sha256 VARCHAR;
ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS released_line BIGINT;
