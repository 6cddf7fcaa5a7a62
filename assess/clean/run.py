"""One run's cleaning step, after loading: apply the filled logs dropped in the inbox (each gets a receipt),
run the checks on the cleaned households and write the run's log of new findings."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..core.settings import Settings
from ..core.sqlutil import atomic_write_json, atomic_write_text, table_columns
from ..core.xlsform import XLSForm
from ..inbox.archive import sha256_file
from .apply import LogReceipt, applied_logs, apply_log
from .checks import enumerator_sql, run_checks
from .enumerators import enumerator_rows, write_page
from .layer import install
from .log import is_cleaning_log, new_findings, write_log


@dataclass
class CleaningSummary:
    receipts: list[LogReceipt] = field(default_factory=list)
    findings: int = 0  # every finding of the checks on the round
    new_findings: int = 0  # those written to this run's log
    logs_written: list[str] = field(default_factory=list)
    enumerator_page: str = ""

    def lines(self) -> list[str]:
        """What the run table prints: each log applied, then the log to fill and the enumerator page."""
        out = [
            f"Cleaning log {r.name}: {r.applied} line(s) applied, {len(r.invalid)} not applied, "
            f"{len(r.warnings)} warning(s)"
            + (
                f", {r.released} of {len(r.quarantine)} kept-aside household(s) released"
                if r.quarantine
                else ""
            )
            for r in self.receipts
        ]
        if self.logs_written:
            out.append(f"Cleaning log to fill ({self.new_findings} new finding(s)): {self.logs_written[0]}")
        if self.enumerator_page:
            out.append(f"Enumerators: {self.enumerator_page}")
        return out


def split_logs(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(exports, filled cleaning logs) among the new inbox files."""
    logs = [p for p in paths if is_cleaning_log(p)]
    return [p for p in paths if p not in logs], logs


def enumerators(
    con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, ids: list[str] | None = None
) -> dict[str, str]:
    """Submission id -> its enumerator, for the round or only the submissions `ids` (a log's lines: a run then
    reads 1,000 ids, not a million-entry dict of every household)."""
    expr = enumerator_sql(settings, form, table_columns(con, "submissions"))
    only = "" if ids is None else " AND list_contains($ids, submission_id)"
    rows = con.execute(
        f"SELECT submission_id, {expr} FROM submissions WHERE round = $round{only}",
        {"round": settings.round} | ({} if ids is None else {"ids": ids}),
    )
    return {sid: who or "(unknown)" for sid, who in rows.fetchall()}


def write_log_receipt(settings: Settings, receipt: LogReceipt) -> Path:
    folder = settings.receipts_dir / settings.round
    stem = f"{receipt.name}.{receipt.sha256[:8]}.cleaning"
    atomic_write_json(folder / f"{stem}.json", receipt.as_dict())
    rows = (
        "".join(f"<tr><td>{n}</td><td>problem</td><td>{html.escape(m)}</td></tr>" for n, m in receipt.invalid)
        + "".join(
            f"<tr><td>{n}</td><td>warning</td><td>{html.escape(m)}</td></tr>" for n, m in receipt.warnings
        )
        + "".join(
            f"<tr><td>{n}</td><td>quarantine</td><td>uuid {html.escape(u)}: {html.escape(m)}</td></tr>"
            for n, u, m in receipt.quarantine
        )
    )
    atomic_write_text(
        folder / f"{stem}.html",
        f"<!doctype html><meta charset='utf-8'><title>Cleaning log {html.escape(receipt.name)}</title>"
        f"<h1>Cleaning log {html.escape(receipt.name)}</h1><p>{receipt.lines} line(s): {receipt.applied} applied, "
        f"{len(receipt.invalid)} not applied, {len(receipt.warnings)} warning(s), "
        f"{receipt.released} kept-aside household(s) released.</p>"
        f"<table><tr><th>line</th><th></th><th>what</th></tr>{rows}</table>",
    )
    return folder / f"{stem}.json"


def clean_round(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    form: XLSForm,
    run_id: str,
    logs: list[Path],
    key: str,
    write: bool = True,
) -> CleaningSummary:
    """Apply new logs (oldest name first), then check the cleaned round and write the log of new findings."""
    out = CleaningSummary()
    done = applied_logs(con, settings.round)
    for path in sorted(logs, key=lambda p: (p.stat().st_mtime, p.name)):
        sha = sha256_file(path)
        if sha in done:
            continue
        receipt = apply_log(con, settings, form, path, sha, key, run_id)
        write_log_receipt(settings, receipt)
        out.receipts.append(receipt)
        done.add(sha)
    if not con.execute("SELECT count(*) FROM submissions WHERE round = ?", [settings.round]).fetchone()[0]:  # type: ignore[index]
        return out
    install(con)
    run_checks(con, settings, form)
    out.findings = int(con.execute("SELECT count(*) FROM _findings").fetchone()[0])  # type: ignore[index]
    if write:
        lines = new_findings(con, settings.round)
        out.new_findings = len(lines)
        who = enumerators(con, settings, form, sorted({line[0] for line in lines})) if lines else {}
        out.logs_written = [str(p) for p in write_log(con, settings, form, run_id, who)]
        out.enumerator_page = str(write_page(enumerator_rows(con, settings, form), settings, run_id))
    return out


def receipt_json(receipt: LogReceipt) -> str:
    return json.dumps(receipt.as_dict(), indent=2)
