-- Reader notes (encoding, separators, repeated headers) are kept with the file, so that receipts rebuilt from
-- the store and the report's annex show the same warnings as the run that loaded it.
ALTER TABLE files ADD COLUMN notes VARCHAR[];
-- How many households each round has, nationally and per area: the one source of every count a user sees.
CREATE TABLE IF NOT EXISTS household_counts (
    round        VARCHAR NOT NULL,
    level        VARCHAR NOT NULL,   -- 'national' or a [regions] level
    area         VARCHAR NOT NULL,   -- 'all' for national
    interviewed  BIGINT NOT NULL,    -- accepted households (quarantined rows are not counted)
    declined     BIGINT NOT NULL,    -- interviewed, but in none of the estimates (declined, or no needs answered)
    in_estimates BIGINT NOT NULL,
    PRIMARY KEY (round, level, area)
);
