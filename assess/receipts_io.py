"""Receipts for dropped files and the run summary, as the flow and CLI use them."""

from __future__ import annotations

from pathlib import Path

from .ingest import FileOutcome, problems_for_receipt, safe_name, write_json_atomic
from .settings import Settings
from .xlsform import XLSForm


def receipt_stem(out: FileOutcome) -> str:
    return f"{safe_name(Path(out.name).stem, 60)}.{out.sha256[:8]}"


def receipt_data(out: FileOutcome, run_id: str) -> dict:
    return {
        **out.summary(),
        "run_id": run_id,
        "received_at": out.received_at,
        "file_warnings": out.warnings,
        "not_checked": out.result.not_checked if out.result else [],
        "problems": [p.as_dict() for p in problems_for_receipt(out)],
    }


def write_receipts(out: FileOutcome, settings: Settings, form: XLSForm, run_id: str) -> list[Path]:
    data = receipt_data(out, run_id)
    path = settings.receipts_dir / settings.round / f"{receipt_stem(out)}.json"
    write_json_atomic(path, data)
    return [path]


def run_summary_markdown(run: dict) -> str:
    lines = [f"# Assessment run {run['run_id']} (round {run['round']})", "",
             "| file | status | rows | accepted | quarantined | warnings |", "|---|---|---|---|---|---|"]
    for f in run["files"]:
        lines.append(f"| {safe_name(f['file'])} | {f['status']} | {f['rows']} | {f['accepted']} | "
                     f"{f['quarantined']} | {f['warnings']} |")
    est = run.get("estimates", {})
    lines += ["", f"Households in estimates: {est.get('households', 0)}; estimate rows: {est.get('estimates', 0)}.",
              f"Reports written: {len(run.get('reports', []))}. Duration: {run.get('duration_s', '?')} s."]
    return "\n".join(lines)


def format_text(out: FileOutcome) -> str:
    """The receipt as plain text, for `assess check`."""
    summary = out.summary()
    lines = [f"File: {safe_name(out.name)}  (sha256 {out.sha256[:12]})", f"Status: {summary['status']}"]
    if out.status == "rejected":
        lines.append(f"Rejected: {out.reason}")
        return "\n".join(lines)
    bad = out.result.quarantined_rows() if out.result else set()
    lines.append(f"Rows: {out.rows}; would load: {out.rows - len(bad)}; would be quarantined: {len(bad)}")
    for w in out.warnings:
        lines.append(f"Warning: {w}")
    for p in problems_for_receipt(out):
        where = f"row {p.row}" if p.row else "file"
        lines.append(f"{'QUARANTINE' if p.action == 'quarantine' else 'warning'}: {where}, {p.column or ''}: {p.reason}")
    for rule in out.result.not_checked if out.result else []:
        lines.append(f"Not checked: {rule}")
    return "\n".join(lines)
