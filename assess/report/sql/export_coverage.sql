-- Coverage per area and sector as shared (assess/partners/coverage.py wrote it): needs are shown estimates only.
SELECT level, area, sector, partners, organisations, need, need_low, need_high, gap, uncertain
FROM coverage
WHERE $round IS NULL OR round = $round
ORDER BY round, level = 'national' DESC, level, area, sector;
