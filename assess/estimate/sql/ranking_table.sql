CREATE TABLE IF NOT EXISTS ranking (
    round             VARCHAR,
    level             VARCHAR,
    area              VARCHAR,
    indicator         VARCHAR,
    option            VARCHAR,
    estimate          DOUBLE,
    rank              BIGINT,
    tied_with_above   BOOLEAN   -- the CI overlaps the option ranked just above: order not established
);
