-- Who does what where (issue 18): the 3W/5W list named in [partners] file, its rows that passed the checks
-- (areas as the form's choice names; a blank admin2 covers every district of its admin1), the rows kept aside
-- with their reasons, and what the run computed from it and the estimates: coverage per area and sector, and
-- people in need per area and sector from the frame's populations.
CREATE TABLE IF NOT EXISTS partner_files (
    round        VARCHAR NOT NULL,
    sha256       VARCHAR NOT NULL,
    file         VARCHAR NOT NULL,
    rows         BIGINT NOT NULL,
    accepted     BIGINT NOT NULL,
    quarantined  BIGINT NOT NULL,
    status       VARCHAR NOT NULL,    -- loaded / rejected
    reason       VARCHAR,
    loaded_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (round)
);
CREATE TABLE IF NOT EXISTS partner_rows (
    round                VARCHAR NOT NULL,
    row                  BIGINT NOT NULL,   -- as in the spreadsheet: header row 1
    organisation         VARCHAR NOT NULL,
    org_acronym          VARCHAR,
    org_type             VARCHAR,
    sector               VARCHAR NOT NULL,  -- the [partners.sectors] code
    admin1               VARCHAR NOT NULL,  -- choice name
    admin2               VARCHAR,           -- choice name; NULL: every district of admin1
    activity             VARCHAR,
    status               VARCHAR NOT NULL,  -- lower case, as written
    start_date           DATE,
    end_date             DATE,
    implementing_partner VARCHAR,
    donor                VARCHAR,
    targeted             DOUBLE,
    reached              DOUBLE
);
CREATE TABLE IF NOT EXISTS partner_problems (
    round   VARCHAR NOT NULL,
    row     BIGINT,
    "column" VARCHAR,
    value   VARCHAR,
    reason  VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS coverage (
    round         VARCHAR NOT NULL,
    level         VARCHAR NOT NULL,
    area          VARCHAR NOT NULL,
    sector        VARCHAR NOT NULL,
    partners      BIGINT NOT NULL,    -- distinct organisations active on the reference date
    organisations VARCHAR,            -- their names, '; '-separated
    need          DOUBLE,             -- the highest of the sector's mapped estimates (NULL: none shown)
    need_low      DOUBLE,
    need_high     DOUBLE,
    need_source   VARCHAR,            -- the [partners.sectors] entry the need comes from
    gap           VARCHAR NOT NULL,   -- gap / thin / covered / low_need / unknown
    uncertain     BOOLEAN NOT NULL,   -- the need's CI straddles high_need
    reference     DATE                -- the round's last submission date
);
CREATE TABLE IF NOT EXISTS pin (
    round       VARCHAR NOT NULL,
    level       VARCHAR NOT NULL,
    area        VARCHAR NOT NULL,
    sector      VARCHAR NOT NULL,     -- a severity sector, or 'overall' (intersectoral)
    unit        VARCHAR NOT NULL,     -- individuals / households
    population  DOUBLE NOT NULL,
    share       DOUBLE NOT NULL,      -- share in severity 3+
    pin         DOUBLE NOT NULL,
    pin_low     DOUBLE,
    pin_high    DOUBLE
);
