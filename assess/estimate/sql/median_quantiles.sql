-- median_quantiles: R survey's quantile rule "school" (svyquantile(qrule = "school")) at the probabilities of
-- _med_ps(did, k, p) over the units of each domain of _med_dom: units sorted by y, cumulated weights cumw,
-- total W; pos = the last unit with cumw <= p*W (the first when there is none); qlow = y[pos],
-- qup = y[pos + 1] (y[pos] at the end); the quantile is (qlow + qup)/2 when p*W = cumw[pos] exactly, else
-- qup. A NULL p (a Woodruff bound outside [0, 1]) gives a NULL quantile.
CREATE OR REPLACE TEMP TABLE _med_q AS
WITH sorted AS (
    SELECT did, y,
           sum(w) OVER (PARTITION BY did ORDER BY y, _rid ROWS UNBOUNDED PRECEDING) AS cumw,
           sum(w) OVER (PARTITION BY did)                                         AS tw,
           row_number() OVER (PARTITION BY did ORDER BY y, _rid)                  AS rn,
           count(*) OVER (PARTITION BY did)                                       AS nn
    FROM _med_dom
),
pos AS (
    SELECT p.did, p.k, p.p,
           coalesce(max(s.rn) FILTER (WHERE s.cumw <= p.p * s.tw), 1) AS pos,
           max(s.nn) AS nn
    FROM _med_ps AS p
    JOIN sorted AS s ON s.did = p.did
    WHERE p.p IS NOT NULL
    GROUP BY p.did, p.k, p.p
),
final AS (
    SELECT pos.did, pos.k,
           CASE WHEN pos.p - lo.cumw / lo.tw = 0 THEN (lo.y + up.y) / 2 ELSE up.y END AS q
    FROM pos
    JOIN sorted AS lo ON lo.did = pos.did AND lo.rn = pos.pos
    JOIN sorted AS up ON up.did = pos.did AND up.rn = least(pos.pos + 1, pos.nn)
)
SELECT p.did, p.k, f.q
FROM _med_ps AS p
LEFT JOIN final AS f ON f.did = p.did AND f.k = p.k;
