-- Coverage rows in a stable order (the needs are read again from the shown estimates in Python).
SELECT round, level, area, sector, partners, organisations
FROM coverage
WHERE $round IS NULL OR round = $round
ORDER BY round, level = 'national' DESC, level, area, sector;
