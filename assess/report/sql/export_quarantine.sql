-- One line per problem; a structurally rejected file is one line with empty uuid/row/column. A member row's
-- `row` is a row of its `member` (the repeat group's sheet or zip member file), `path` its instance.
SELECT
    submission_id AS uuid, file, member, "row", path, "column", value, expectation, reason, kind, action,
    superseded_by, round
FROM quarantine
WHERE $round IS NULL OR round = $round
ORDER BY round, file, member NULLS FIRST, "row" NULLS FIRST, "column";
