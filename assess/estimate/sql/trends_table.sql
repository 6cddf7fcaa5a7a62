CREATE TABLE IF NOT EXISTS trends (
    round             VARCHAR,
    previous_round    VARCHAR,
    level             VARCHAR,
    area              VARCHAR,
    indicator         VARCHAR,
    option            VARCHAR,
    estimate          DOUBLE,
    previous_estimate DOUBLE,
    change            DOUBLE,
    se_change         DOUBLE,
    significant       BOOLEAN,
    ci_overlap        BOOLEAN
);
