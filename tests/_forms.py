"""Tiny XLSForms and exports for validation tests, built inline (no binary fixtures)."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

from openpyxl import Workbook

from assess.core.settings import ExpectSpec, Settings
from assess.core.xlsform import XLSForm, read_xlsform
from assess.read.export import Staged, stage_export

SURVEY_HEADER = (
    "type",
    "name",
    "label::English (en)",
    "required",
    "relevant",
    "constraint",
    "constraint_message::English (en)",
    "choice_filter",
)

# A small household form: groups with relevance, selects, numbers, regex, choice filter.
SURVEY = [
    ("start", "start"),
    ("begin_group", "location", "Location"),
    ("select_one admin1", "admin1", "Region", "yes"),
    ("select_one admin2", "admin2", "District", "yes", "", "", "", "admin1=${admin1}"),
    ("text", "cluster_id", "Cluster code", "", "", "regex(., '^EA-[0-9]{2}$')", "Use the format EA-NN."),
    ("end_group", "location"),
    ("text", "resp_name", "Respondent name"),
    ("select_one yes_no", "consent", "Consent", "yes"),
    ("begin_group", "household", "Household", "", "${consent} = 'yes'"),
    (
        "integer",
        "hh_size",
        "Household size",
        "yes",
        "",
        ". >= 1 and . <= 30",
        "Household size must be between 1 and 30.",
    ),
    ("integer", "children_u5", "Children under 5", "yes", "", ". >= 0 and . <= ${hh_size}"),
    ("select_one yes_no", "displaced", "Displaced", "yes"),
    ("integer", "months", "Months displaced", "yes", "${displaced} = 'yes'"),
    ("end_group", "household"),
    (
        "select_multiple needs",
        "needs",
        "Priority needs",
        "yes",
        "${consent} = 'yes'",
        "count-selected(.) <= 2 or selected(., 'none') and count-selected(.) = 1",
    ),
    ("text", "needs_other", "Other need", "yes", "selected(${needs}, 'other')"),
    ("decimal", "income", "Income", "", "", ". > 0 or . = -1"),
    ("text", "odd", "Odd rule", "", "", "jr:choice-name(., 'x') = 'y'"),
]
CHOICES = [
    ("yes_no", "yes", "Yes", ""),
    ("yes_no", "no", "No", ""),
    ("admin1", "R1", "North", ""),
    ("admin1", "R2", "South", ""),
    ("admin2", "D11", "North A", "R1"),
    ("admin2", "D12", "North B", "R1"),
    ("admin2", "D21", "South A", "R2"),
    ("needs", "food", "Food", ""),
    ("needs", "water", "Water", ""),
    ("needs", "other", "Other", ""),
    ("needs", "none", "None", ""),
]

HEADER = [
    "start",
    "_submission_time",
    "location/admin1",
    "location/admin2",
    "location/cluster_id",
    "resp_name",
    "consent",
    "household/hh_size",
    "household/children_u5",
    "household/displaced",
    "household/months",
    "needs",
    "needs/food",
    "needs/water",
    "needs/other",
    "needs/none",
    "needs_other",
    "income",
    "odd",
    "_uuid",
]


def good_row(i: int) -> dict[str, str]:
    return {
        "start": "2026-11-10T08:00:00.000+01:00",
        "_submission_time": "2026-11-10T09:00:00",
        "location/admin1": "R1",
        "location/admin2": "D11",
        "location/cluster_id": "EA-01",
        "resp_name": "Amina Example",
        "consent": "yes",
        "household/hh_size": "5",
        "household/children_u5": "1",
        "household/displaced": "no",
        "household/months": "",
        "needs": "food water",
        "needs/food": "1",
        "needs/water": "1",
        "needs/other": "0",
        "needs/none": "0",
        "needs_other": "",
        "income": "120.5",
        "odd": "",
        "_uuid": f"uuid-{i:04d}",
    }


def write_form(path: Path, survey=SURVEY, choices=CHOICES) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(SURVEY_HEADER)
    for row in survey:
        ws.append(list(row) + [""] * (len(SURVEY_HEADER) - len(row)))
    ch = wb.create_sheet("choices")
    ch.append(("list_name", "name", "label::English (en)", "admin1"))
    for row in choices:
        ch.append(row)
    st = wb.create_sheet("settings")
    st.append(("form_title", "form_id", "default_language"))
    st.append(("Test form", "test_form", "English (en)"))
    wb.save(path)
    return path


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] = HEADER) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=header)
        w.writeheader()
        for r in rows:
            w.writerow({h: r.get(h, "") for h in header})
    return path


def make_settings(tmp: Path, form_path: Path, **overrides) -> Settings:
    base = Settings(
        config_path=tmp / "assessment.toml",
        root=tmp,
        xlsform=form_path,
        processed=tmp / "processed",
        region_levels=("admin1", "admin2"),
        private=("resp_name",),
        window=("2026-11-01", "2026-11-30"),
    )
    if "expectations" in overrides:
        overrides["expectations"] = tuple(
            e
            if isinstance(e, ExpectSpec)
            else ExpectSpec(type=e["type"], kwargs={k: v for k, v in e.items() if k != "type"})
            for e in overrides["expectations"]
        )
    return replace(base, **overrides)


def stage(
    tmp: Path, form: XLSForm, rows: list[dict[str, str]], header: list[str] = HEADER, name: str = "export.csv"
) -> Staged:
    tmp.mkdir(parents=True, exist_ok=True)
    src = write_csv(tmp / name, rows, header)
    return stage_export(src, form, tmp / "work" / "rows.parquet")


def load_form(tmp: Path) -> XLSForm:
    return read_xlsform(write_form(tmp / "form.xlsx"))
