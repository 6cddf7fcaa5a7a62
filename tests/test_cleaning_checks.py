"""Data-quality checks (issue 17): each rule has a flagged case and a clean case, on a small hand-made store."""

from __future__ import annotations

import hashlib
import itertools
import random
from dataclasses import replace

import duckdb
import pytest

from assess.clean.apply import apply_log
from assess.clean.checks import run_checks
from assess.clean.enumerators import enumerator_rows, write_page
from assess.clean.layer import install, uninstall
from assess.clean.softdup import soft_duplicate_pairs
from assess.core.settings import QualitySpec
from assess.store.connection import connect
from tests._forms import load_form, make_settings

COLUMNS = {
    "start": "VARCHAR",
    "end": "VARCHAR",
    "admin1": "VARCHAR",
    "admin2": "VARCHAR",
    "cluster_id": "VARCHAR",
    "consent": "VARCHAR",
    "hh_size": "BIGINT",
    "children_u5": "BIGINT",
    "displaced": "VARCHAR",
    "months": "BIGINT",
    "needs": "VARCHAR",
    "needs_other": "VARCHAR",
    "income": "DOUBLE",
    "resp_name": "VARCHAR",
}


def household(i: int, **over) -> dict:
    rng = random.Random(i)
    row = {
        "start": "2026-11-10T08:00:00.000+01:00",
        "end": f"2026-11-10T08:{30 + rng.randint(0, 20)}:00.000+01:00",
        "admin1": rng.choice(["R1", "R2"]),
        "admin2": rng.choice(["D11", "D12", "D21"]),
        "cluster_id": f"EA-{rng.randint(10, 99)}",
        "consent": "yes",
        "hh_size": rng.randint(3, 7),
        "children_u5": rng.randint(0, 2),
        "displaced": rng.choice(["yes", "no"]),
        "months": rng.randint(1, 30),
        "needs": rng.choice(["food", "water", "food water"]),
        "needs_other": None,
        "income": round(rng.uniform(80, 160), 1),
        "resp_name": None,
    }
    row.update(over)
    return row


def make_store(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    for col, typ in COLUMNS.items():
        con.execute(f'ALTER TABLE submissions ADD COLUMN "{col}" {typ}')
    names = ", ".join(f'"{c}"' for c in COLUMNS)
    for i, row in enumerate(rows):
        con.execute(
            f"INSERT INTO submissions (round, submission_id, source_file, source_sha256, source_row, loaded_at, "
            f"{names}) VALUES ('1', ?, 'f.csv', 'sha', ?, now(), "
            f"{', '.join('?' for _ in COLUMNS)})",
            [row.get("_uuid", f"u{i:03d}"), i + 2, *[row[c] for c in COLUMNS]],
        )


@pytest.fixture
def setup(tmp_path):
    form = load_form(tmp_path)
    settings = make_settings(
        tmp_path,
        form.path,
        missing_codes=(999.0,),
        quality=QualitySpec(duration_minutes=(25, 90), outlier_sd=3, soft_duplicate_max_diff=1),
    )
    con = connect(tmp_path / "store.duckdb")
    yield con, settings, form
    con.close()


def findings(con, check_id: str) -> list[tuple]:
    return con.execute(
        "SELECT submission_id, question, old_value FROM _findings WHERE check_id = ? ORDER BY 1, 2",
        [check_id],
    ).fetchall()


def test_clean_households_raise_nothing(setup):
    con, settings, form = setup
    make_store(con, [household(i) for i in range(40)])
    run_checks(con, settings, form)
    assert con.execute("SELECT count(*) FROM _findings").fetchone() == (0,)


def test_duration_too_short_and_too_long(setup):
    con, settings, form = setup
    rows = [household(i) for i in range(10)]
    rows[2]["end"] = "2026-11-10T08:05:00.000+01:00"  # 5 minutes
    rows[3]["end"] = "2026-11-10T10:00:00.000+01:00"  # 120 minutes
    rows[4]["end"] = "2026-11-10T07:40:00.000Z"  # 40 minutes: the offsets are read
    make_store(con, rows)
    run_checks(con, settings, form)
    assert findings(con, "duration_short") == [("u002", "duration", "5.0")]
    assert findings(con, "duration_long") == [("u003", "duration", "120.0")]


def test_outliers_raw_and_log_scale(setup):
    con, settings, form = setup
    rows = [household(i) for i in range(60)]
    rows[7]["income"] = 5000.0
    rows[8]["hh_size"] = 999  # a don't-know code is not an outlier
    make_store(con, rows)
    run_checks(con, settings, form)
    assert ("u007", "income", "5000") in findings(con, "outlier")
    assert not [f for f in findings(con, "outlier") + findings(con, "outlier_log") if f[1] == "hh_size"]
    assert findings(con, "dont_know") == [("u008", "hh_size", "999")]


def test_log_scale_outlier_only(setup):
    con, settings, form = setup
    rows = [household(i, children_u5=0) for i in range(40)]
    rows[5]["children_u5"] = 1  # a skewed count: 1 among zeros is far on log(x+1) too; raw sd also
    make_store(con, rows)
    run_checks(con, settings, form)
    flagged = findings(con, "outlier") + findings(con, "outlier_log")
    assert ("u005", "children_u5", "1") in flagged


def test_other_text_repeating_a_choice(setup):
    con, settings, form = setup
    rows = [household(i) for i in range(5)]
    rows[1]["needs_other"] = " water "
    rows[2]["needs_other"] = "blankets"
    make_store(con, rows)
    run_checks(con, settings, form)
    assert findings(con, "other_is_choice") == [("u001", "needs_other", " water ")]


def test_soft_duplicates_across_enumerators(setup):
    con, settings, form = setup
    rows = [household(i) for i in range(30)]
    rows[20] = dict(rows[4], income=999.5)  # one answer differs
    rows[21] = dict(rows[5], income=1.5, hh_size=2)  # two differ: above max_diff = 1
    make_store(con, rows)
    run_checks(con, settings, form)
    assert findings(con, "soft_duplicate") == [
        ("u004", "soft_duplicate", "1"),
        ("u020", "soft_duplicate", "1"),
    ]


def test_banded_join_finds_exactly_the_brute_force_pairs():
    rng = random.Random(3)
    con = duckdb.connect()
    cols = [f"c{i}" for i in range(12)]
    rows = [[rng.choice(["a", "b", None]) for _ in cols] for _ in range(150)]
    con.execute(f"CREATE TABLE t (submission_id VARCHAR, {', '.join(f'{c} VARCHAR' for c in cols)})")
    con.executemany(
        f"INSERT INTO t VALUES (?, {', '.join('?' for _ in cols)})",
        [[f"{i:03d}", *r] for i, r in enumerate(rows)],
    )
    for max_diff in (2, 4, 11, 12):
        soft_duplicate_pairs(con, "t", cols, max_diff)
        found = set(con.execute("SELECT a, b, diff FROM _soft_pairs").fetchall())
        brute = {
            (f"{i:03d}", f"{j:03d}", d)
            for i, j in itertools.combinations(range(len(rows)), 2)
            if (d := sum(x != y for x, y in zip(rows[i], rows[j], strict=True))) <= max_diff
        }
        assert found == brute and brute  # 11: single columns are the bands; 12: every pair


def test_quality_settings_are_checked(tmp_path):
    from assess.core.settings import ConfigError, load_settings

    (tmp_path / "form.xlsx").write_bytes(b"")
    base = '[survey]\nxlsform = "form.xlsx"\n[regions]\nlevels = ["admin1"]\n'
    for bad, word in (
        ("duration_minutes = [90, 25]", "duration_minutes"),
        ("outlier_sd = 0", "outlier_sd"),
        ('outlier_by = "village"', "outlier_by"),
        ("soft_duplicate_max_diff = -1", "soft_duplicate_max_diff"),
    ):
        (tmp_path / "assessment.toml").write_text(base + "[quality]\n" + bad + "\n")
        with pytest.raises(ConfigError, match=word):
            load_settings(tmp_path / "assessment.toml")
    (tmp_path / "assessment.toml").write_text(
        base + '[quality]\noutlier_by = "admin1"\nduration_minutes = [10, 60]\n'
    )
    quality = load_settings(tmp_path / "assessment.toml").quality
    assert quality.outlier_by == "admin1" and quality.duration_minutes == (10.0, 60.0)
    assert replace(quality, enumerator="x").soft_duplicate_max_diff == 7


def test_enumerator_rates_sorted_by_risk(setup, tmp_path):
    con, settings, form = setup
    settings = replace(settings, quality=replace(settings.quality, enumerator="cluster_id"))
    rows = [household(i, cluster_id="EA-22") for i in range(10)]
    rows += [household(i, cluster_id="EA-11", end="2026-11-10T08:10:00.000+01:00") for i in range(10, 14)]
    rows += [household(i, cluster_id="EA-11", consent="no") for i in range(14, 18)]
    make_store(con, rows)
    run_checks(con, settings, form)
    first, second = enumerator_rows(con, settings, form)
    assert (first.enumerator, first.submissions, first.too_short, first.consent_no) == ("EA-11", 8, 0.5, 0.5)
    assert (second.enumerator, second.submissions, second.too_short, second.risk) == ("EA-22", 10, 0.0, 0.0)
    assert second.median_minutes is not None and 30 <= second.median_minutes <= 50
    page = write_page([first, second], settings, "run9").read_text()
    assert page.index("EA-11") < page.index("EA-22") and "50%" in page


def test_enumerator_duplicated_gps_share(setup):
    """A point recorded by two submissions counts for both (the enumerator's share of duplicated points)."""
    con, settings, form = setup
    settings = replace(settings, quality=replace(settings.quality, enumerator="cluster_id"))
    # the small form has no geopoint: read `needs_other` as one (a column the rows fill here)
    form.questions["needs_other"] = replace(form.questions["needs_other"], type="geopoint")
    rows = [household(i, cluster_id="EA-1", needs_other=f"1.{i} 2.0 0 5") for i in range(6)]
    rows[1]["needs_other"] = rows[0]["needs_other"]  # same point twice
    rows += [household(i, cluster_id="EA-2", needs_other=None) for i in range(6, 10)]
    make_store(con, rows)
    run_checks(con, settings, form)
    rates = {r.enumerator: r.duplicated_gps for r in enumerator_rows(con, settings, form)}
    assert rates == {"EA-1": pytest.approx(2 / 6), "EA-2": 0.0}


def test_private_answers_are_stored_as_keyed_hashes_and_never_written(setup, tmp_path, monkeypatch):
    con, settings, form = setup
    settings = replace(settings, private=("resp_name", "needs_other"))
    rows = [household(i, resp_name=hashlib.sha256(f"k:Amina {i}".encode()).hexdigest()) for i in range(5)]
    rows[1]["needs_other"] = hashlib.sha256(b"k:Water").hexdigest()  # stored hashed, as the loader does
    make_store(con, rows)
    log = tmp_path / "filled.csv"
    log.write_text(
        "uuid,question,old_value,change_type,new_value\n"
        "u002,resp_name,Amina 2,change_response,Fatima Example\n"
        "u003,resp_name,Someone Else,change_response,Amina 3\n"
        "u004,hh_size,,change_response,7\n",
        encoding="utf-8",
    )
    receipt = apply_log(con, settings, form, log, "sha-1", "k", "run1")
    assert receipt.applied == 3 and [n for n, _ in receipt.warnings] == [3]  # old value compared by its hash
    assert "Someone" not in str(receipt.as_dict()) and "Amina" not in str(receipt.as_dict())
    stored = con.execute(
        "SELECT new_value FROM cleaning_effective WHERE question = 'resp_name' ORDER BY 1"
    ).fetchall()
    assert sorted(stored) == sorted(
        [(hashlib.sha256(b"k:Fatima Example").hexdigest(),), (rows[3]["resp_name"],)]
    )
    kept = con.execute(
        "SELECT old_value, new_value FROM cleaning_changes WHERE question = 'resp_name'"
    ).fetchall()
    assert all(old is None and "Fatima" not in (new or "") for old, new in kept)
    # the 'other' text is compared with the labels by hash: found, and written as (private)
    monkeypatch.setenv("ASSESS_HASH_KEY", "k")
    run_checks(con, settings, form)
    assert findings(con, "other_is_choice") == [("u001", "needs_other", "(private)")]


def test_a_quarantined_uuid_without_its_archived_file_is_named_as_kept_aside(setup, tmp_path):
    con, settings, form = setup
    make_store(con, [household(i) for i in range(3)])
    con.execute(
        'INSERT INTO quarantine (round, submission_id, file, sha256, "row", expectation, reason, kind, action) '
        "VALUES ('1', 'q-1', 'export.csv', 'sha', 7, 'x', 'bad', 'constraint', 'quarantine')"
    )
    log = tmp_path / "filled.csv"
    log.write_text("_uuid,questions,change_type,new_value\nq-1,hh_size,change_response,4\n", encoding="utf-8")
    receipt = apply_log(con, settings, form, log, "sha-2", "k", "run1")
    # the row is re-read from its archived file to be checked again (tests/test_cleaning_release.py); no file here
    assert receipt.applied == 0 and "kept aside (export.csv, row 7)" in receipt.invalid[0][1]
    assert "archived copy of export.csv is missing" in receipt.invalid[0][1]


def test_cleaning_survives_a_cumulative_re_export_and_follows_select_multiple(setup, tmp_path):
    con, settings, form = setup
    rows = [household(i, needs="food") for i in range(3)]
    make_store(con, rows)
    con.execute(
        "INSERT INTO selections SELECT '1', submission_id, 'needs', o, o = 'food' FROM submissions, "
        "(SELECT unnest(['food', 'water', 'other', 'none']) AS o)"
    )
    log = tmp_path / "filled.csv"
    log.write_text(
        "uuid,question,change_type,new_value\nu001,hh_size,change_response,9\nu002,needs,change_response,water\n",
        encoding="utf-8",
    )
    assert apply_log(con, settings, form, log, "sha-3", "k", "run1").applied == 2
    # a later cumulative export replaces the raw rows (as the loader does): the cleaning still applies
    con.execute("UPDATE submissions SET hh_size = 4, source_file = 'later.csv' WHERE submission_id = 'u001'")
    install(con)
    assert con.execute("SELECT hh_size FROM submissions WHERE submission_id = 'u001'").fetchone() == (9,)
    chosen = con.execute(
        "SELECT option FROM selections WHERE submission_id = 'u002' AND selected ORDER BY 1"
    ).fetchall()
    assert chosen == [("water",)]  # the option rows follow the changed summary column
    uninstall(con)
    assert con.execute("SELECT hh_size FROM submissions WHERE submission_id = 'u001'").fetchone() == (4,)
