-- People in need per area and sector (assess/partners/pin.py wrote it from shown estimates only).
SELECT level, area, sector, unit, population, pin, pin_low, pin_high
FROM pin
WHERE round = $round
ORDER BY level = 'national' DESC, level, area, sector = 'overall' DESC, sector;
