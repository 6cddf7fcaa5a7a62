-- A file's row-level problems (a rejected file's one `file_is_usable` line is its reason instead).
SELECT submission_id, "row", "column", value, expectation, reason, kind, action, member, path
FROM quarantine
WHERE sha256 = $sha AND round = $round AND expectation <> 'file_is_usable'
ORDER BY member NULLS FIRST, "row";
