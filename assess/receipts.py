"""Receipts: what a field coordinator sees for each dropped file (HTML + JSON), and run summaries.

A receipt says whether the file was accepted, how many rows load, and for each problem the row and what
to fix ("row 14, household size 99: must be between 1 and 30"). Values of private and free-text questions
are already redacted by validation; receipts add no answers of their own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from .problems import Problem

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MAX_JSON_PROBLEMS = 5000
MAX_HTML_PROBLEMS = 500
MAX_TEXT_PROBLEMS = 40


@dataclass
class ReceiptData:
    file: str
    sha256: str
    status: str  # loaded | rejected | duplicate | staged (checked, not loaded)
    rows: int
    accepted: int
    quarantined: int
    warnings: int
    reason: str | None = None
    format: str | None = None
    problems: list[Problem] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # reader warnings (encoding, separators)
    docs_path: str | None = None
    rules: int = 0


def _get(out: Any, name: str, default: Any = None) -> Any:
    if isinstance(out, dict):
        return out.get(name, default)
    return getattr(out, name, default)


def receipt_data(out: Any, *, problems: list[Problem] | None = None, not_checked: list[str] | None = None,
                 warnings: list[str] | None = None) -> ReceiptData:
    """Normalise a FileOutcome (or its `summary()` dict plus problems) into what a receipt shows."""
    result = _get(out, "result")
    status = _get(out, "status", "staged")
    reason = _get(out, "reason")
    if problems is None:
        problems = list(_get(result, "problems", None) or _get(out, "problems", None) or [])
    problems = [p if isinstance(p, Problem) else Problem(**p) for p in problems]
    if status == "rejected" and not any(p.kind == "structure" for p in problems):
        problems = [Problem(expectation="file_is_usable", reason=reason or "unusable file", kind="structure")]
    if not_checked is None:
        not_checked = list(_get(result, "not_checked", None) or _get(out, "not_checked", None) or [])
    notes = list(warnings if warnings is not None else (_get(out, "warnings", None) or []))
    if isinstance(_get(out, "warnings"), int) and warnings is None:
        notes = []
    rows = int(_get(out, "rows", 0) or 0)
    warned = sum(1 for p in problems if p.action == "warn")
    bad_rows = {p.row for p in problems if p.action == "quarantine" and p.row is not None}
    if status == "rejected":
        accepted, quarantined = 0, rows
    elif status == "loaded":
        accepted, quarantined = int(_get(out, "accepted", 0) or 0), int(_get(out, "quarantined", 0) or 0)
    else:  # checked, not loaded: what loading would do
        quarantined = len(bad_rows)
        accepted = rows - quarantined
    return ReceiptData(
        file=str(_get(out, "name", None) or _get(out, "file", "") or ""), sha256=str(_get(out, "sha256", "") or ""),
        status=status, rows=rows, accepted=accepted, quarantined=quarantined, warnings=warned + len(notes),
        reason=reason, format=_get(out, "format"), problems=problems, not_checked=not_checked, notes=notes,
        docs_path=_get(result, "docs_path", None) or _get(out, "docs_path", None), rules=int(_get(result, "rules", 0) or 0),
    )


def problem_line(p: Problem) -> str:
    """One actionable line: 'row 14, household size 99: must be between 1 and 30'."""
    where = f"row {p.row}, " if p.row is not None else ""
    return where + p.reason


def headline(d: ReceiptData) -> str:
    if d.status == "rejected":
        return "File not accepted: nothing from it was loaded."
    if d.status == "duplicate":
        return "Already received: this exact file was processed before; nothing changed."
    verb = "loaded" if d.status == "loaded" else "would load"
    if d.quarantined == 0:
        return f"All {d.rows:,} rows {verb}." if d.rows else f"No rows {verb}."
    return (f"{d.accepted:,} of {d.rows:,} rows {verb}; {d.quarantined:,} kept aside until corrected "
            "(fix them and drop the corrected file again).")


def _stem(d: ReceiptData) -> str:
    base = re.sub(r"[^\w.\-]+", "_", os.path.basename(d.file.replace("\\", "/"))).strip("._") or "file"
    base = base[:60].encode("utf-8")[:120].decode("utf-8", errors="ignore")  # file names: 255 bytes at most
    return f"{base}.{d.sha256[:12] or 'nohash'}"


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def receipt_json(d: ReceiptData) -> dict:
    return {
        "file": d.file, "sha256": d.sha256, "status": d.status, "headline": headline(d), "reason": d.reason,
        "format": d.format, "rows": d.rows, "accepted": d.accepted, "quarantined": d.quarantined,
        "warnings": d.warnings, "rules_checked": d.rules,
        "problems": [{**p.as_dict(), "line": problem_line(p)} for p in d.problems[:MAX_JSON_PROBLEMS]],
        "problems_total": len(d.problems), "not_checked": d.not_checked, "notes": d.notes,
        "validation_report": d.docs_path,
    }


def write_receipt(out: Any, dest_dir: Path, *, language: str = "en", problems: list[Problem] | None = None,
                  not_checked: list[str] | None = None, warnings: list[str] | None = None) -> tuple[Path, Path]:
    """Write `<file>.<sha>.json` and `.html` into dest_dir (e.g. receipts/<round>/); returns both paths.

    `out` is a FileOutcome or a dict like `FileOutcome.summary()`; problems / not_checked / warnings
    override what `out` carries. The per-run validation report is copied beside the receipt and linked.
    """
    dest_dir = Path(dest_dir)
    d = receipt_data(out, problems=problems, not_checked=not_checked, warnings=warnings)
    stem = _stem(d)
    docs_link = None
    if d.docs_path and Path(d.docs_path).is_file():
        docs_target = dest_dir / f"{stem}.rules.html"
        dest_dir.mkdir(parents=True, exist_ok=True)
        tmp = docs_target.with_name(f".{docs_target.name}.tmp")
        shutil.copyfile(d.docs_path, tmp)
        os.replace(tmp, docs_target)
        docs_link = docs_target.name
        d.docs_path = str(docs_target)
    json_path = dest_dir / f"{stem}.json"
    html_path = dest_dir / f"{stem}.html"
    _atomic_write(json_path, json.dumps(receipt_json(d), indent=2, ensure_ascii=False, default=str))
    html = _env().get_template("receipt.html.j2").render(
        r=d, headline=headline(d), language=language or "en", docs_link=docs_link,
        problems=d.problems[:MAX_HTML_PROBLEMS], more=max(0, len(d.problems) - MAX_HTML_PROBLEMS),
        line=problem_line, generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
    _atomic_write(html_path, html)
    return json_path, html_path


def format_receipt_text(out: Any, *, problems: list[Problem] | None = None, not_checked: list[str] | None = None,
                        warnings: list[str] | None = None, limit: int = MAX_TEXT_PROBLEMS) -> str:
    """The receipt as plain text, for `assess check FILE` to print."""
    d = receipt_data(out, problems=problems, not_checked=not_checked, warnings=warnings)
    lines = [f"{d.file}  (sha256 {d.sha256[:12]})" if d.sha256 else d.file, headline(d)]
    if d.status == "rejected":
        lines.append(f"Why: {d.reason}")
    else:
        lines.append(f"Rows: {d.rows:,}  accepted: {d.accepted:,}  kept aside: {d.quarantined:,}  "
                     f"warnings: {d.warnings:,}")
        kept = [p for p in d.problems if p.action == "quarantine"]
        warned = [p for p in d.problems if p.action == "warn"]
        for title, group in (("Rows kept aside (fix these):", kept), ("Warnings (rows still counted):", warned)):
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
    if d.docs_path:
        lines.append(f"Validation report: {d.docs_path}")
    return "\n".join(lines)


def validation_summary_markdown(outcomes: list[Any]) -> str:
    """A markdown table of a run's files (for a Prefect artifact): status, counts, main problem kinds."""
    lines = ["| file | status | rows | accepted | kept aside | warnings | main problems |",
             "|---|---|---:|---:|---:|---:|---|"]
    totals = [0, 0, 0, 0]
    for out in outcomes:
        d = receipt_data(out)
        kinds: dict[str, int] = {}
        for p in d.problems:
            kinds[p.kind] = kinds.get(p.kind, 0) + 1
        main = ", ".join(f"{k} {n:,}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:3])
        if d.status == "rejected":
            main = (d.reason or "")[:80]
        cells = [d.file, d.status, f"{d.rows:,}", f"{d.accepted:,}", f"{d.quarantined:,}", f"{d.warnings:,}", main]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
        for i, v in enumerate((d.rows, d.accepted, d.quarantined, d.warnings)):
            totals[i] += v
    lines.append(f"| **total** | | {totals[0]:,} | {totals[1]:,} | {totals[2]:,} | {totals[3]:,} | |")
    return "\n".join(lines)


_DOCS = Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Validation rules: {{ file_name }}</title>
<style>body{font-family:"DejaVu Sans",sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top;font-size:90%}
.fail{background:#fde8e8}.ok{background:#eef8ee}code{font-size:85%}</style></head><body>
<h1>Validation rules</h1>
<p>{{ file_name }} &middot; {{ rules|length }} expectations &middot; {{ route }} &middot; {{ generated }}</p>
<table><thead><tr><th>#</th><th>rule kind</th><th>rule</th><th>Great Expectations expectation</th><th>result</th>
<th>failing rows</th></tr></thead><tbody>
{% for kind, gx_type, describe, outcome in rules %}
<tr class="{{ 'ok' if outcome is none or outcome.success else 'fail' }}"><td>{{ loop.index }}</td><td>{{ kind }}</td>
<td>{{ describe }}</td><td><code>{{ gx_type }}</code></td>
<td>{{ 'not run' if outcome is none else ('passed' if outcome.success else 'failed') }}</td>
<td>{{ '' if outcome is none else outcome.unexpected }}</td></tr>
{% endfor %}
</tbody></table>
{% if not_checked %}<h2>Not checked</h2><ul>{% for n in not_checked %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
</body></html>
""",
    autoescape=True,
)


def write_validation_docs(path: Path, *, file_name: str, route: str, rules: list[tuple], not_checked: list[str]) -> Path:
    """The per-run validation report (the Data Docs equivalent): every expectation and its result."""
    html = _DOCS.render(file_name=file_name, route=route, rules=rules, not_checked=not_checked,
                        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    _atomic_write(Path(path), html)
    return Path(path)
