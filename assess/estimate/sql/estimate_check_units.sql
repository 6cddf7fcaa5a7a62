-- estimate_check_units: duplicate / null household ids and null / negative weights in the units table.
-- Identifiers: {units} (allow-listed, quoted by the caller).
SELECT count(*) - count(DISTINCT _rid)           AS dup_rid,
       count(*) FILTER (WHERE _rid IS NULL)       AS null_rid,
       count(*) FILTER (WHERE _weight IS NULL)    AS null_weight,
       count(*) FILTER (WHERE _weight < 0)        AS negative_weight
FROM {units};
