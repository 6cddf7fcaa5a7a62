"""Receipts for dropped files and the run summary, as the flow and CLI use them (see assess/receipts.py)."""

from __future__ import annotations

from pathlib import Path

from . import receipts
from .ingest import FileOutcome, safe_name
from .settings import Settings
from .xlsform import XLSForm


def write_receipts(out: FileOutcome, settings: Settings, form: XLSForm, run_id: str) -> list[Path]:
    """HTML + JSON receipt for one dropped file, in receipts/<round>/."""
    language = form.resolve_language(settings.language)
    json_path, html_path = receipts.write_receipt(out, settings.receipts_dir / settings.round,
                                                  language=_lang_code(language))
    return [json_path, html_path]


def _lang_code(language: str) -> str:
    """'Français (fr)' -> 'fr'; plain names fall back to English."""
    if "(" in language and language.endswith(")"):
        return language[language.rindex("(") + 1:-1].strip() or "en"
    return "en"


def format_text(out: FileOutcome) -> str:
    """The receipt as plain text, for `assess check`."""
    return receipts.format_receipt_text(out)


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


def receipt_stem(out: FileOutcome) -> str:
    """File name (without extension) of a file's receipt."""
    return receipts._stem(receipts.receipt_data(out))


def validation_summary(outcomes: list[FileOutcome]) -> str:
    return receipts.validation_summary_markdown(outcomes)
