-- The rows of a staged file that load: not quarantined, with an id, the last row of each id.
CREATE OR REPLACE TEMP TABLE _accepted AS
SELECT *
FROM read_parquet($path)
WHERE _sid IS NOT NULL
  AND _row NOT IN (SELECT unnest($bad::BIGINT[]))
QUALIFY row_number() OVER (PARTITION BY _sid ORDER BY _row DESC) = 1;
