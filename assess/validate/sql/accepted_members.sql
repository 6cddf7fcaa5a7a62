-- The member rows of one repeat group that load with the accepted households (`_accepted`): linked to an
-- accepted household row, not kept aside themselves, once per instance (a later copy is kept aside by the
-- rules). A nested repeat's rows also need their parent instance to load (assess/validate/members.py).
SELECT *
FROM read_parquet($path)
WHERE _hh_row IN (SELECT _row FROM _accepted_rows)
  AND NOT list_contains($bad::BIGINT[], _row)
QUALIFY row_number() OVER (PARTITION BY _hh_row, _path ORDER BY _row) = 1
