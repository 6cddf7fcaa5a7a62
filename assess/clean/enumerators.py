"""Per-enumerator quality rates (issue 17): submissions, median duration and the shares of too-short
interviews, "don't know" answers, soft duplicates, consent = no and duplicated GPS points, sorted by risk (the
sum of the shares). Read from the cleaned households and the checks' `_findings` (run_checks first)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..core.settings import Settings
from ..core.sqlutil import atomic_write_text, table_columns
from ..core.sqlutil import quote as q
from ..core.xlsform import XLSForm
from .checks import duration_sql, enumerator_sql
from .log import log_dir


@dataclass(frozen=True)
class EnumeratorRow:
    enumerator: str
    submissions: int
    median_minutes: float | None
    too_short: float
    dont_know: float
    soft_duplicates: float
    consent_no: float
    duplicated_gps: float

    @property
    def risk(self) -> float:
        return self.too_short + self.dont_know + self.soft_duplicates + self.consent_no + self.duplicated_gps


def enumerator_rows(con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm) -> list[EnumeratorRow]:
    cols = table_columns(con, "submissions")
    who = enumerator_sql(settings, form, cols)
    minutes = duration_sql(form, cols) or "NULL"
    consent = next((x.name for x in form.answer_questions if "consent" in x.name and x.name in cols), None)
    consent_no = f"{q(consent)} = 'no'" if consent else "false"
    gps = next((x.name for x in form.answer_questions if x.type == "geopoint" and x.name in cols), None)
    dup_gps = (  # a semi-join on the repeated points: a window over every submission sorts the whole round
        f"{q(gps)} IN (SELECT {q(gps)} FROM submissions WHERE round = $round AND {q(gps)} IS NOT NULL "
        "GROUP BY ALL HAVING count(*) > 1)"
        if gps
        else "false"
    )
    flagged = "SELECT DISTINCT submission_id FROM _findings WHERE check_id = "
    rows = con.execute(
        "SELECT who, count(*), median(m), avg(CAST(short AS DOUBLE)), avg(CAST(dk AS DOUBLE)), "
        "avg(CAST(sd AS DOUBLE)), avg(CAST(cn AS DOUBLE)), avg(CAST(dg AS DOUBLE)) FROM ("
        f"SELECT COALESCE({who}, '(unknown)') AS who, {minutes} AS m, "
        f"submission_id IN ({flagged}'duration_short') AS short, submission_id IN ({flagged}'dont_know') AS dk, "
        f"submission_id IN ({flagged}'soft_duplicate') AS sd, COALESCE({consent_no}, false) AS cn, "
        f"COALESCE({dup_gps}, false) AS dg FROM submissions WHERE round = $round) GROUP BY who",
        {"round": settings.round},
    ).fetchall()
    out = [EnumeratorRow(r[0], int(r[1]), r[2], *(float(x or 0) for x in r[3:])) for r in rows]
    return sorted(out, key=lambda r: (-r.risk, r.enumerator))


HEADERS = ("Enumerator", "Submissions", "Median minutes", "Too short", "Don't know", "Soft duplicates",
           "Consent = no", "Duplicated GPS", "Risk")  # fmt: skip


def cells(row: EnumeratorRow) -> list[str]:
    pct = [
        f"{v:.0%}"
        for v in (row.too_short, row.dont_know, row.soft_duplicates, row.consent_no, row.duplicated_gps)
    ]
    med = "" if row.median_minutes is None else f"{row.median_minutes:.0f}"
    return [row.enumerator, f"{row.submissions:,}", med, *pct, f"{row.risk:.2f}"]


def write_page(rows: list[EnumeratorRow], settings: Settings, run_id: str) -> Path:
    """`data/processed/cleaning/<round>/enumerators.<run_id>.html`: one row per enumerator, riskiest first."""
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells(r)) + "</tr>" for r in rows)
    path = log_dir(settings) / f"enumerators.{run_id}.html"
    atomic_write_text(
        path,
        "<!doctype html><meta charset='utf-8'><title>Enumerators</title>"
        "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:right}td:first-child{text-align:left}"
        "</style>"
        f"<h1>Enumerators – round {html.escape(settings.round)} – run {html.escape(run_id)}</h1>"
        "<p>Shares of each enumerator's submissions; riskiest first (risk = the sum of the shares). The "
        "enumerator is <code>[quality] enumerator</code>, else the hashed device id.</p>"
        "<table><tr>" + "".join(f"<th>{h}</th>" for h in HEADERS) + f"</tr>{body}</table>",
    )
    return path
