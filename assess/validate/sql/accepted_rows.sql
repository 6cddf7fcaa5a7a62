-- The rows of a staged file that load: not quarantined, with an id, the last row of each id. Only their row
-- numbers are kept (`assess/validate/members.py` makes `_accepted` a view of those rows of the staging file):
-- copying every column into a temp table cost more than all the reads of them. (`list_contains`, not
-- `NOT IN (SELECT unnest(...))`: the subquery's anti-join was ~40% of this statement.)
CREATE OR REPLACE TEMP TABLE _accepted_rows AS
SELECT _row
FROM read_parquet($path)
WHERE _sid IS NOT NULL
  AND NOT list_contains($bad::BIGINT[], _row)
QUALIFY row_number() OVER (PARTITION BY _sid ORDER BY _row DESC) = 1;
