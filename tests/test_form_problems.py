"""Defaults that survive a real export nobody here made (issue 14 item 5, REACH Haiti MSNA 2022): rules on
fields nobody answers are not applied, a rule failing on most rows is taken for a form problem (rows kept, with
warnings) unless the policy is written, and select codes written `2019.0` are the choice `2019`.

The export is not available; the fixture has its traits: a constraint on a calculate comparing a computed
count with a yes/no answer, a required calculate and note, metadata columns, 20+ rows, `.0` codes.
"""

from __future__ import annotations

import json
from dataclasses import replace

import duckdb
import pytest
from _forms import make_settings, stage, write_csv, write_form

from assess.core.privacy import hash_key
from assess.core.problems import Action, FileStatus
from assess.core.settings import load_settings
from assess.core.summary import RunSummary
from assess.core.xlsform import read_form, read_xlsform
from assess.estimate.run import check_config_against_form, run_estimates
from assess.report.receipts import format_receipt_text, receipt_json, write_receipts
from assess.store.connection import connect
from assess.store.runs import cleanup_staging, load_outcome
from assess.validate.handoff import read_outcome, write_outcome
from assess.validate.receipt import receipt_data
from assess.validate.sqlrewrite import canonical_codes
from assess.validate.stage import stage_file
from assess.validate.suite import validate

SURVEY = [
    ("start", "start"),
    ("end", "end"),
    ("today", "today"),
    ("deviceid", "deviceid"),
    ("note", "intro", "Thank you for your time", "yes"),
    ("select_one admin1", "admin1", "Department", "yes"),
    ("integer", "hh_size", "Household size", "yes", "", ". >= 1 and . <= 30"),
    ("select_one yes_no", "c_chef_menage", "Is the head of household present?", "yes"),
    # a computed count compared with a yes/no answer: never enforced by ODK/Kobo, fails on every row
    ("calculate", "nb_chef", "", "", "", ". = ${c_chef_menage}"),
    ("calculate", "total_membres", "", "yes"),
    ("select_one year", "arrival_year", "Year of arrival", "yes"),
    ("select_multiple year", "aid_years", "Years with aid"),
    ("integer", "rooms", "Rooms", "", "", ". >= ${hh_size}"),
]
CHOICES = [
    ("yes_no", "yes", "Yes", ""),
    ("yes_no", "no", "No", ""),
    ("admin1", "HT01", "Ouest", ""),
    ("admin1", "HT02", "Sud-Est", ""),
    ("year", "2019", "2019", ""),
    ("year", "2020", "2020", ""),
    ("year", "2021", "2021", ""),
]
HEADER = [
    "start",
    "end",
    "today",
    "deviceid",
    "admin1",
    "hh_size",
    "c_chef_menage",
    "nb_chef",
    "total_membres",
    "arrival_year",
    "aid_years",
    "rooms",
    "_submission_time",
    "_uuid",
]
NOTE = (
    "rule 'Rooms: . >= ${hh_size}' fails on 30 of 30 rows: probably a form problem; rows kept. "
    'Fix the form or set [validation.policy] constraint = "quarantine".'
)


def row(i: int, **change: str) -> dict[str, str]:
    """Household i: the calculate holds a count (1) where the answer is 'yes', `total_membres` is blank, and
    the first ten years are written `2019.0` as a spreadsheet saves them."""
    year = "2019.0" if i <= 10 else ("2019" if i <= 20 else "2020")
    base = {
        "start": "2022-07-01T08:00:00",
        "end": "2022-07-01T08:40:00",
        "today": "2022-07-01",
        "deviceid": f"dev{i % 3}",
        "admin1": "HT01" if i % 2 else "HT02",
        "hh_size": "5",
        "c_chef_menage": "yes",
        "nb_chef": "1",
        "total_membres": "",
        "arrival_year": year,
        "aid_years": "2019.0 2020.0" if i <= 5 else "2021",
        "rooms": "2",
        "_submission_time": "2022-07-01T09:00:00",
        "_uuid": f"hh-{i:04d}",
    }
    return {**base, **change}


def rows(n: int = 30, **change: str) -> list[dict[str, str]]:
    return [row(i, **change) for i in range(1, n + 1)]


@pytest.fixture(scope="module")
def form_env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("haiti-form")
    path = write_form(tmp / "form.xlsx", survey=SURVEY, choices=CHOICES)
    return path, read_xlsform(path)


def check(form_env, tmp_path, data, **settings):
    path, form = form_env
    staged = stage(tmp_path, form, data, header=HEADER)
    defaults = {"region_levels": ("admin1",), "private": (), "window": None}
    return validate(
        staged, form, make_settings(tmp_path, path, **{**defaults, **settings}), workdir=tmp_path / "work"
    )


def test_haiti_like_export_keeps_every_household(form_env, tmp_path):
    result = check(form_env, tmp_path, rows())
    assert result.quarantined_rows() == set()
    assert result.not_enforced == [
        "required of intro (a note)",
        "constraint of nb_chef (a calculate): . = ${c_chef_menage}",
        "required of total_membres (a calculate)",
    ]
    assert result.suspect_rules == [NOTE]
    assert {(p.kind, p.action) for p in result.problems} == {("constraint", Action.WARN)}
    assert sorted(p.row for p in result.problems) == list(range(2, 32))  # every row listed, each a warning
    assert not any(p.kind == "choice" for p in result.problems)  # `2019.0` is the choice 2019
    docs = open(result.docs_path).read()
    assert "Not enforced at collection" in docs and "nb_chef (a calculate)" in docs
    assert "Probably form problems" in docs and "fails on 30 of 30 rows" in docs


def test_explicit_policy_quarantines_anyway(form_env, tmp_path):
    result = check(form_env, tmp_path, rows(), policy={"constraint": "quarantine"})
    assert result.quarantined_rows() == set(range(2, 32)) and result.suspect_rules == []
    # the calculate's constraint is still not applied: not enforced at collection, whatever the policy
    assert not any(p.column == "nb_chef" for p in result.problems)
    # a written policy for another kind leaves the constraint to the defaults
    other = check(form_env, tmp_path / "other", rows(), policy={"choice": "quarantine"})
    assert other.quarantined_rows() == set() and other.suspect_rules == [NOTE]


def test_a_few_failing_rows_are_still_quarantined(form_env, tmp_path):
    data = rows(rooms="")
    for i in (3, 12, 25):
        data[i - 1]["hh_size"] = "99"
    result = check(form_env, tmp_path, data)
    assert result.quarantined_rows() == {4, 13, 26} and result.suspect_rules == []


def test_a_small_file_is_not_judged(form_env, tmp_path):
    result = check(form_env, tmp_path, rows(10))
    assert result.quarantined_rows() == set(range(2, 12)) and result.suspect_rules == []


def test_denominator_is_the_rows_the_rule_applies_to(form_env, tmp_path):
    # rooms answered in 24 of 40 rows, wrong in all 24: most of the rows it applies to
    data = [row(i, rooms="2" if i <= 24 else "") for i in range(1, 41)]
    result = check(form_env, tmp_path, data)
    assert result.quarantined_rows() == set()
    assert result.suspect_rules == [
        "rule 'Rooms: . >= ${hh_size}' fails on 24 of the 24 rows it applies to (40 in the file): probably a "
        'form problem; rows kept. Fix the form or set [validation.policy] constraint = "quarantine".'
    ]
    # answered in 15 rows only: too few to tell a form problem from bad data
    data = [row(i, rooms="2" if i <= 15 else "") for i in range(1, 41)]
    result = check(form_env, tmp_path / "few", data)
    assert result.quarantined_rows() == set(range(2, 17)) and result.suspect_rules == []


def test_choice_rule_failing_on_most_rows_warns_region_rule_does_not(form_env, tmp_path):
    data = rows(rooms="")
    for r in data[:25]:
        r["arrival_year"] = "year_" + r["arrival_year"][:4]  # a choice list that does not match the export
    result = check(form_env, tmp_path, data)
    assert result.quarantined_rows() == set()
    assert len(result.suspect_rules) == 1 and "fails on 25 of 30 rows" in result.suspect_rules[0]
    assert '[validation.policy] choice = "quarantine"' in result.suspect_rules[0]
    regions = rows(rooms="", admin1="HT99")
    result = check(form_env, tmp_path / "regions", regions)
    assert result.quarantined_rows() == set(range(2, 32)) and result.suspect_rules == []


def test_whole_number_codes_written_with_dot_zero(form_env, tmp_path):
    data = rows(rooms="")
    data[0]["arrival_year"] = "2019.5"  # not a whole number
    data[1]["arrival_year"] = "2018.0"  # a whole number, but not a code
    data[2]["aid_years"] = "2020.00 2021"
    data[3]["aid_years"] = "2021 2017.0"
    result = check(form_env, tmp_path, data)
    assert {(p.row, p.value) for p in result.problems} == {(2, "2019.5"), (3, "2018.0"), (5, "2021 2017.0")}
    assert next(p for p in result.problems if p.row == 5).reason.startswith(
        "Years with aid 2021 2017.0: '2017.0' is"
    )


@pytest.mark.parametrize(
    ("multiple", "value", "expected"),
    [
        (False, "2019.0", "2019"),
        (False, "2019.000", "2019"),
        (False, "2019", "2019"),
        (False, "2019.5", "2019.5"),
        (False, "2018.0", "2018.0"),
        (False, None, None),
        (True, "2019.0 2020.0  x.0", "2019 2020  x.0"),
        (True, "2021", "2021"),
    ],
)
def test_canonical_codes_sql(multiple, value, expected):
    expr = canonical_codes("v", ["2019", "2020", "2021", "x"], multiple=multiple)
    con = duckdb.connect()
    try:
        assert con.execute(f"SELECT {expr} FROM (SELECT ?::VARCHAR AS v)", [value]).fetchall() == [
            (expected,)
        ]
    finally:
        con.close()
    assert canonical_codes("v", ["yes", "no"], multiple=multiple) == "v"  # no whole-number code: no rewrite


@pytest.fixture
def assessment(form_env, tmp_path):
    root = tmp_path / "haiti"
    (root / "data" / "raw").mkdir(parents=True)
    write_form(root / "form.xlsx", survey=SURVEY, choices=CHOICES)
    write_csv(root / "data" / "raw" / "msna_2022.csv", rows(), header=HEADER)
    (root / "assessment.toml").write_text(
        '[survey]\nxlsform = "form.xlsx"\nround = "2022"\n[regions]\nlevels = ["admin1"]\n'
        '[needs]\nquestions = ["arrival_year", "aid_years"]\n',
        encoding="utf-8",
    )
    return root


def _run(root, **policy):
    settings = load_settings(root / "assessment.toml")
    settings = replace(settings, policy={**settings.policy, **policy})
    form = read_form(settings)
    check_config_against_form(settings, form)
    out = stage_file(root / "data" / "raw" / "msna_2022.csv", settings, form)
    con = connect(settings.store_path)
    try:
        load_outcome(con, out, settings, form, "r1", hash_key())
        write_receipts(out, settings, form)
        estimates = run_estimates(con, settings, form)
    finally:
        con.close()
    cleanup_staging(settings, out)
    return (
        settings,
        out,
        RunSummary(run_id="r1", round=settings.round, files=[out.summary()], estimates=estimates),
    )


def test_run_loads_every_household_and_says_why(assessment):
    settings, out, run = _run(assessment)
    assert (out.status, out.accepted, out.quarantined) == (FileStatus.LOADED, 30, 0)
    assert run.files[0].notes == [NOTE]
    markdown = run.markdown()
    table_end = markdown.index("| msna_2022.csv |")
    assert markdown.index(f"- msna_2022.csv: {NOTE}") > table_end
    assert markdown.index(f"- msna_2022.csv: {NOTE}") < markdown.index("Households:")

    receipt = json.loads(next((settings.receipts_dir / "2022").glob("msna_2022.csv.*.json")).read_text())
    assert receipt["quarantined"] == 0 and receipt["warnings"] == 30
    assert receipt["suspect_rules"] == [NOTE]
    assert list(receipt).index("suspect_rules") < list(receipt).index("problems")  # seen first
    assert "constraint of nb_chef (a calculate): . = ${c_chef_menage}" in receipt["not_enforced"]
    assert receipt["not_checked"] == []
    html = next(
        p
        for p in (settings.receipts_dir / "2022").glob("msna_2022.csv.*.html")
        if not p.name.endswith(".rules.html")
    ).read_text()
    assert "Probably a form problem" in html and "Rules not enforced at collection" in html
    assert html.index("Probably a form problem") < html.index("Problems to fix")

    text = format_receipt_text(out).splitlines()
    assert text[1] == "All 30 rows loaded." and text[2] == f"Probably a form problem: {NOTE}"
    assert "Rules not enforced at collection (on fields nobody answers; not applied):" in text
    assert "  required of total_membres (a calculate)" in text


def test_dot_zero_codes_load_as_the_choice_and_count(assessment):
    settings, out, run = _run(assessment)
    con = duckdb.connect(str(settings.store_path), read_only=True)
    try:
        years = dict(con.execute("SELECT arrival_year, count(*) FROM submissions GROUP BY 1").fetchall())
        aid = con.execute("SELECT aid_years, count(*) FROM submissions GROUP BY 1 ORDER BY 1").fetchall()
        picked = dict(
            con.execute(
                "SELECT option, count(*) FILTER (WHERE selected) FROM selections "
                "WHERE question = 'aid_years' GROUP BY 1"
            ).fetchall()
        )
        est = {
            (i, o): (e, n)
            for i, o, e, n in con.execute(
                "SELECT indicator, option, estimate, n_option FROM estimates WHERE level = 'national'"
            ).fetchall()
        }
    finally:
        con.close()
    assert years == {"2019": 20, "2020": 10}
    assert aid == [("2019 2020", 5), ("2021", 25)]
    assert picked == {"2019": 5, "2020": 5, "2021": 25}
    assert est[("arrival_year", "2019")] == (pytest.approx(20 / 30), 20)
    assert est[("aid_years", "2019")] == (pytest.approx(5 / 30), 5)


def test_explicit_policy_in_the_config_quarantines(assessment):
    config = assessment / "assessment.toml"
    config.write_text(
        config.read_text() + '[validation.policy]\nconstraint = "quarantine"\n', encoding="utf-8"
    )
    settings = load_settings(config)
    assert (
        settings.explicit_policy("constraint") == "quarantine"
        and settings.explicit_policy("required") is None
    )
    _, out, run = _run(assessment)
    assert (out.accepted, out.quarantined) == (0, 30) and run.files[0].notes == []
    assert run_estimates_empty(run)


def run_estimates_empty(run: RunSummary) -> bool:
    return run.estimates.estimates == 0 and run.estimates.households.interviewed == 0


def test_hand_off_keeps_the_notes_and_reads_older_hand_offs(form_env, tmp_path):
    path, form = form_env
    write_csv(tmp_path / "inbox.csv", rows(), header=HEADER)
    settings = make_settings(
        tmp_path, path, region_levels=("admin1",), private=(), window=None, inbox=tmp_path
    )
    out = stage_file(tmp_path / "inbox.csv", settings, form)
    written = write_outcome(out, settings)
    back = read_outcome(written, settings)
    assert back.result is not None and back.result.suspect_rules == [NOTE]
    assert back.result.not_enforced == out.result.not_enforced
    data = json.loads(written.read_text())
    del data["result"]["suspect_rules"], data["result"]["not_enforced"]  # written before these existed
    written.write_text(json.dumps(data))
    old = read_outcome(written, settings)
    assert old.result is not None and old.result.suspect_rules == [] and old.result.not_enforced == []
    d = receipt_data(old)
    assert receipt_json(d)["suspect_rules"] == [] and receipt_json(d)["not_enforced"] == []


def test_cli_prints_the_note_under_the_table(assessment):
    from flows import cli

    settings, _, run = _run(assessment)
    run.duration_s = 1.0
    with cli.out_console.capture() as captured:
        cli._print_run(run, settings.receipts_dir)
    printed = " ".join(captured.get().split())
    assert printed.index(
        "msna_2022.csv: rule 'Rooms: . >= ${hh_size}' fails on 30 of 30 rows"
    ) > printed.index("quarantined")
