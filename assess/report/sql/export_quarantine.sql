-- One line per problem; a structurally rejected file is one line with empty uuid/row/column.
SELECT
    submission_id AS uuid, file, "row", "column", value, expectation, reason, kind, action,
    superseded_by, round
FROM quarantine
WHERE $round IS NULL OR round = $round
ORDER BY round, file, "row" NULLS FIRST, "column";
