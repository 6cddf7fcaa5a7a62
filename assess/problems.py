"""What validation finds: one `Problem` per (row, column, rule), the unit of quarantine and receipts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Problem:
    expectation: str  # the rule that failed (GX expectation type, or a structural check)
    reason: str  # plain language, for a field coordinator
    kind: str  # required | choice | constraint | unique | window | region | custom | consistency | structure
    row: int | None = None  # 1-based data row in the file; None for the whole file
    submission_id: str | None = None
    column: str | None = None
    value: str | None = None
    action: str = "quarantine"  # quarantine | warn

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ValidationResult:
    problems: list[Problem] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)  # rules that could not be translated
    rules: int = 0  # expectations evaluated
    docs_path: str | None = None  # Data Docs / HTML for this validation

    def quarantined_rows(self) -> set[int]:
        return {p.row for p in self.problems if p.action == "quarantine" and p.row is not None}
