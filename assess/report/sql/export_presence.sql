-- The 3W rows that loaded, for HAPI operational presence (active ones are picked in Python).
SELECT organisation, org_acronym, org_type, sector, admin1, admin2, status, start_date, end_date
FROM partner_rows
WHERE round = $round
ORDER BY admin1, admin2 NULLS FIRST, sector, organisation;
