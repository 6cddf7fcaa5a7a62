-- The rows of a staged file that load: not quarantined, with an id, the last row of each id. (`list_contains`,
-- not `NOT IN (SELECT unnest(...))`: the subquery's anti-join was ~40% of this statement.)
CREATE OR REPLACE TEMP TABLE _accepted AS
SELECT *
FROM read_parquet($path)
WHERE _sid IS NOT NULL
  AND NOT list_contains($bad::BIGINT[], _row)
QUALIFY row_number() OVER (PARTITION BY _sid ORDER BY _row DESC) = 1;
