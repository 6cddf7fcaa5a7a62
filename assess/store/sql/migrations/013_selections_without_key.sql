-- `selections` without its primary key (issue 15): a household's option rows are only ever written and replaced
-- with the household (one load deletes them by submission id, then inserts), never looked up or upserted by the
-- key, and each load writes them from one row per household, so the key only checked what cannot happen. Its
-- index cost most of a long load (16 rows per household: checked at every commit, written at every checkpoint).
-- DuckDB cannot drop a primary key in place: the table is recreated, its rows kept in their order.
CREATE TABLE selections_013 (
    round         VARCHAR NOT NULL,
    submission_id VARCHAR NOT NULL,
    question      VARCHAR NOT NULL,
    option        VARCHAR NOT NULL,
    selected      BOOLEAN            -- NULL: option not offered / question not answered
);
INSERT INTO selections_013 SELECT round, submission_id, question, option, selected FROM selections;
DROP TABLE selections;
ALTER TABLE selections_013 RENAME TO selections;
