-- A file's member rows per repeat group, in the order the file holds them (its receipt).
SELECT repeat_name, member, rows, accepted, quarantined, with_household
FROM file_members
WHERE sha256 = $sha AND round = $round
ORDER BY rowid;
