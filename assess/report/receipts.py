"""Receipts drawn for coordinators: one HTML + JSON per dropped file, its text for `assess check`, and the
validation summary artifact of a run. What they say is built in `assess.validate.receipt`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..core.names import receipt_stem
from ..core.problems import Action, FileStatus, Problem
from ..core.settings import Settings
from ..core.sqlutil import atomic_copy, atomic_write_text
from ..core.xlsform import XLSForm
from ..validate.receipt import ReceiptData, headline, member_line, problem_line, receipt_data
from .templates import environment

MAX_JSON_PROBLEMS = 5000
MAX_HTML_PROBLEMS = 500
MAX_TEXT_PROBLEMS = 40


def receipt_json(d: ReceiptData) -> dict:
    return {
        "file": d.file,
        "sha256": d.sha256,
        "status": d.status,
        "headline": headline(d),
        "suspect_rules": d.suspect_rules,
        "reason": d.reason,
        "format": d.format,
        "rows": d.rows,
        "accepted": d.accepted,
        "quarantined": d.quarantined,
        "warnings": d.warnings,
        "rules_checked": d.rules,
        "problems": [{**p.as_dict(), "line": problem_line(p)} for p in d.problems[:MAX_JSON_PROBLEMS]],
        "problems_total": len(d.problems),
        "not_checked": d.not_checked,
        "not_enforced": d.not_enforced,
        "notes": d.notes,
        "validation_report": d.docs_path,
        "members": [{**m.as_dict(), "line": member_line(m, d.status)} for m in d.members],
    }


def write_receipt(
    out: Any,
    dest_dir: Path,
    *,
    language: str = "en",
    problems: list[Problem] | None = None,
    not_checked: list[str] | None = None,
    warnings: list[str] | None = None,
) -> tuple[Path, Path]:
    """Write `<file>.<sha>.json` and `.html` into dest_dir (e.g. receipts/<round>/); returns both paths.

    `out` is a FileOutcome or a dict like `FileOutcome.summary()`; problems / not_checked / warnings
    override what `out` carries. The per-run validation report is copied beside the receipt and linked.
    """
    dest_dir = Path(dest_dir)
    d = receipt_data(out, problems=problems, not_checked=not_checked, warnings=warnings)
    stem = receipt_stem(d.file, d.sha256)
    docs_link = None
    if d.docs_path and Path(d.docs_path).is_file():
        docs_target = atomic_copy(Path(d.docs_path), dest_dir / f"{stem}.rules.html")
        docs_link = docs_target.name
        d.docs_path = str(docs_target)
    json_path = dest_dir / f"{stem}.json"
    html_path = dest_dir / f"{stem}.html"
    atomic_write_text(json_path, json.dumps(receipt_json(d), indent=2, ensure_ascii=False, default=str))
    html = (
        environment()
        .get_template("receipt.html.j2")
        .render(
            r=d,
            headline=headline(d),
            language=language or "en",
            docs_link=docs_link,
            problems=d.problems[:MAX_HTML_PROBLEMS],
            more=max(0, len(d.problems) - MAX_HTML_PROBLEMS),
            line=problem_line,
            generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )
    )
    atomic_write_text(html_path, html)
    return json_path, html_path


def format_receipt_text(
    out: Any,
    *,
    problems: list[Problem] | None = None,
    not_checked: list[str] | None = None,
    warnings: list[str] | None = None,
    limit: int = MAX_TEXT_PROBLEMS,
) -> str:
    """The receipt as plain text, for `assess check FILE` to print."""
    d = receipt_data(out, problems=problems, not_checked=not_checked, warnings=warnings)
    lines = [f"{d.file}  (sha256 {d.sha256[:12]})" if d.sha256 else d.file, headline(d)]
    lines += [f"Probably a form problem: {n}" for n in d.suspect_rules]
    if d.status == FileStatus.REJECTED:
        lines.append(f"Why: {d.reason}")
    else:
        lines.append(
            f"Rows: {d.rows:,}  accepted: {d.accepted:,}  kept aside: {d.quarantined:,}  "
            f"warnings: {d.warnings:,}"
        )
        if d.members:
            lines.append("Member rows (repeat groups):")
            lines += [f"  {member_line(m, d.status)}" for m in d.members]
        kept = [p for p in d.problems if p.action == Action.QUARANTINE]
        warned = [p for p in d.problems if p.action == Action.WARN]
        for title, group in (
            ("Rows kept aside (fix these):", kept),
            ("Warnings (rows still counted):", warned),
        ):
            if group:
                lines.append(title)
                lines += [f"  {problem_line(p)}" for p in group[:limit]]
                if len(group) > limit:
                    lines.append(f"  ... and {len(group) - limit:,} more (see the HTML receipt)")
    if d.notes:
        lines.append("Notes:")
        lines += [f"  {n}" for n in d.notes]
    if d.not_checked:
        lines.append("Rules not checked (could not be translated):")
        lines += [f"  {n}" for n in d.not_checked]
    if d.not_enforced:
        lines.append("Rules not enforced at collection (on fields nobody answers; not applied):")
        lines += [f"  {n}" for n in d.not_enforced]
    if d.docs_path:
        lines.append(f"Validation report: {d.docs_path}")
    return "\n".join(lines)


def validation_summary_markdown(outcomes: list[Any]) -> str:
    """A markdown table of a run's files (for a Prefect artifact): status, counts, main problem kinds."""
    lines = [
        "| file | status | rows | accepted | kept aside | warnings | main problems |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    totals = [0, 0, 0, 0]
    for out in outcomes:
        d = receipt_data(out)
        kinds: dict[str, int] = {}
        for p in d.problems:
            kinds[p.kind] = kinds.get(p.kind, 0) + 1
        main = ", ".join(f"{k} {n:,}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:3])
        if d.status == FileStatus.REJECTED:
            main = (d.reason or "")[:80]
        cells = [
            d.file,
            d.status,
            f"{d.rows:,}",
            f"{d.accepted:,}",
            f"{d.quarantined:,}",
            f"{d.warnings:,}",
            main,
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
        for i, v in enumerate((d.rows, d.accepted, d.quarantined, d.warnings)):
            totals[i] += v
    lines.append(f"| **total** | | {totals[0]:,} | {totals[1]:,} | {totals[2]:,} | {totals[3]:,} | |")
    return "\n".join(lines)


def write_receipts(out: Any, settings: Settings, form: XLSForm) -> tuple[Path, Path]:
    """HTML + JSON receipt for one dropped file, in receipts/<round>/, in the form's label language."""
    return write_receipt(out, settings.receipts_dir / settings.round, language=form.language.code)
