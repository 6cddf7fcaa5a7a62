-- The round's estimates (one row per round x unit x level x area x indicator x option), written by run_estimates.
-- Migration 005 creates the same table in every store; this keeps a store opened without migrations working.
CREATE TABLE IF NOT EXISTS estimates (
    round        VARCHAR,
    level        VARCHAR,   -- 'national' or a [regions] level
    area         VARCHAR,   -- 'all' for national
    indicator    VARCHAR,
    option       VARCHAR,   -- '' for means
    estimate     DOUBLE,
    ci_low       DOUBLE,
    ci_high      DOUBLE,
    n            BIGINT,    -- units (households, or members of the repeat) with a value
    n_option     BIGINT,
    se           DOUBLE,
    weighted_n   DOUBLE,
    df           BIGINT,
    suppressed   BOOLEAN,   -- n or n_households below [privacy] min_cell
    unit         VARCHAR DEFAULT 'household',  -- 'household', or the repeat group whose rows are the units
    n_households BIGINT     -- households contributing (= n for households)
);
