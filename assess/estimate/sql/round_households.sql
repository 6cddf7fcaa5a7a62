-- Households loaded in the round (none yet: nothing to estimate, not a configuration problem).
SELECT count(*) FROM submissions WHERE round = $round;
