-- moments_prints: the round's buckets of households now (raw rows, before cleaning), each with a print of what
-- its sums depend on: its households with their source row and load time (a replaced, released or new
-- household changes it) and the cleaning lines in effect for them (an edit or a removal changes it).
-- {db} is the quoted store database (the raw tables, not the cleaned temp views); {rows} the rows of a bucket
-- (10,000). Grouped by file and part, the key text is made once per bucket (not once per household).
WITH raw AS (
    SELECT source_sha256 AS sha, source_row // {rows} AS part, count(*) AS households,
           bit_xor(hash(submission_id, source_row, loaded_at)) AS h
    FROM {db}.main.submissions
    WHERE round = $round
    GROUP BY ALL
),
cleaned AS (
    SELECT s.source_sha256 AS sha, s.source_row // {rows} AS part,
           bit_xor(hash(c.submission_id, c.path, c.question, c.change_type, c.new_value)) AS h
    FROM {db}.main.cleaning_effective AS c
    JOIN {db}.main.submissions AS s ON s.round = c.round AND s.submission_id = c.submission_id
    WHERE c.round = $round
    GROUP BY ALL
)
SELECT r.sha || ':' || CAST(r.part AS VARCHAR) AS bucket, r.households || ':' || r.h || ':' || coalesce(c.h, 0) AS print
FROM raw AS r
LEFT JOIN cleaned AS c USING (sha, part);
