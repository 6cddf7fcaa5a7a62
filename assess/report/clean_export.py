"""`assess export clean`: the cleaned households in the form's flat Kobo shape (group paths `grp/q`, a
select_multiple's summary column then its `q/opt` 1/0 columns, `_uuid`, `_submission_time`), whatever mix of
Kobo and ODK files they came from, plus the deletion log (uuid, reason, log file, line). Private answers are
the keyed hashes the store holds."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
from openpyxl import Workbook

from ..clean.layer import install
from ..core.settings import Settings
from ..core.sqlutil import atomic_write_bytes, literal, table_columns
from ..core.sqlutil import quote as q
from ..core.xlsform import XLSForm
from .exports import neutralise, write_rows

DELETION_COLUMNS = ("uuid", "reason", "check_id", "log_file", "line")


def clean_query(con: duckdb.DuckDBPyConnection, form: XLSForm) -> tuple[list[str], str]:
    """(Kobo headers, the SELECT over the cleaned `submissions` view)."""
    cols = table_columns(con, "submissions")
    headers, exprs = [], []
    for x in form.answer_questions:
        if x.name not in cols:
            continue
        header = "/".join((*x.group_path, x.name))
        headers.append(header)
        exprs.append(q(x.name))
        if x.type == "select_multiple":
            for opt in form.choice_names(x.name):
                headers.append(f"{header}/{opt}")
                exprs.append(
                    f"CASE WHEN {q(x.name)} IS NULL THEN NULL ELSE "
                    f"CAST(list_contains(string_split({q(x.name)}, ' '), {literal(opt)}) AS INTEGER) END"
                )
    time = next((c for c in ("_submission_time", "SubmissionDate") if c in cols), None)
    if "_submission_time" in cols and "SubmissionDate" in cols:
        time_expr = 'COALESCE("_submission_time", "SubmissionDate")'
    else:
        time_expr = q(time) if time else "NULL"
    headers += ["_uuid", "_submission_time"]
    exprs += ["submission_id", time_expr]
    return headers, f"SELECT {', '.join(exprs)} FROM submissions WHERE round = $round ORDER BY submission_id"


DELETIONS = (
    "SELECT e.submission_id, COALESCE(c.issue, 'remove_survey'), e.check_id, c.file, e.line "
    "FROM cleaning_effective e LEFT JOIN cleaning_changes c ON c.sha256 = e.sha256 AND c.line = e.line "
    "AND c.round = e.round WHERE e.round = $round AND e.change_type = 'remove_survey' ORDER BY 1"
)


def export_clean(
    con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, out: Path
) -> tuple[int, int]:
    """Write the cleaned households to `out` (.csv: the deletion log beside it as `<stem>.deletion_log.csv`;
    .xlsx: a second sheet `deletion_log`); return (households, deletions)."""
    install(con)
    headers, query = clean_query(con, form)
    params = {"round": settings.round}
    deletions = con.execute(DELETIONS, params).fetchall()
    out = Path(out)
    if out.suffix.lower() == ".xlsx":
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = "households"
        ws.append(headers)
        rows = con.execute(query, params).fetchall()
        for row in rows:
            ws.append([neutralise(v) for v in row])
        log = wb.create_sheet("deletion_log")
        log.append(DELETION_COLUMNS)
        for d in deletions:
            log.append([neutralise(v) for v in d])
        buf = io.BytesIO()
        wb.save(buf)
        atomic_write_bytes(out, buf.getvalue())
        return len(rows), len(deletions)
    n = write_rows(headers, con.execute(query, params).fetchall(), out)
    write_rows(DELETION_COLUMNS, deletions, out.with_name(f"{out.stem}.deletion_log.csv"))
    return n, len(deletions)
