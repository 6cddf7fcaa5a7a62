-- Data quality and the cleaning log (issue 17). Raw rows are never edited: a filled cleaning log is stored as
-- changes (the audit trail, one row per log line, with the file, its sha256, time and line) and as the
-- effective layer the estimates read through temp views (assess/clean/layer.py). `cleaning_findings` holds
-- every finding already written to a log, so a run writes only findings no log has carried yet.
CREATE TABLE IF NOT EXISTS cleaning_findings (
    round         VARCHAR NOT NULL,
    submission_id VARCHAR NOT NULL,
    path          VARCHAR NOT NULL DEFAULT '',   -- '' for the household, `roster[2]` for a member row
    question      VARCHAR NOT NULL,
    check_id      VARCHAR NOT NULL,
    old_value     VARCHAR,
    issue         VARCHAR,
    run_id        VARCHAR,
    log_file      VARCHAR,
    found_at      TIMESTAMP,
    PRIMARY KEY (round, submission_id, path, question, check_id)
);
CREATE TABLE IF NOT EXISTS cleaning_logs (
    sha256      VARCHAR NOT NULL,
    round       VARCHAR NOT NULL,
    name        VARCHAR NOT NULL,
    lines       BIGINT,
    applied     BIGINT,
    invalid     BIGINT,
    warnings    BIGINT,
    received_at TIMESTAMP,
    run_id      VARCHAR,
    PRIMARY KEY (sha256, round)
);
CREATE TABLE IF NOT EXISTS cleaning_changes (
    round         VARCHAR NOT NULL,
    sha256        VARCHAR NOT NULL,
    file          VARCHAR NOT NULL,
    line          BIGINT NOT NULL,   -- spreadsheet row (header = 1)
    applied_at    TIMESTAMP NOT NULL,
    submission_id VARCHAR,
    path          VARCHAR NOT NULL DEFAULT '',
    question      VARCHAR,
    change_type   VARCHAR,
    old_value     VARCHAR,
    new_value     VARCHAR,           -- as stored: a private question's value is its keyed hash
    check_id      VARCHAR,
    issue         VARCHAR,
    status        VARCHAR NOT NULL,  -- applied | invalid
    message       VARCHAR            -- why invalid, or the warning (old value differs)
);
CREATE TABLE IF NOT EXISTS cleaning_effective (
    round         VARCHAR NOT NULL,
    submission_id VARCHAR NOT NULL,
    path          VARCHAR NOT NULL DEFAULT '',
    question      VARCHAR NOT NULL,  -- '*' for remove_survey
    change_type   VARCHAR NOT NULL,  -- change_response | blank_response | remove_survey
    new_value     VARCHAR,
    check_id      VARCHAR,
    sha256        VARCHAR NOT NULL,
    line          BIGINT NOT NULL,
    PRIMARY KEY (round, submission_id, path, question)
);
