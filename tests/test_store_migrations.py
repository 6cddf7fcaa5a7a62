"""Upgrading a data officer's store: a store written by release 0.1.0 opens with today's code, is migrated in
one transaction (a copy kept beside it) and gives the same estimates."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import duckdb
import pytest

from assess.core.settings import load_settings
from assess.core.sqlutil import table_columns
from assess.core.xlsform import read_form
from assess.demo import write_demo
from assess.estimate.run import run_estimates
from assess.store import connection
from assess.store.connection import StoreVersionError, connect, latest_version, schema_version
from tests.baseline import write_inbox_extras

LEGACY = Path(__file__).parent / "data" / "legacy_store" / "assessment-0.1.0.duckdb.gz"
ESTIMATES = (
    "SELECT round, level, area, indicator, option, estimate, ci_low, ci_high, se, n, n_option, weighted_n, "
    "df, suppressed FROM estimates ORDER BY ALL"
)


@pytest.fixture
def legacy(tmp_path) -> Path:
    """The demo assessment (80 households) the legacy store was made from, with that store in place."""
    root = tmp_path / "demo"
    write_demo(root, households=80)
    write_inbox_extras(root)
    store = root / "data" / "processed" / "assessment.duckdb"
    store.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(LEGACY) as src, open(store, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return root


def _read(store: Path, query: str) -> list[tuple]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def test_a_release_0_1_0_store_upgrades_and_keeps_its_estimates(legacy, monkeypatch):
    monkeypatch.setenv("ASSESS_HASH_KEY", "legacy-store-key")
    store = legacy / "data" / "processed" / "assessment.duckdb"
    before = _read(store, ESTIMATES)
    rows_before = _read(
        store, 'SELECT submission_id, "row" FROM quarantine WHERE "row" IS NOT NULL ORDER BY ALL'
    )
    assert before and rows_before
    selections_before = _read(store, "SELECT * FROM selections ORDER BY ALL")
    assert selections_before

    con = connect(store)
    try:
        assert schema_version(con) == latest_version() >= 2
        assert con.execute(ESTIMATES).fetchall() == before  # the stored numbers are untouched
        # 005: every estimate of 0.1.0 was a household estimate, with as many households as units
        assert con.execute("SELECT DISTINCT unit FROM estimates").fetchall() == [("household",)]
        assert con.execute(
            "SELECT count(*) FROM estimates WHERE n_households IS DISTINCT FROM n"
        ).fetchone() == (0,)
        # 006: the input registry starts empty, so the first run after the upgrade estimates and renders
        # 008: the cleaning-log tables exist and start empty (raw rows are never edited by cleaning)
        for table in (
            "stage_runs",
            "stage_inputs",
            "inbox_hashes",
            "cleaning_findings",
            "cleaning_logs",
            "cleaning_changes",
            "cleaning_effective",
        ):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
        # the old data-row numbers now read as spreadsheet rows, like every row written from now on
        rows_after = con.execute(
            'SELECT submission_id, "row" FROM quarantine WHERE "row" IS NOT NULL ORDER BY ALL'
        ).fetchall()
        assert rows_after == [(sid, row + 1) for sid, row in rows_before]
        # 009: the partner tables exist, empty, and the partners step fills coverage and PiN on the old store
        for table in ("partner_files", "partner_rows", "partner_problems", "coverage", "pin"):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
        # 012: the old quarantine lines are kept aside, none released by a cleaning log
        assert con.execute(
            "SELECT count(*), count(released_by), count(released_sha256), count(released_line) FROM quarantine "
            "WHERE superseded_by IS NULL"
        ).fetchone()[1:] == (0, 0, 0)
        # 013: `selections` keeps every row, without its primary key (written and replaced per household only)
        assert con.execute("SELECT * FROM selections ORDER BY ALL").fetchall() == selections_before
        assert _keys(con, "selections") == []
        assert _keys(con, "submissions") == [["round", "submission_id"]]
        # today's estimator on the upgraded store gives the same estimates
        settings = load_settings(legacy / "assessment.toml")
        run_estimates(con, settings, read_form(settings))
        if settings.population_unit:
            from assess.partners.run import run_partners

            run_partners(con, settings, read_form(settings))
            assert con.execute("SELECT count(*) FROM pin").fetchone()[0] > 0
        # `<question>:need` shares (issue 13) are new since 0.1.0: compare the indicators that store had
        again = [r for r in con.execute(ESTIMATES).fetchall() if not r[3].endswith(":need")]
    finally:
        con.close()
    assert len(again) == len(before)
    for new, old in zip(again, before, strict=True):
        exact = (0, 1, 2, 3, 4, 9, 10, 12)  # keys, n, n_option, df
        assert [new[i] for i in exact] == [old[i] for i in exact]
        # issue 16 suppresses more (a cell's own count, complementary cells), never less
        assert new[13] or not old[13]
        floats = (5, 11)  # estimate, weighted_n: equal up to summation order
        assert [new[i] for i in floats] == pytest.approx([old[i] for i in floats], rel=1e-9, abs=1e-12)
        # ci_low, ci_high, se: a variance that is 0 in exact arithmetic comes out as rounding noise (about
        # 1e-16 of the squared values) in one summation order or the other; its square root is ~1e-8 of them
        spread, noise = (6, 7, 8), 1e-7 * max(1.0, abs(old[5] or 0.0))
        assert [new[i] for i in spread] == pytest.approx([old[i] for i in spread], rel=1e-9, abs=noise)
    backups = list(store.parent.glob("assessment.duckdb.before-v*"))
    assert [b.name for b in backups] == [f"assessment.duckdb.before-v{latest_version()}"]
    assert _read(backups[0], ESTIMATES) == before  # the copy is the store as it was
    # opening it again changes nothing and makes no second copy
    connect(store).close()
    assert len(list(store.parent.glob("assessment.duckdb.before-v*"))) == 1


def _keys(con: duckdb.DuckDBPyConnection, table: str) -> list[list[str]]:
    """The columns of each primary key of `table`."""
    return [
        list(cols)
        for (cols,) in con.execute(
            "SELECT constraint_column_names FROM duckdb_constraints() WHERE table_name = ? "
            "AND constraint_type = 'PRIMARY KEY'",
            [table],
        ).fetchall()
    ]


def test_reading_an_old_store_without_upgrading_says_what_to_do(legacy):
    store = legacy / "data" / "processed" / "assessment.duckdb"
    with pytest.raises(StoreVersionError, match=r"older release .* Run `assess run` once to upgrade it"):
        connect(store, read_only=True)


def test_a_store_from_a_newer_release_is_refused(tmp_path):
    store = tmp_path / "assessment.duckdb"
    connect(store).close()
    con = duckdb.connect(str(store))
    con.execute("INSERT INTO schema_version VALUES (?, 'from the future', now())", [latest_version() + 1])
    con.close()
    for read_only in (False, True):
        with pytest.raises(StoreVersionError, match="newer release of assess"):
            connect(store, read_only=read_only)


def test_a_new_store_starts_at_the_latest_version(tmp_path):
    con = connect(tmp_path / "assessment.duckdb")
    try:
        assert schema_version(con) == latest_version()
        versions = [
            v for (v,) in con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
        ]
        assert versions == [1] + [mig.version for mig in connection.migrations()]
        assert versions[-1] == latest_version()
        # `estimates` exists before any estimation run (005), with every column run_estimates writes
        assert {"unit", "n_households", "estimate", "suppressed"} <= set(table_columns(con, "estimates"))
        assert con.execute("SELECT count(*) FROM estimates").fetchone() == (0,)
        # 013: `selections` has no primary key, with the same columns
        assert _keys(con, "selections") == []
        assert list(table_columns(con, "selections")) == [
            "round",
            "submission_id",
            "question",
            "option",
            "selected",
        ]
        # 007: the analysis results, with the computed values of suppressed cells kept for audit
        assert {"analysis_key", "stat", "n_total", "suppressed", "plan_row"} <= set(
            table_columns(con, "results")
        )
    finally:
        con.close()


def test_a_failing_migration_leaves_the_store_as_it_was(legacy, monkeypatch):
    store = legacy / "data" / "processed" / "assessment.duckdb"
    before = _read(store, 'SELECT "row" FROM quarantine ORDER BY ALL')
    broken = (
        *connection.migrations(),
        connection.Migration(latest_version() + 1, "broken", 'UPDATE quarantine SET "row" = 0; SELECT nope;'),
    )
    monkeypatch.setattr(connection, "migrations", lambda: broken)
    with pytest.raises(duckdb.Error):
        connect(store)
    assert _read(store, 'SELECT "row" FROM quarantine ORDER BY ALL') == before
    assert _read(
        store, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ) == [(0,)]


def test_a_migration_numbered_below_the_store_version_still_runs(tmp_path, monkeypatch):
    # migration numbers are reserved per piece of work: one merged after a higher-numbered one must still run
    store = tmp_path / "assessment.duckdb"
    mine = connection.migrations()
    late = connection.Migration(mine[-1].version + 1, "late", "CREATE TABLE late_one (x INTEGER);")
    later = connection.Migration(mine[-1].version + 2, "later", "CREATE TABLE later_one (x INTEGER);")
    monkeypatch.setattr(connection, "migrations", lambda: (*mine, later))
    connect(store).close()
    monkeypatch.setattr(connection, "migrations", lambda: (*mine, late, later))
    with pytest.raises(StoreVersionError, match="older release"):
        connect(store, read_only=True)
    con = connect(store)
    try:
        assert con.execute("SELECT count(*) FROM late_one").fetchone() == (0,)
        assert schema_version(con) == latest_version() == later.version
    finally:
        con.close()
    con = duckdb.connect(str(store))
    try:
        assert connection.upgrade(con) == []  # nothing left to run
    finally:
        con.close()
