INSERT OR REPLACE INTO file_members (sha256, round, repeat_name, member, rows, accepted, quarantined, with_household)
VALUES (?, ?, ?, ?, ?, ?, ?, ?);
