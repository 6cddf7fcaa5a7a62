"""The demo with injected faults: each faulty row is quarantined with the right reason, all others load."""

from __future__ import annotations

import csv

from assess.core.settings import load_settings
from assess.core.xlsform import read_form
from assess.inbox.discover import inbox_files
from assess.store.connection import connect
from assess.store.runs import load_outcome
from assess.validate.stage import stage_file


def test_demo_with_injected_faults(demo_dir):
    settings = load_settings(demo_dir / "assessment.toml")
    form = read_form(settings)
    raw = demo_dir / "data/raw"
    for p in raw.glob("*2026-11-16*"):  # the roster re-exports would replace the faulty rows
        p.unlink()
    for p in raw.glob("cleaning_log*"):  # the loader alone: the flow applies the demo's filled log (issue 17)
        p.unlink()
    odk = raw / "odk_central_2026-11-14.csv"
    with open(odk, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    consented = [i for i, r in enumerate(body) if r[col["respondent-consent"]] == "yes"]
    a, b, c, d, e = consented[10], consented[20], consented[30], consented[40], consented[50]
    body[a][col["household-hh_size"]] = "99"  # out of range (1-30)
    body[b][col["needs-water_source"]] = "lake"  # not a choice
    body[c][col["needs-water_source"]] = ""  # required and relevant
    body[d][col["meta-instanceID"]] = body[d - 1][col["meta-instanceID"]]  # duplicate submission id
    body[d][col["KEY"]] = body[d - 1][col["KEY"]]
    body[e][col["location-admin1"]] = "R99"  # unknown region
    with open(odk, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *body])

    outcomes = [stage_file(p, settings, form) for p in inbox_files(settings)]
    con = connect(settings.store_path)
    for out in outcomes:
        load_outcome(con, out, settings, form, "faults", "k")
    odk_out = next(o for o in outcomes if o.name == odk.name)
    expected_rows = {a + 2, b + 2, c + 2, d + 2, e + 2}  # spreadsheet rows (header row 1)
    assert odk_out.result.quarantined_rows() == expected_rows
    reasons = {
        p.row: (p.kind, p.column, p.reason) for p in odk_out.result.problems if p.action == "quarantine"
    }
    assert reasons[a + 2][0] == "constraint" and "99" in reasons[a + 2][2] and "30" in reasons[a + 2][2]
    assert reasons[b + 2][0] == "choice" and "lake" in reasons[b + 2][2]
    assert reasons[c + 2][0] == "required"
    assert reasons[d + 2][0] == "unique"
    assert reasons[e + 2][0] == "region" and "R99" in reasons[e + 2][2]

    # totals add up: every row of every file is either loaded or quarantined
    total = sum(o.rows for o in outcomes)
    loaded = con.execute("SELECT count(*) FROM submissions").fetchone()[0]
    assert loaded == sum(o.accepted for o in outcomes) == total - len(expected_rows)
    quarantine = con.execute(
        "SELECT DISTINCT \"row\" FROM quarantine WHERE file = ? AND action = 'quarantine'", [odk.name]
    ).fetchall()
    assert {r[0] for r in quarantine} == expected_rows
    con.close()

    # the coordinator fixes the file and drops it again: the quarantined rows load and are superseded
    body[a][col["household-hh_size"]] = "9"
    body[b][col["needs-water_source"]] = "borehole"
    body[c][col["needs-water_source"]] = "borehole"
    body[e][col["location-admin1"]] = "R" + body[e][col["location-admin2"]][1:3]  # D0203 lies in R02
    fixed = raw / "odk_central_2026-11-14_fixed.csv"
    with open(fixed, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *body])
    out = stage_file(fixed, settings, form)
    con = connect(settings.store_path)
    load_outcome(con, out, settings, form, "fixed", "k")
    assert out.result.quarantined_rows() == {d + 2}  # the duplicate is still a duplicate
    open_rows = con.execute(
        "SELECT file, \"row\" FROM quarantine WHERE superseded_by IS NULL AND action = 'quarantine'"
    ).fetchall()
    assert open_rows == [(fixed.name, d + 2)]  # only the duplicate, as reported for the corrected file
    assert con.execute("SELECT count(*) FROM submissions").fetchone()[0] == total - 1
    con.close()
