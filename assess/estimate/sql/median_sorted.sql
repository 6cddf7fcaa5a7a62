-- median_sorted: the units of each median domain sorted by value (ties by unit id), with the cumulated weight
-- cumw and the rank rn; _med_tot holds each domain's total weight tw and size nn. Read by median_quantiles.
CREATE OR REPLACE TEMP TABLE _med_sorted AS
SELECT did, y,
       sum(w) OVER run        AS cumw,
       row_number() OVER run  AS rn
FROM _med_dom
WINDOW run AS (PARTITION BY did ORDER BY y, _rid ROWS UNBOUNDED PRECEDING);
CREATE OR REPLACE TEMP TABLE _med_tot AS
SELECT did, sum(w) AS tw, count(*) AS nn FROM _med_dom GROUP BY did;
