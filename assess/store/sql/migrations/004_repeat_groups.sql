-- Repeat groups (household rosters): each one is stored in its own table `r_<repeat>`, created when a file first
-- holds it (assess/store/load.py). A member row kept aside names the sheet (Kobo XLSX) or zip member file
-- (ODK csv.zip) its row number belongs to, and its instance (`roster[2]`); each file keeps its member row counts
-- per repeat group, so that receipts rebuilt from the store say what the run said.
ALTER TABLE quarantine ADD COLUMN member VARCHAR;
ALTER TABLE quarantine ADD COLUMN path VARCHAR;
CREATE TABLE IF NOT EXISTS file_members (
    sha256         VARCHAR NOT NULL,
    round          VARCHAR NOT NULL,
    repeat_name    VARCHAR NOT NULL,
    member         VARCHAR NOT NULL,   -- sheet name or zip member file
    rows           BIGINT NOT NULL,
    accepted       BIGINT NOT NULL,
    quarantined    BIGINT NOT NULL,    -- kept aside by their own problems
    with_household BIGINT NOT NULL,    -- not loaded because their household (or parent member) was kept aside
    PRIMARY KEY (sha256, round, repeat_name)
);
