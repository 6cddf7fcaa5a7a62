"""A small XLSForm with a household roster (sex, age, school attendance 5-17) and a nested repeat, and the
same submissions written in every export shape, to the exporters' documented headers:

- KoboToolbox XLSX (formpack): households on the first sheet ending `_id, _uuid, _submission_time, ...,
  meta/rootUuid, _index`; one sheet per repeat named `name[:28] + "..."` when longer than 31 characters, with
  `_index` only when the repeat has children, `_parent_table_name`, `_parent_index`, `_submission_*` copies;
  select_multiple as `q` plus `q/option` (1/0).
- KoboToolbox CSV (households only, `;`).
- ODK Central csv.zip (briefcase.js): `<formId>.csv` from `SubmissionDate` to `FormVersion`, one
  `<formId>-<repeat>.csv` per repeat ending `PARENT_KEY, KEY` (`~1` suffixes optional), newest first.
"""

from __future__ import annotations

import copy
import csv
import io
import zipfile
from dataclasses import replace
from pathlib import Path

from openpyxl import Workbook

from assess.core.settings import Settings

FORM_ID = "roster_form"
TITLE = "Roster test"
ILLNESS = "illness_episodes_in_the_last_30_days"  # 36 characters: Kobo cuts its sheet name
ILLNESS_SHEET = ILLNESS[:28] + "..."

SURVEY_HEADER = (
    "type",
    "name",
    "label::English (en)",
    "required",
    "relevant",
    "constraint",
    "constraint_message::English (en)",
    "repeat_count",
    "private",
)
SURVEY = [
    ("start", "start"),
    ("text", "resp_name", "Respondent name", "", "", "", "", "", "yes"),
    ("select_one yes_no", "consent", "Consent", "yes"),
    (
        "integer",
        "hh_size",
        "How many people live in this household?",
        "yes",
        "${consent} = 'yes'",
        ". >= 1 and . <= 20",
    ),
    ("select_one yes_no", "school_module", "Ask the school questions?", "yes"),
    ("begin_group", "hh", "Household members", "", "${consent} = 'yes'"),
    ("begin_repeat", "roster", "Member", "", "", "", "", "${hh_size}"),
    ("text", "member_name", "Name", "", "", "", "", "", "yes"),
    ("select_one sex", "sex", "Sex", "yes"),
    ("integer", "age", "Age", "yes", "", ". >= 0 and . <= 110", "Age must be between 0 and 110."),
    (
        "select_one relation",
        "relation",
        "Relation to the head",
        "yes",
        "",
        ". != 'head' or position(..) = 1",
        "The head of household is listed first.",
    ),
    (
        "select_one yes_no",
        "school",
        "Attends school",
        "yes",
        "${age} >= 5 and ${age} <= 17 and ${school_module} = 'yes'",
    ),
    ("select_multiple needs", "member_needs", "Member needs"),
    ("begin_repeat", ILLNESS, "Illness episode"),
    ("select_one illness", "illness", "Illness", "yes"),
    ("integer", "days_sick", "Days sick", "", "", ". >= 1 and . <= 30"),
    ("end_repeat", ILLNESS),
    ("end_repeat", "roster"),
    ("end_group", "hh"),
    ("integer", "children_u5", "Children under 5", "", "", ". <= count(${roster})"),
]
CHOICES = [
    ("yes_no", "yes", "Yes"),
    ("yes_no", "no", "No"),
    ("sex", "f", "Female"),
    ("sex", "m", "Male"),
    ("relation", "head", "Head"),
    ("relation", "spouse", "Spouse"),
    ("relation", "child", "Child"),
    ("relation", "other", "Other"),
    ("needs", "food", "Food"),
    ("needs", "water", "Water"),
    ("needs", "health", "Health"),
    ("illness", "fever", "Fever"),
    ("illness", "diarrhoea", "Diarrhoea"),
    ("illness", "cough", "Cough"),
]
NEEDS = ("food", "water", "health")
HH_QUESTIONS = ("start", "resp_name", "consent", "hh_size", "school_module", "children_u5")
MEMBER_QUESTIONS = ("member_name", "sex", "age", "relation", "school", "member_needs")


def write_form(path: Path, survey: list[tuple] = SURVEY) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(SURVEY_HEADER)
    for row in survey:
        ws.append(list(row) + [""] * (len(SURVEY_HEADER) - len(row)))
    ch = wb.create_sheet("choices")
    ch.append(("list_name", "name", "label::English (en)"))
    for row in CHOICES:
        ch.append(row)
    st = wb.create_sheet("settings")
    st.append(("form_title", "form_id", "default_language"))
    st.append((TITLE, FORM_ID, "English (en)"))
    wb.save(path)
    return path


def member(
    name: str,
    sex: str,
    age: str,
    relation: str,
    school: str = "",
    needs: str = "",
    illness: list[tuple[str, str]] | None = None,
) -> dict:
    return {
        "member_name": name,
        "sex": sex,
        "age": age,
        "relation": relation,
        "school": school,
        "member_needs": needs,
        "illness": [{"illness": i, "days_sick": d} for i, d in (illness or [])],
    }


def households() -> list[dict]:
    """Three households; the first has a nested repeat on two members."""
    return [
        {
            "uuid": "0b6f5c1e-0000-4000-8000-000000000001",
            "resp_name": "Amina",
            "consent": "yes",
            "hh_size": "3",
            "school_module": "yes",
            "children_u5": "0",
            "members": [
                member("Amina", "f", "34", "head", needs="food water", illness=[("fever", "3")]),
                member("Omar", "m", "12", "child", school="yes", needs="food"),
                member("Sara", "f", "7", "child", school="no", illness=[("cough", "2"), ("diarrhoea", "4")]),
            ],
        },
        {
            "uuid": "0b6f5c1e-0000-4000-8000-000000000002",
            "resp_name": "Jean",
            "consent": "yes",
            "hh_size": "2",
            "school_module": "no",
            "children_u5": "1",
            "members": [member("Jean", "m", "51", "head", needs="health"), member("Lise", "f", "2", "child")],
        },
        {
            "uuid": "0b6f5c1e-0000-4000-8000-000000000003",
            "resp_name": "Ana",
            "consent": "yes",
            "hh_size": "1",
            "school_module": "yes",
            "children_u5": "0",
            "members": [member("Ana", "f", "70", "head", needs="water health")],
        },
    ]


def clone(hhs: list[dict]) -> list[dict]:
    return copy.deepcopy(hhs)


def settings_for(tmp: Path, form_path: Path, **overrides) -> Settings:
    base = Settings(
        config_path=tmp / "assessment.toml",
        root=tmp,
        xlsform=form_path,
        processed=tmp / "processed",
        inbox=tmp / "inbox",
        region_levels=(),
        private=("resp_name",),
    )
    return replace(base, **overrides)


# ------------------------------------------------------------------------------------------------ Kobo

KOBO_META = [
    "_id",
    "_uuid",
    "_submission_time",
    "_validation_status",
    "_notes",
    "_status",
    "_submitted_by",
    "__version__",
    "_tags",
]
KOBO_COPIES = [f"_submission_{m}" for m in KOBO_META]


def _kobo_meta(i: int, hh: dict) -> dict:
    return {
        "_id": str(1000 + i),
        "_uuid": hh["uuid"],
        "_submission_time": "2026-11-10T09:00:00",
        "_validation_status": "",
        "_notes": "",
        "_status": "submitted_via_web",
        "_submitted_by": "enum1",
        "__version__": "vA1",
        "_tags": "",
    }


def _needs_cells(value: str) -> list[str]:
    picked = value.split()
    return [("1" if n in picked else "0") if value else "" for n in NEEDS]


def write_kobo_xlsx(
    path: Path,
    hhs: list[dict],
    *,
    index_start: int = 1,
    sheet_name: str = TITLE,
    illness_sheet: str = ILLNESS_SHEET,
    numbers: bool = True,
) -> Path:
    """Kobo's XLSX export (group paths with `/`); `index_start` shifts every `_index` (as a cumulative
    export does); `numbers` writes numeric answers as numbers (as Kobo does)."""
    wb = Workbook()
    main = wb.active
    main.title = sheet_name[:31]
    main.append([*HH_QUESTIONS, *KOBO_META, "meta/rootUuid", "_index"])
    roster = wb.create_sheet("roster")
    roster_qs = [f"hh/roster/{q}" for q in MEMBER_QUESTIONS] + [f"hh/roster/member_needs/{n}" for n in NEEDS]
    roster.append([*roster_qs, "_index", "_parent_table_name", "_parent_index", *KOBO_COPIES])
    ill = wb.create_sheet(illness_sheet)
    ill.append(
        [
            f"hh/roster/{ILLNESS}/illness",
            f"hh/roster/{ILLNESS}/days_sick",
            "_parent_table_name",
            "_parent_index",
            *KOBO_COPIES,
        ]
    )

    def num(v: str) -> object:
        return int(v) if numbers and v.isdigit() else (v or None)

    m_index = index_start
    for i, hh in enumerate(hhs):
        meta = _kobo_meta(i, hh)
        hh_index = index_start + i
        main.append(
            [num(hh.get(q, "")) for q in HH_QUESTIONS]
            + [meta[m] or None for m in KOBO_META]
            + [f"uuid:{hh['uuid']}", hh_index]
        )
        copies = [meta[m] or None for m in KOBO_META]
        for m in hh["members"]:
            roster.append(
                [num(m[q]) if q == "age" else (m[q] or None) for q in MEMBER_QUESTIONS]
                + [c or None for c in _needs_cells(m["member_needs"])]
                + [m_index, TITLE, hh_index, *copies]
            )
            for e in m["illness"]:
                ill.append([e["illness"], num(e["days_sick"]), "roster", m_index, *copies])
            m_index += 1
    wb.save(path)
    return path


def write_kobo_csv(path: Path, hhs: list[dict]) -> Path:
    """Kobo's CSV export: the households only (`;`, BOM)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow([*HH_QUESTIONS, *KOBO_META, "_index"])
    for i, hh in enumerate(hhs):
        meta = _kobo_meta(i, hh)
        w.writerow([hh.get(q, "") for q in HH_QUESTIONS] + [meta[m] for m in KOBO_META] + [i + 1])
    path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode())
    return path


# ------------------------------------------------------------------------------------------------ ODK Central

ODK_MAIN_TAIL = [
    "meta-instanceID",
    "KEY",
    "SubmitterID",
    "SubmitterName",
    "AttachmentsPresent",
    "AttachmentsExpected",
    "Status",
    "ReviewState",
    "DeviceID",
    "Edits",
    "FormVersion",
]


def _csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode()


def write_central_zip(
    path: Path,
    hhs: list[dict],
    *,
    suffixes: bool = False,
    media: bool = True,
    extra: dict[str, bytes] | None = None,
) -> Path:
    """ODK Central's csv.zip; `suffixes` names the repeat files `-<repeat>~1.csv` (as when names clash)."""
    main = [["SubmissionDate", *HH_QUESTIONS, *ODK_MAIN_TAIL]]
    roster = [[*MEMBER_QUESTIONS, "PARENT_KEY", "KEY"]]
    ill = [["illness", "days_sick", "PARENT_KEY", "KEY"]]
    for hh in reversed(hhs):  # newest first
        key = f"uuid:{hh['uuid']}"
        main.append(
            [
                "2026-11-14T10:00:00.000Z",
                *[hh.get(q, "") for q in HH_QUESTIONS],
                key,
                key,
                "5",
                "enum1",
                "0",
                "0",
                "",
                "",
                "collect:abc",
                "0",
                "v1",
            ]
        )
        for n, m in enumerate(hh["members"], start=1):
            mkey = f"{key}/hh/roster[{n}]"
            roster.append([*(m[q] for q in MEMBER_QUESTIONS), key, mkey])
            for k, e in enumerate(m["illness"], start=1):
                ill.append([e["illness"], e["days_sick"], mkey, f"{mkey}/{ILLNESS}[{k}]"])
    tag = "~1" if suffixes else ""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{FORM_ID}.csv", _csv(main))
        zf.writestr(f"{FORM_ID}-roster{tag}.csv", _csv(roster))
        zf.writestr(f"{FORM_ID}-{ILLNESS}{tag}.csv", _csv(ill))
        if media:
            zf.writestr("media/photo_1.jpg", b"\xff\xd8\xff\xe0 not really a photo")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path
