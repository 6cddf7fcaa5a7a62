"""Incremental estimation (issue 15): estimates made from the stored per-bucket sums equal a full recomputation
by the engine (`compute_estimates` over every household) after households are added, replaced in place,
edited and removed by cleaning, and only the buckets whose households changed are recomputed."""

from __future__ import annotations

import csv
import dataclasses
import uuid
from pathlib import Path

import duckdb
import pytest

from assess.clean.layer import install as install_cleaning_layer
from assess.clean.layer import uninstall as uninstall_cleaning_layer
from assess.core.privacy import hash_key
from assess.estimate.analysis import STORED_COLUMNS, plan_results
from assess.estimate.design import compute_estimates
from assess.estimate.indicators import add_indicator_values
from assess.estimate.run import (
    area_expressions,
    build_need_values,
    build_units,
    build_values,
    run_estimates,
    submission_columns,
)
from assess.estimate.suppress import complementary_suppression
from assess.store.connection import connect
from assess.store.runs import load_outcome
from assess.validate.stage import stage_file
from tests._store import build_store

COLUMNS = (
    "unit, level, area, indicator, option, estimate, ci_low, ci_high, se, n, n_households, n_option, "
    "weighted_n, df, suppressed"
)
EXACT = (0, 1, 2, 3, 4, 9, 10, 11, 13, 14)  # keys, counts, df, suppression


def reference(con: duckdb.DuckDBPyConnection, settings, form) -> list[tuple]:
    """The engine run from scratch over every household of the round, as before the sums were stored."""
    install_cleaning_layer(con)
    build_units(con, settings, form)
    build_values(con, settings, form)
    build_need_values(con, settings, form)
    add_indicator_values(con, settings, form, submission_columns(con))
    aliases = [f"_lvl{i}" for i in range(len(settings.region_levels))]
    compute_estimates(con, aliases, min_cell=settings.min_cell, out="_ref")
    complementary_suppression(con, "_ref")
    for alias, level in zip(aliases, settings.region_levels, strict=True):
        con.execute("UPDATE _ref SET level = ? WHERE level = ?", [level, alias])
    rows = con.execute(f"SELECT {COLUMNS} FROM _ref ORDER BY ALL").fetchall()
    con.execute("DROP TABLE _ref")
    return rows


def stored(con: duckdb.DuckDBPyConnection, settings) -> list[tuple]:
    return con.execute(
        f"SELECT {COLUMNS} FROM estimates WHERE round = ? ORDER BY ALL", [settings.round]
    ).fetchall()


def assert_same(ours: list[tuple], full: list[tuple]) -> None:
    assert len(ours) == len(full) > 0
    for a, b in zip(ours, full, strict=True):
        assert [a[i] for i in EXACT] == [b[i] for i in EXACT], (a, b)
        scale = max(1.0, abs(b[5] or 0.0))  # a zero variance comes out as rounding noise: ~1e-8 of the values
        for i in (5, 6, 7, 8, 12):
            assert a[i] == pytest.approx(b[i], rel=1e-9, abs=1e-7 * scale), (a, b)


def plan_reference(con: duckdb.DuckDBPyConnection, settings, form) -> list[tuple]:
    """The analysis plan run by the engine over every unit, as before its sums were stored."""
    install_cleaning_layer(con)
    build_units(con, settings, form)
    frame = plan_results(con, settings, form)
    rows = frame[list(STORED_COLUMNS)].itertuples(index=False, name=None)
    return sorted((tuple(None if v != v else v for v in r) for r in rows), key=_result_key)  # NaN: NULL


def plan_stored(con: duckdb.DuckDBPyConnection, settings) -> list[tuple]:
    cols = ", ".join(f'"{c}"' for c in STORED_COLUMNS)
    return sorted(
        con.execute(f"SELECT {cols} FROM results WHERE round = ?", [settings.round]).fetchall(),
        key=_result_key,
    )


def _result_key(row: tuple) -> tuple:
    return tuple(str(row[STORED_COLUMNS.index(c)]) for c in ("plan_row", "analysis_key", "unit"))


def assert_same_results(ours: list[tuple], full: list[tuple]) -> None:
    assert len(ours) == len(full) > 0
    floats = {STORED_COLUMNS.index(c) for c in ("stat", "stat_low", "stat_upp", "n_w", "n_w_total", "se")}
    for a, b in zip(ours, full, strict=True):
        assert [a[i] for i in range(len(a)) if i not in floats] == [
            b[i] for i in range(len(b)) if i not in floats
        ]
        scale = max(1.0, abs(b[STORED_COLUMNS.index("stat")] or 0.0))
        for i in floats:
            assert (a[i] is None) == (b[i] is None), (a, b)
            if b[i] is not None:
                assert a[i] == pytest.approx(b[i], rel=1e-9, abs=1e-7 * scale), (a, b)


def counts(con: duckdb.DuckDBPyConnection, settings) -> list[tuple]:
    return con.execute(
        "SELECT level, area, interviewed, declined, in_estimates FROM household_counts WHERE round = ? ORDER BY ALL",
        [settings.round],
    ).fetchall()


def assert_counts_as_before(con: duckdb.DuckDBPyConnection, settings, form) -> None:
    """The stored household counts against every household of the round, counted from scratch: interviewed,
    declined (no answer to a needs question) and in the estimates (`reference` built est_units / est_values)."""
    counted = (
        "SELECT DISTINCT u.submission_id FROM est_units u JOIN est_values v ON v._rid = u._rid "
        "WHERE v.y IS NOT NULL AND list_contains($ind, v.indicator)"
    )
    full = []
    for level, area in [
        ("national", "'all'"),
        *zip(settings.region_levels, area_expressions(con, settings), strict=True),
    ]:
        full += con.execute(
            f"SELECT $level, CAST({area} AS VARCHAR), count(*), count(*) - count(c.submission_id), "
            f"count(c.submission_id) FROM submissions s LEFT JOIN ({counted}) c ON c.submission_id = s.submission_id "
            f"WHERE s.round = $round AND {area} IS NOT NULL GROUP BY ALL",
            {"level": level, "round": settings.round, "ind": list(settings.needs)},
        ).fetchall()
    assert counts(con, settings) == sorted(full)


def write_export(source: Path, dest: Path, new: int, replaced: int, question: str, answer: str) -> list[str]:
    """A Kobo CSV: `new` rows of `source` with new ids, then `replaced` rows as they were but with `question`
    answered `answer` (the same households, sent again). Returns the replaced households' ids."""
    with source.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    header, body = rows[0], rows[1:]
    uid, iid = header.index("_uuid"), header.index("_id")
    col = next(i for i, h in enumerate(header) if h == question or h.endswith("/" + question))
    out = []
    for i in range(new):
        row = list(body[i])
        row[uid], row[iid] = str(uuid.uuid4()), str(800_000_000 + i)
        out.append(row)
    again = [list(r) for r in body[-replaced:]]
    for row in again:
        row[col] = answer
    with dest.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";", quoting=csv.QUOTE_ALL)
        w.writerow(header)
        w.writerows(out + again)
    return [r[uid] for r in again]


def load(con: duckdb.DuckDBPyConnection, path: Path, settings, form) -> None:
    uninstall_cleaning_layer(con)  # the run loads on the store's tables, not on the cleaned views
    load_outcome(con, stage_file(path, settings, form), settings, form, "test-increment", hash_key())


def clean(con: duckdb.DuckDBPyConnection, settings, rows: list[tuple[str, str, str, str | None]]) -> None:
    """Cleaning in effect, as an applied log leaves it: (submission id, question, change type, new value)."""
    con.executemany(
        "INSERT OR REPLACE INTO cleaning_effective (round, submission_id, path, question, change_type, new_value, "
        "check_id, sha256, line) VALUES (?, ?, '', ?, ?, ?, 'test', 'f' || ?, ?)",
        [[settings.round, sid, qn, ct, nv, i, i + 2] for i, (sid, qn, ct, nv) in enumerate(rows)],
    )


@pytest.mark.parametrize("design", ["clusters", "households as PSUs", "weight column"])
def test_incremental_estimates_equal_a_full_recomputation(demo_dir, design):
    base, form, run = build_store(demo_dir)
    settings = base
    if design == "households as PSUs":
        settings = dataclasses.replace(settings, cluster=None)
    elif design == "weight column":
        settings = dataclasses.replace(settings, frame=None, weight="w")
    con = connect(settings.store_path)
    try:
        if design == "weight column":  # a household weight that varies within strata (none valid: left out)
            con.execute("ALTER TABLE submissions ADD COLUMN w DOUBLE")
            con.execute(
                "UPDATE submissions SET w = CASE WHEN hash(submission_id) % 50 = 0 THEN NULL "
                "ELSE 0.5 + (hash(submission_id) % 7) / 4.0 END"
            )
        first = run_estimates(con, settings, form)
        # build_store made the sums; a changed design setting makes them again
        assert (
            first.buckets_recomputed == (0 if design == "clusters" else first.buckets) and first.buckets > 0
        )
        assert_same(stored(con, settings), reference(con, settings, form))
        assert_counts_as_before(con, settings, form)
        assert_same_results(plan_stored(con, settings), plan_reference(con, settings, form))

        # nothing changed: no bucket recomputed, same estimates
        before = stored(con, settings)
        again = run_estimates(con, settings, form)
        assert (again.buckets, again.buckets_recomputed) == (first.buckets, 0)
        assert_same(stored(con, settings), before)  # DuckDB's parallel sums may differ in the last digit

        # a new export: 40 new households and 25 sent again with another water source (replaced in place)
        source = next(settings.inbox.glob("kobo_export_*.csv"))
        replaced = write_export(source, demo_dir / "increment.csv", 40, 25, "water_source", "surface_water")
        load(con, demo_dir / "increment.csv", base, form)  # staged as the config says
        if design == "weight column":
            con.execute("UPDATE submissions SET w = 1.5 WHERE source_file = 'increment.csv'")
        grown = run_estimates(con, settings, form)
        # the new file's bucket, and the buckets the replaced households left
        assert grown.buckets == first.buckets + 1
        assert 1 < grown.buckets_recomputed < grown.buckets
        assert stored(con, settings) != before
        assert_same(stored(con, settings), reference(con, settings, form))
        assert_counts_as_before(con, settings, form)
        assert_same_results(plan_stored(con, settings), plan_reference(con, settings, form))

        # cleaning: one household removed, one answer changed, in a bucket the increment did not touch
        untouched = con.execute(
            "SELECT submission_id FROM main.submissions WHERE source_file <> 'increment.csv' "
            "AND submission_id NOT IN (SELECT unnest($r::VARCHAR[])) ORDER BY submission_id LIMIT 2",
            {"r": replaced},
        ).fetchall()
        clean(
            con,
            settings,
            [
                (untouched[0][0], "*", "remove_survey", None),
                (untouched[1][0], "water_source", "change_response", "surface_water"),
            ],
        )
        cleaned = run_estimates(con, settings, form)
        assert cleaned.buckets_recomputed in (1, 2)
        assert cleaned.households.interviewed == grown.households.interviewed - 1
        assert_same(stored(con, settings), reference(con, settings, form))
        assert_counts_as_before(con, settings, form)
        assert_same_results(plan_stored(con, settings), plan_reference(con, settings, form))

        # a bucket emptied: every household of one file removed by cleaning
        name = con.execute(
            "SELECT min(source_file) FROM main.submissions WHERE source_file <> 'increment.csv'"
        ).fetchone()[0]
        ids = [
            r[0]
            for r in con.execute(
                "SELECT submission_id FROM main.submissions WHERE source_file = ?", [name]
            ).fetchall()
        ]
        clean(con, settings, [(i, "*", "remove_survey", None) for i in ids])
        emptied = run_estimates(con, settings, form)
        assert emptied.households.interviewed == cleaned.households.interviewed - len(ids) + (
            untouched[0][0] in ids
        )
        assert_same(stored(con, settings), reference(con, settings, form))
        assert_counts_as_before(con, settings, form)
        assert_same_results(plan_stored(con, settings), plan_reference(con, settings, form))
    finally:
        con.close()


def test_a_changed_setting_recomputes_every_bucket(demo_dir):
    settings, form, run = build_store(demo_dir)
    con = connect(settings.store_path)
    try:
        assert run_estimates(con, settings, form).buckets_recomputed == 0  # build_store made the sums
        fewer = dataclasses.replace(settings, needs=settings.needs[:2])
        redone = run_estimates(con, fewer, form)
        assert redone.buckets_recomputed == redone.buckets > 0
        indicators = {
            r[0] for r in con.execute("SELECT DISTINCT indicator FROM est_moments WHERE pass = ''").fetchall()
        }
        assert indicators == {r[3] for r in reference(con, fewer, form)}
        assert_same(stored(con, fewer), reference(con, fewer, form))
    finally:
        con.close()
