SELECT interviewed, declined, in_estimates
FROM household_counts
WHERE round = $round AND level = $level AND area = $area;
