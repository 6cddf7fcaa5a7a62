-- People in need whose share in severity 3+ is still shown (its estimate not suppressed).
WITH shares AS (
    SELECT level, area, substr(indicator, length('severity_') + 1) AS sector
    FROM estimates
    WHERE round = $round AND indicator LIKE 'severity\_%' ESCAPE '\' AND option = '3+'
      AND NOT coalesce(suppressed, false) AND estimate IS NOT NULL
      AND coalesce(unit, 'household') = 'household'
)
SELECT p.level, p.area, p.sector, p.unit, p.population, p.pin, p.pin_low, p.pin_high
FROM pin p
JOIN shares s ON s.level = p.level AND s.area = p.area AND s.sector = p.sector
WHERE p.round = $round
ORDER BY p.level = 'national' DESC, p.level, p.area, p.sector = 'overall' DESC, p.sector;
