DELETE FROM household_counts WHERE round = $round;
