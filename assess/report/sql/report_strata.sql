-- Households and clusters interviewed per stratum. {stratum} and {cluster} are quoted column names
-- from the configuration, checked against the submissions table (or constants).
WITH source AS (
    SELECT CAST({stratum} AS VARCHAR) AS stratum, CAST({cluster} AS VARCHAR) AS cluster
    FROM submissions WHERE round = $round
),
final AS (
    SELECT stratum, count(*) AS households, count(DISTINCT cluster) AS clusters
    FROM source GROUP BY stratum
)
SELECT * FROM final ORDER BY stratum;
