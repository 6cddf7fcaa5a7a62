"""What a receipt says about one dropped file: counts, headline and one actionable line per problem.

Built here, from a `FileOutcome` (or a stored file's summary); drawn as HTML, JSON and text by
`assess.report.receipts`. Values of private and free-text questions are already redacted by validation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.problems import Action, FileStatus, Kind, MemberCount, Problem


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
    not_enforced: list[str] = field(default_factory=list)  # form rules on fields nobody answers: not applied
    suspect_rules: list[str] = field(default_factory=list)  # rules failing on most rows: warnings, rows kept
    notes: list[str] = field(default_factory=list)  # reader warnings (encoding, separators)
    docs_path: str | None = None
    rules: int = 0
    members: list[MemberCount] = field(
        default_factory=list
    )  # member rows per repeat group (sheet / zip member)


def _get(out: Any, name: str, default: Any = None) -> Any:
    if isinstance(out, dict):
        return out.get(name, default)
    return getattr(out, name, default)


def receipt_data(
    out: Any,
    *,
    problems: list[Problem] | None = None,
    not_checked: list[str] | None = None,
    warnings: list[str] | None = None,
) -> ReceiptData:
    """Normalise a FileOutcome (or its `summary()` dict plus problems) into what a receipt shows."""
    result = _get(out, "result")
    status = _get(out, "status", "staged")
    reason = _get(out, "reason")
    if problems is None:
        problems = list(_get(result, "problems", None) or _get(out, "problems", None) or [])
    problems = [p if isinstance(p, Problem) else Problem(**p) for p in problems]
    if status == FileStatus.REJECTED and not any(p.kind == Kind.STRUCTURE for p in problems):
        problems = [
            Problem(expectation="file_is_usable", reason=reason or "unusable file", kind=Kind.STRUCTURE)
        ]
    if not_checked is None:
        not_checked = list(_get(result, "not_checked", None) or _get(out, "not_checked", None) or [])
    not_enforced = list(_get(result, "not_enforced", None) or _get(out, "not_enforced", None) or [])
    suspect_rules = list(_get(result, "suspect_rules", None) or _get(out, "suspect_rules", None) or [])
    notes = list(warnings if warnings is not None else (_get(out, "warnings", None) or []))
    if isinstance(_get(out, "warnings"), int) and warnings is None:
        notes = []
    members = [
        m if isinstance(m, MemberCount) else MemberCount(**m) for m in (_get(out, "members", None) or [])
    ]
    if status == FileStatus.REJECTED:
        members = []
    rows = int(_get(out, "rows", 0) or 0)
    warned = sum(1 for p in problems if p.action == Action.WARN)
    bad_rows = {p.row for p in problems if p.action == Action.QUARANTINE and p.row is not None}
    if status == FileStatus.REJECTED:
        accepted, quarantined = 0, rows
    elif status == FileStatus.LOADED:
        accepted, quarantined = int(_get(out, "accepted", 0) or 0), int(_get(out, "quarantined", 0) or 0)
    else:  # checked, not loaded: what loading would do
        quarantined = len(bad_rows)
        accepted = rows - quarantined
    return ReceiptData(
        file=str(_get(out, "name", None) or _get(out, "file", "") or ""),
        sha256=str(_get(out, "sha256", "") or ""),
        status=status,
        rows=rows,
        accepted=accepted,
        quarantined=quarantined,
        warnings=warned + len(notes),
        reason=reason,
        format=_get(out, "format"),
        problems=problems,
        not_checked=not_checked,
        notes=notes,
        not_enforced=not_enforced,
        suspect_rules=suspect_rules,
        docs_path=_get(result, "docs_path", None) or _get(out, "docs_path", None),
        rules=int(_get(result, "rules", 0) or 0),
        members=members,
    )


def problem_line(p: Problem) -> str:
    """One actionable line: 'row 14, household size 99: must be between 1 and 30'; a member row names its sheet
    (or zip member file) and instance: 'roster, row 3 (roster[2]), Age 130: ...'."""
    where = f"row {p.row}, " if p.row is not None else ""
    if p.member is not None:
        where = f"{p.member}, " + (
            f"row {p.row}" + (f" ({p.path})" if p.path else "") + ", " if p.row is not None else ""
        )
    return where + p.reason


def member_line(m: MemberCount, status: str) -> str:
    """'roster (sheet/file roster): 6 rows, 2 loaded, 3 kept aside, 1 not loaded with their household'."""
    verb = "loaded" if status == FileStatus.LOADED else "would load"
    parts = [f"{m.rows:,} rows", f"{m.accepted:,} {verb}"]
    if m.quarantined:
        parts.append(f"{m.quarantined:,} kept aside")
    if m.with_household:
        parts.append(f"{m.with_household:,} not loaded with their household (kept aside) or parent row")
    return f"{m.repeat} ({m.member}): " + ", ".join(parts)


def headline(d: ReceiptData) -> str:
    if d.status == FileStatus.REJECTED:
        return "File not accepted: nothing from it was loaded."
    if d.status == FileStatus.DUPLICATE:
        return "Already received: this exact file was processed before; nothing changed."
    verb = "loaded" if d.status == FileStatus.LOADED else "would load"
    if d.quarantined == 0:
        return f"All {d.rows:,} rows {verb}." if d.rows else f"No rows {verb}."
    return (
        f"{d.accepted:,} of {d.rows:,} rows {verb}; {d.quarantined:,} kept aside until corrected "
        "(fix them and drop the corrected file again)."
    )
