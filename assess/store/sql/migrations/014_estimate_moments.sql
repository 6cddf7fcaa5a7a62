-- Incremental estimation (issue 15). The estimator's sums are kept per bucket of households -- the rows of one
-- source file, 10,000 source rows at a time -- so that a run recomputes only the buckets whose households
-- changed (a new file, a replaced or released household, a cleaning line) and adds up the stored sums of the
-- others. A bucket's sums are weighted by the households' own weights ([design] weight, else 1); frame
-- weights are constant within a stratum and are applied when the estimates are made from the sums.
-- `signature` is what every bucket was computed under (config, form, frame, package): when it changes, every
-- bucket is recomputed. assess/estimate/moments.py writes and reads these tables.
CREATE TABLE IF NOT EXISTS est_buckets (
    round     VARCHAR NOT NULL,
    bucket    VARCHAR NOT NULL,   -- '<source sha256>:<source row // 10000>'
    print     VARCHAR NOT NULL,   -- households, their load times and the cleaning lines that touch them
    signature VARCHAR NOT NULL,
    PRIMARY KEY (round, bucket)
);
CREATE TABLE IF NOT EXISTS est_moments (
    round     VARCHAR NOT NULL,
    pass      VARCHAR NOT NULL,   -- '' for the estimates; 'plan:<groups>:<unit>' for a batch of the analysis plan
    bucket    VARCHAR NOT NULL,
    unit      VARCHAR NOT NULL,   -- 'household' or a repeat group
    indicator VARCHAR NOT NULL,
    option    VARCHAR NOT NULL,
    kind      VARCHAR NOT NULL,
    stratum   VARCHAR NOT NULL,
    psu       VARCHAR,            -- NULL when every PSU is one household (no [design] cluster)
    areas     VARCHAR[] NOT NULL, -- the area key of each region level
    n         BIGINT,             -- units that answered
    nh        BIGINT,             -- households among them
    n1        BIGINT,             -- units with y = 1
    sy        DOUBLE,             -- sum w*y
    a         DOUBLE,             -- sum w*(y - shift*x)      (x: a ratio's denominator, else 1)
    b         DOUBLE,             -- sum w*x
    wn        DOUBLE,             -- sum w
    aa        DOUBLE,             -- sum (w*(y - shift*x))^2  (households as PSUs only)
    ab        DOUBLE,             -- sum w*w*(y - shift*x)*x
    bb        DOUBLE,             -- sum w*w*x*x
    ymin      DOUBLE,
    ymax      DOUBLE
);
CREATE TABLE IF NOT EXISTS est_design (
    round   VARCHAR NOT NULL,
    pass    VARCHAR NOT NULL,
    bucket  VARCHAR NOT NULL,
    unit    VARCHAR NOT NULL,
    stratum VARCHAR NOT NULL,
    psu     VARCHAR,              -- as in est_moments
    units   BIGINT NOT NULL       -- units of the design (answering or not): PSU counts per stratum, weights
);
CREATE TABLE IF NOT EXISTS est_counts (
    round        VARCHAR NOT NULL,
    bucket       VARCHAR NOT NULL,
    areas        VARCHAR[] NOT NULL,
    interviewed  BIGINT NOT NULL,
    in_estimates BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS est_shifts (
    round     VARCHAR NOT NULL,
    pass      VARCHAR NOT NULL,
    indicator VARCHAR NOT NULL,
    option    VARCHAR NOT NULL,   -- also the options a plan's proportion has seen: zeros for the others' units
    shift     DOUBLE NOT NULL,    -- centring constant of the sums of squares, fixed when first computed
    PRIMARY KEY (round, pass, indicator, option)
);
