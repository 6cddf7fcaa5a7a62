"""The SQL route's cheaper GX passes (BOOLEAN_ONLY first, bundled flag counts) give what one BASIC pass gave."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from assess.validate.gx import (
    _close_engine,
    _context,
    _outcomes,
    _run_suite,
    bundles,
    run_sql_route,
    sql_route_available,
)
from assess.validate.rules import TABLE, Rule

pytestmark = pytest.mark.skipif(not sql_route_available(), reason="GX's DuckDB route is unavailable")


def _rule(gx_type: str, describe: str, *, flag: str | None = None, **kwargs) -> Rule:
    return Rule(kind="constraint", gx_type=gx_type, kwargs=kwargs, describe=describe, template="", flag=flag)


def _flag(describe: str, flag: str) -> Rule:
    return _rule("unexpected_rows_expectation", describe, flag=flag)


RULES = [
    _rule("expect_column_values_to_not_be_null", "a answered", column="a"),  # fails on 10 rows
    _rule("expect_column_values_to_not_be_null", "n answered", column="n"),  # passes
    _rule("expect_column_values_to_be_between", "n in 0-50", column="n", min_value=0, max_value=50),
    _rule("expect_column_values_to_be_in_set", "a in x/y", column="a", value_set=["x", "y"]),
    _rule("expect_column_values_to_be_in_set", "c in food/water", column="c", value_set=["food", "water"]),
    _rule("expect_column_values_to_not_be_null", "missing column", column="nope"),  # errs
    _flag("n not over 90", "n > 90"),
    _flag("n at most 100", "n > 100"),  # passes
    _flag("c a food/water list", "NOT regexp_full_match(c, '(?:food|water)')"),  # a colon in the regex
    _flag("a unique", "count(*) OVER (PARTITION BY a) > 1 AND a IS NOT NULL"),  # a window: not bundled
    _flag("s is a small number", "CAST(s AS INTEGER) > 5"),  # fails at run time on 'abc'
    _flag("n even, c not like soap", "n % 2 = 1 OR c LIKE '%oa%'"),  # percent signs reach DuckDB as written
]


def _table(db: Path, bad_cast: bool) -> None:
    con = duckdb.connect(str(db))
    con.execute(
        f"CREATE TABLE {TABLE} AS SELECT i AS _row, CASE WHEN i % 10 = 0 THEN NULL ELSE 'x' END AS a, "
        "i AS n, CASE WHEN i % 7 = 0 THEN 'soap' ELSE 'food' END AS c, "
        f"CASE WHEN i = 50 AND {str(bad_cast).lower()} THEN 'abc' ELSE '1' END AS s FROM range(1, 101) r(i)"
    )
    con.close()


def _one_basic_pass(rules: list[Rule], db: Path) -> dict:
    """What the SQL route gave before: one suite, BASIC, every flag an UnexpectedRowsExpectation."""
    source = _context().data_sources.add_sql(name="old", connection_string=f"duckdb:///{db}")
    try:
        batch = source.add_table_asset(name="rows", table_name=TABLE).add_batch_definition_whole_table("f")
        return _outcomes(_run_suite(batch, rules, sql=True), sql=True)
    finally:
        _close_engine(source)


def _seen(outcome) -> tuple:
    """What validation reads from an outcome (the row query of a passing rule is never read)."""
    return (
        outcome.success,
        outcome.unexpected,
        outcome.rows,
        None if outcome.success else outcome.index_query,
        None if outcome.error is None else outcome.error.splitlines()[0],
    )


@pytest.mark.parametrize("bad_cast", [False, True])
def test_sql_route_outcomes_equal_one_basic_pass(tmp_path, bad_cast):
    """Identical outcomes; with a flag failing at run time, only that rule errs.

    (One BASIC pass let that error abort DuckDB's transaction: GX's later statements in the run failed too, so
    unrelated rules came out "not checked", depending on the order GX ran them. Not compared then.)
    """
    db = tmp_path / "v.duckdb"
    _table(db, bad_cast)
    after = run_sql_route(RULES, db)
    if not bad_cast:
        before = _one_basic_pass(RULES, db)
        assert {i: _seen(o) for i, o in after.items()} == {i: _seen(o) for i, o in before.items()}
    assert [after[i].success for i in range(5)] == [False, True, False, True, False]
    assert (after[0].unexpected, after[2].unexpected, after[4].unexpected) == (10, 50, 14)
    assert after[5].error and not after[5].success
    assert (after[6].unexpected, after[7].success, after[8].unexpected, after[9].unexpected) == (
        10,
        True,
        14,
        90,
    )
    assert bool(after[10].error) == bad_cast and after[10].success != bad_cast
    assert after[11].unexpected == 50 + 7
    assert [i for i, o in after.items() if o.error] == ([5, 10] if bad_cast else [5])


def test_flag_counts_are_bundled_into_one_statement(tmp_path):
    """The plain flags' counts are one aggregate query per view, not two statements per rule."""
    import duckdb_engine

    db = tmp_path / "v.duckdb"
    _table(db, bad_cast=False)
    flags = [_flag(f"n not {k}", f"n = {k}") for k in range(1, 31)]
    assert all(bundles(r) for r in flags) and not bundles(RULES[9])
    counted: list[str] = []
    execute = duckdb_engine.CursorWrapper.execute

    def counting(self, statement, parameters=None, context=None):
        if "n = " in str(statement):
            counted.append(str(statement))
        return execute(self, statement, parameters, context)

    duckdb_engine.CursorWrapper.execute = counting
    try:
        outcomes = run_sql_route(flags, db)
    finally:
        duckdb_engine.CursorWrapper.execute = execute
    assert all(not o.success and o.unexpected == 1 for o in outcomes.values())
    assert len(counted) == 1 and "FILTER" in counted[0].upper()


def test_many_rows_keep_one_basic_pass(tmp_path, monkeypatch):
    """Above FEW_ROWS the scans dominate and one aggregate of all flags measured slower: one BASIC pass there."""
    import assess.validate.gx as gx

    db = tmp_path / "v.duckdb"
    _table(db, bad_cast=False)
    rules = RULES[:10] + RULES[11:]
    monkeypatch.setattr(gx, "FEW_ROWS", 99)  # the table has 100 rows
    seen: list[str] = []
    monkeypatch.setattr(
        gx, "_outcomes", lambda results, sql: seen.append("pass") or _outcomes(results, sql=sql)
    )
    after = run_sql_route(rules, db)
    assert seen == ["pass"]
    before = _one_basic_pass(rules, db)
    assert {i: _seen(o) for i, o in after.items()} == {i: _seen(o) for i, o in before.items()}
