-- The store as release 0.1.0 created it (schema version 1). Never edit: change the store with a new
-- file in sql/migrations/ (assess/store/connection.py runs them, on new and old stores alike).
-- The processed store. One row per file, per submission, per select_multiple option, per problem.
CREATE TABLE IF NOT EXISTS files (
    sha256       VARCHAR NOT NULL,
    round        VARCHAR NOT NULL,
    name         VARCHAR NOT NULL,
    format       VARCHAR,
    rows         BIGINT,
    accepted     BIGINT,
    quarantined  BIGINT,
    warnings     BIGINT,
    status       VARCHAR NOT NULL,   -- loaded | rejected
    reason       VARCHAR,
    archive_path VARCHAR,
    received_at  TIMESTAMP,
    processed_at TIMESTAMP,
    run_id       VARCHAR,
    PRIMARY KEY (sha256, round)
);
CREATE TABLE IF NOT EXISTS submissions (
    round         VARCHAR NOT NULL,
    submission_id VARCHAR NOT NULL,
    source_file   VARCHAR NOT NULL,
    source_sha256 VARCHAR NOT NULL,
    source_row    BIGINT NOT NULL,
    loaded_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (round, submission_id)
);
CREATE TABLE IF NOT EXISTS selections (
    round         VARCHAR NOT NULL,
    submission_id VARCHAR NOT NULL,
    question      VARCHAR NOT NULL,
    option        VARCHAR NOT NULL,
    selected      BOOLEAN,           -- NULL: option not offered / question not answered
    PRIMARY KEY (round, submission_id, question, option)
);
CREATE TABLE IF NOT EXISTS quarantine (
    round         VARCHAR NOT NULL,
    submission_id VARCHAR,
    file          VARCHAR NOT NULL,
    sha256        VARCHAR NOT NULL,
    "row"         BIGINT,
    "column"      VARCHAR,
    value         VARCHAR,
    expectation   VARCHAR NOT NULL,
    reason        VARCHAR NOT NULL,
    kind          VARCHAR NOT NULL,
    action        VARCHAR NOT NULL,  -- quarantine | warn
    superseded_by VARCHAR,
    run_id        VARCHAR,
    recorded_at   TIMESTAMP
);
CREATE TABLE IF NOT EXISTS runs (
    run_id      VARCHAR PRIMARY KEY,
    round       VARCHAR,
    started_at  TIMESTAMP,
    finished_at TIMESTAMP,
    files       BIGINT,
    accepted    BIGINT,
    quarantined BIGINT,
    status      VARCHAR
);
