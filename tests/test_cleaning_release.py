"""Issue 17: a cleaning log line addressing a quarantined household is applied, the row is checked again with the
file's own rules, released into the store when it passes (and counted), kept aside with its reasons when it
does not, and put back in quarantine when a later `no_action` takes the fixing change back."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from assess.clean.run import clean_round
from assess.core.privacy import hash_key
from assess.estimate.run import run_estimates
from assess.store.connection import connect
from assess.store.inputs import ESTIMATE, fingerprints
from assess.store.runs import load_outcome
from assess.validate.stage import stage_file
from tests._store import build_store
from tests.test_cleaning_roundtrip import COUNTS, write_filled

HEADER = ["uuid", "question", "old_value", "change_type", "new_value"]


def _bad_export(demo: Path, inbox: Path) -> tuple[str, str, str]:
    """A Kobo CSV of two households copied from the demo under new uuids, both with hh_size 99 (1-30 allowed);
    returns (uuid a, uuid b, a's original hh_size)."""
    source = demo / "data" / "raw" / "kobo_export_2026-11-10.csv"
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8-sig")), delimiter=";"))
    header, body = rows[0], rows[1:3]
    size, uid, rid = header.index("household/hh_size"), header.index("_uuid"), header.index("_id")
    original = body[0][size]
    for n, row in enumerate(body):
        row[size], row[uid], row[rid] = "99", f"release-test-{n}", str(900000 + n)
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\n").writerows([header, *body])
    (inbox / "kobo_export_late.csv").write_text(buf.getvalue(), encoding="utf-8")
    return "release-test-0", "release-test-1", original


def _raw(con) -> str:
    return con.execute("SELECT current_database()").fetchone()[0] + ".main.submissions"


def test_quarantined_row_released_kept_and_put_back(demo_dir):
    settings, form, _ = build_store(demo_dir)
    key = hash_key()
    con = connect(settings.store_path)
    try:
        interviewed = con.execute(COUNTS).fetchone()[0]
        a, b, size = _bad_export(demo_dir, settings.inbox)
        out = load_outcome(con, stage_file(settings.inbox / "kobo_export_late.csv", settings, form), settings, form,
                           "run-late", key)  # fmt: skip
        assert (out.accepted, out.quarantined) == (0, 2)
        kept = con.execute(
            "SELECT DISTINCT submission_id, \"column\" FROM quarantine WHERE file = 'kobo_export_late.csv' "
            "AND action = 'quarantine' AND superseded_by IS NULL ORDER BY 1"
        ).fetchall()
        assert kept == [(a, "household/hh_size"), (b, "household/hh_size")]
        before_print = fingerprints(con, settings, ESTIMATE)["cleaning"]

        # a log: a's answer corrected, b's changed to another value out of range
        log1 = write_filled(
            settings.inbox / "cleaning_log_release.csv",
            HEADER,
            [[a, "hh_size", "99", "change_response", size], [b, "hh_size", "99", "change_response", "45"]],
        )
        (receipt,) = clean_round(con, settings, form, "run-log1", [log1], key).receipts
        assert receipt.applied == 2 and receipt.invalid == []
        assert receipt.quarantine[0] == (2, a, "released") and receipt.released == 1
        line, uid, why = receipt.quarantine[1]
        assert (line, uid) == (3, b) and why.startswith("still kept aside: household/hh_size") and "30" in why
        page = (
            settings.receipts_dir / settings.round / f"{log1.name}.{receipt.sha256[:8]}.cleaning.html"
        ).read_text()
        assert f"uuid {a}: released" in page and "1 kept-aside household(s) released" in page
        as_json = receipt.as_dict()["quarantine"]
        assert as_json[0] == {"line": 2, "uuid": a, "result": "released"}
        # a is loaded as its file holds it (raw 99, from the archived file); the cleaned view says `size`
        assert con.execute(f"SELECT hh_size, source_file, source_row FROM {_raw(con)} WHERE submission_id = ?",
                           [a]).fetchall() == [(99, "kobo_export_late.csv", 2)]  # fmt: skip
        assert con.execute("SELECT hh_size FROM submissions WHERE submission_id = ?", [a]).fetchone() == (
            int(size),
        )
        assert con.execute(f"SELECT count(*) FROM {_raw(con)} WHERE submission_id = ?", [b]).fetchone() == (
            0,
        )
        # its quarantine lines are kept, marked released by the log line; b's stay kept aside
        marks = con.execute(
            "SELECT DISTINCT submission_id, superseded_by, released_by, released_sha256, released_line "
            "FROM quarantine WHERE file = 'kobo_export_late.csv' AND action = 'quarantine' ORDER BY 1"
        ).fetchall()
        assert marks == [(a, log1.name, log1.name, receipt.sha256, 2), (b, None, None, None, None)]
        # the file's own record is what the file gave
        assert con.execute(
            "SELECT accepted, quarantined FROM files WHERE name = 'kobo_export_late.csv'"
        ).fetchone() == (0, 2)
        assert (
            "released"
            in con.execute(
                "SELECT message FROM cleaning_changes WHERE sha256 = ? AND line = 2", [receipt.sha256]
            ).fetchone()[0]
        )
        # the estimates count the released household, and the registry sees the change
        assert fingerprints(con, settings, ESTIMATE)["cleaning"] != before_print
        run_estimates(con, settings, form)
        assert con.execute(COUNTS).fetchone()[0] == interviewed + 1

        # a later no_action on a's answer takes the fix back: a fails again and goes back to quarantine
        log2 = write_filled(
            settings.inbox / "cleaning_log_revert.csv", HEADER, [[a, "hh_size", "", "no_action", ""]]
        )
        (receipt2,) = clean_round(con, settings, form, "run-log2", [log2], key).receipts
        ((line, uid, why),) = receipt2.quarantine
        assert (line, uid) == (2, a) and why.startswith("back in quarantine: household/hh_size")
        assert con.execute(f"SELECT count(*) FROM {_raw(con)} WHERE submission_id = ?", [a]).fetchone() == (
            0,
        )
        assert con.execute(
            "SELECT count(*), count(released_by) FROM quarantine WHERE submission_id = ? AND superseded_by IS NULL "
            "AND action = 'quarantine'",
            [a],
        ).fetchone() == (1, 0)
        run_estimates(con, settings, form)
        assert con.execute(COUNTS).fetchone()[0] == interviewed
    finally:
        con.close()
