-- median_quantiles: R survey's quantile rule "school" (svyquantile(qrule = "school")) at the probabilities of
-- _med_ps(did, k, p) over the sorted units of each domain (_med_sorted, _med_tot): pos = the last unit with
-- cumw <= p*W (an ASOF join; the first unit when there is none); qlow = y[pos], qup = y[pos + 1] (y[pos] at
-- the end); the quantile is (qlow + qup)/2 when p*W = cumw[pos] exactly, else qup. A NULL p (a Woodruff
-- bound outside [0, 1]) gives a NULL quantile.
CREATE OR REPLACE TEMP TABLE _med_q AS
WITH target AS (
    SELECT p.did, p.k, p.p, p.p * t.tw AS target, t.tw, t.nn
    FROM _med_ps AS p
    JOIN _med_tot AS t ON t.did = p.did
    WHERE p.p IS NOT NULL
),
pos AS (
    SELECT t.did, t.k, t.p, t.tw, t.nn, coalesce(s.rn, 1) AS pos
    FROM target AS t
    ASOF LEFT JOIN _med_sorted AS s ON s.did = t.did AND t.target >= s.cumw
),
final AS (
    SELECT pos.did, pos.k,
           CASE WHEN pos.p - lo.cumw / pos.tw = 0 THEN (lo.y + up.y) / 2 ELSE up.y END AS q
    FROM pos
    JOIN _med_sorted AS lo ON lo.did = pos.did AND lo.rn = pos.pos
    JOIN _med_sorted AS up ON up.did = pos.did AND up.rn = least(pos.pos + 1, pos.nn)
)
SELECT p.did, p.k, f.q
FROM _med_ps AS p
LEFT JOIN final AS f ON f.did = p.did AND f.k = p.k;
