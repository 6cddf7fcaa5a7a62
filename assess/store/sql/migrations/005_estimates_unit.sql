-- Member-level estimates (issue 14): each estimate says its unit ('household', or the repeat group whose rows
-- were estimated, e.g. the roster) and how many households contributed. `estimates` used to be created by the
-- first estimation run: create it here with every column when a store has none yet, else add the two columns
-- (rows written before are household estimates, where households = n).
CREATE TABLE IF NOT EXISTS estimates (
    round        VARCHAR,
    level        VARCHAR,
    area         VARCHAR,
    indicator    VARCHAR,
    option       VARCHAR,
    estimate     DOUBLE,
    ci_low       DOUBLE,
    ci_high      DOUBLE,
    n            BIGINT,
    n_option     BIGINT,
    se           DOUBLE,
    weighted_n   DOUBLE,
    df           BIGINT,
    suppressed   BOOLEAN
);
ALTER TABLE estimates ADD COLUMN IF NOT EXISTS unit VARCHAR DEFAULT 'household';
ALTER TABLE estimates ADD COLUMN IF NOT EXISTS n_households BIGINT;
UPDATE estimates SET n_households = n WHERE n_households IS NULL;
