"""The cleaning log file: written per run with only findings no log carried yet, and read back when filled.

Columns are cleaningtools' own (uuid, question, old_value, issue, check_id, change_type, new_value), then
`path` (a member row: `roster[2]`) and `enumerator`. The xlsx has dropdowns: change_type on every line and,
on a select question's line, its choice codes (lists on a hidden sheet, as Excel caps inline lists).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from python_calamine import CalamineWorkbook

from ..core.settings import Settings
from ..core.sqlutil import atomic_write_bytes, atomic_write_text
from ..core.xlsform import XLSForm

COLUMNS = (
    "uuid",
    "question",
    "old_value",
    "issue",
    "check_id",
    "change_type",
    "new_value",
    "path",
    "enumerator",
)
CHANGE_TYPES = ("change_response", "blank_response", "remove_survey", "no_action")
# the names field teams give the columns (lower case; `X_uuid` is R's read.csv of `_uuid`)
ALIASES = {
    "uuid": ("uuid", "_uuid", "x_uuid"),
    "question": ("question", "questions"),
    "change_type": ("change_type",),
    "new_value": ("new_value",),
    "old_value": ("old_value",),
    "issue": ("issue",),
    "check_id": ("check_id",),
    "path": ("path",),
}
REQUIRED = ("uuid", "question", "change_type", "new_value")


def log_dir(settings: Settings) -> Path:
    return settings.processed / "cleaning" / settings.round


NEW = (
    "FROM _findings f WHERE NOT EXISTS (SELECT 1 FROM cleaning_findings c WHERE c.round = $round "
    "AND c.submission_id = f.submission_id AND c.path = f.path AND c.question = f.question "
    "AND c.check_id = f.check_id) AND NOT EXISTS (SELECT 1 FROM cleaning_changes a WHERE a.round = $round "
    "AND a.status = 'applied' AND a.submission_id = f.submission_id AND a.path = f.path "
    "AND a.question = f.question)"
)


def new_findings(con: duckdb.DuckDBPyConnection, round_: str) -> list[tuple]:
    """`_findings` lines no earlier log carried (by uuid, path, question, check) and no applied line answered
    (by uuid, path, question), in a stable order."""
    return con.execute(
        "SELECT DISTINCT f.submission_id, f.question, f.old_value, f.issue, f.check_id, f.path "
        f"{NEW} ORDER BY f.check_id, f.question, f.submission_id",
        {"round": round_},
    ).fetchall()


def write_log(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    form: XLSForm,
    run_id: str,
    enumerators: dict[str, str] | None = None,
) -> list[Path]:
    """Write this run's log (xlsx + csv) of new findings and remember them; nothing when there is none."""
    lines = new_findings(con, settings.round)
    if not lines:
        return []
    who = enumerators or {}
    rows = [
        (sid, qn, old, issue, check, "", "", path, who.get(sid, ""))
        for sid, qn, old, issue, check, path in lines
    ]
    folder = log_dir(settings)
    xlsx = folder / f"cleaning_log.{run_id}.xlsx"
    csv_path = folder / f"cleaning_log.{run_id}.csv"
    atomic_write_bytes(xlsx, _xlsx(rows, form))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    atomic_write_text(csv_path, buf.getvalue())
    con.execute(  # one set-based statement: a first run on real data may hold thousands of findings
        "INSERT OR IGNORE INTO cleaning_findings SELECT DISTINCT ON (f.submission_id, f.path, f.question, "
        "f.check_id) $round, f.submission_id, f.path, f.question, f.check_id, f.old_value, f.issue, $run, $file, "
        f"$now {NEW}",
        {
            "round": settings.round,
            "run": run_id,
            "file": xlsx.name,
            "now": datetime.now(UTC).replace(tzinfo=None),
        },
    )
    return [xlsx, csv_path]


def _xlsx(rows: list[tuple], form: XLSForm) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "cleaning_log"
    ws.append(COLUMNS)
    for row in rows:
        ws.append(list(row))
    last = len(rows) + 1
    ct = get_column_letter(COLUMNS.index("change_type") + 1)
    nv = get_column_letter(COLUMNS.index("new_value") + 1)
    change = DataValidation(type="list", formula1='"' + ",".join(CHANGE_TYPES) + '"', allow_blank=True)
    change.add(f"{ct}2:{ct}{last}")
    ws.add_data_validation(change)
    lists = wb.create_sheet("choices")
    lists.sheet_state = "hidden"
    by_question: dict[str, list[int]] = {}
    for i, row in enumerate(rows, start=2):
        x = form.questions.get(row[1])
        if x is not None and x.type == "select_one":
            by_question.setdefault(x.name, []).append(i)
    for col, (name, at) in enumerate(sorted(by_question.items()), start=1):
        codes = form.choice_names(name)
        letter = get_column_letter(col)
        lists.cell(row=1, column=col, value=name)
        for r, code in enumerate(codes, start=2):
            lists.cell(row=r, column=col, value=code)
        dv = DataValidation(
            type="list", formula1=f"choices!${letter}$2:${letter}${len(codes) + 1}", allow_blank=True
        )
        for i in at:
            dv.add(f"{nv}{i}")
        ws.add_data_validation(dv)
    for i, width in enumerate((38, 22, 14, 60, 16, 18, 16, 12, 14), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _header_map(header: list[str]) -> dict[str, int] | None:
    """Role -> column index when `header` is a cleaning log's (every required role present), else None."""
    low = [str(h).strip().lower() for h in header]
    found = {}
    for role, names in ALIASES.items():
        for i, h in enumerate(low):
            if h in names:
                found[role] = i
                break
    return found if all(r in found for r in REQUIRED) else None


def read_table(path: Path) -> list[list[str]]:
    """The rows of a csv (`,`, `;` or tab) or the first sheet of an xlsx, as text."""
    if path.suffix.lower() in (".xlsx", ".xls", ".xlsm"):
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        return [[_text(v) for v in row] for row in sheet]
    text = path.read_text(encoding="utf-8-sig")
    first = text.split("\n", 1)[0]
    sep = max((",", ";", "\t"), key=first.count)
    return [list(r) for r in csv.reader(io.StringIO(text), delimiter=sep)]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def is_cleaning_log(path: Path) -> bool:
    """A dropped file is a cleaning log when its header has uuid, question, change_type and new_value."""
    if path.suffix.lower() not in (".csv", ".xlsx", ".xlsm", ".xls"):
        return False
    try:
        if path.suffix.lower() == ".csv":
            with path.open(encoding="utf-8-sig") as fh:
                first = fh.readline()
            sep = max((",", ";", "\t"), key=first.count)
            header = next(csv.reader([first], delimiter=sep), [])
        else:
            rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(nrows=1)
            header = [_text(v) for v in rows[0]] if rows else []
    except Exception:  # not readable as a log: the export readers give it its receipt
        return False
    return _header_map(header) is not None


def read_log(path: Path) -> list[dict[str, str]]:
    """The lines of a filled log as role -> text, each with its spreadsheet row `line` (header = 1)."""
    rows = read_table(path)
    roles = _header_map(rows[0]) if rows else None
    if roles is None:
        raise ValueError(
            f"{path.name}: not a cleaning log (needs uuid, question, change_type, new_value columns)"
        )
    out = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(str(c).strip() for c in row):
            continue
        line = {role: (row[i].strip() if i < len(row) else "") for role, i in roles.items()}
        line["line"] = str(n)
        out.append(line)
    return out
