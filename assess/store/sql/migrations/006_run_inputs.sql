-- The input registry (assess/store/inputs.py): what each stage of a run (estimate, report) was computed from,
-- so that a run can tell what changed since the last one, and do nothing when nothing did.
-- One row per completed stage: when it finished and what it produced (JSON: the estimate summary, or the
-- report files written).
CREATE TABLE IF NOT EXISTS stage_runs (
    run_id      VARCHAR NOT NULL,
    round       VARCHAR NOT NULL,
    stage       VARCHAR NOT NULL,   -- 'estimate' | 'report'
    finished_at TIMESTAMP NOT NULL,
    result      VARCHAR,            -- JSON
    PRIMARY KEY (run_id, stage)
);
-- The fingerprint of each input a completed stage used. `detail` keeps what a later run needs to say what
-- changed (for `loaded_files`: the JSON list of the files' sha256, so the rows added, replaced or removed
-- since are those of the files not in the list, and of the files missing from the store).
CREATE TABLE IF NOT EXISTS stage_inputs (
    run_id      VARCHAR NOT NULL,
    stage       VARCHAR NOT NULL,
    name        VARCHAR NOT NULL,   -- e.g. 'loaded_files', 'xlsform', 'config[report]'
    fingerprint VARCHAR NOT NULL,
    detail      VARCHAR,
    PRIMARY KEY (run_id, stage, name)
);
-- Inbox files already hashed: (path, size, mtime) -> sha256, so that a run with nothing new reads no file's
-- content (a file whose size or time changed is hashed again).
CREATE TABLE IF NOT EXISTS inbox_hashes (
    path     VARCHAR PRIMARY KEY,
    size     BIGINT NOT NULL,
    mtime_ns BIGINT NOT NULL,
    sha256   VARCHAR NOT NULL
);
