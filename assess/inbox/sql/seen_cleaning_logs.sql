-- Filled cleaning logs already applied in this round (issue 17): never new again.
SELECT sha256 FROM cleaning_logs WHERE round = $round;
