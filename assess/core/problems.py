"""What validation finds, and the words the pipeline uses for states: one `Problem` per (row, column,
rule), the unit of quarantine and receipts; statuses and kinds as enums (their values are what the store,
receipts and exports hold, so they never change spelling).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum


class FileStatus(StrEnum):
    """What happened to a dropped file."""

    STAGED = "staged"  # read and validated, not yet in the store (or `assess check`)
    LOADED = "loaded"  # in the store
    REJECTED = "rejected"  # unusable as a whole: one quarantine line, nothing loaded
    DUPLICATE = "duplicate"  # this exact file was already processed in the round
    RETRY = "retry"  # changed or vanished while read: not recorded, the next run reads it again


class Kind(StrEnum):
    """The kind of rule a problem broke (also the keys of `[validation.policy]`)."""

    REQUIRED = "required"
    CHOICE = "choice"
    CONSTRAINT = "constraint"
    UNIQUE = "unique"
    WINDOW = "window"
    REGION = "region"
    CUSTOM = "custom"
    CONSISTENCY = "consistency"
    STRUCTURE = "structure"  # the file as a whole (rejected files)


class Action(StrEnum):
    """What a broken rule does to its row."""

    QUARANTINE = "quarantine"  # kept aside, out of the numbers, until a corrected file supersedes it
    WARN = "warn"  # kept in the numbers, listed in the receipt


POLICY_KINDS = tuple(k.value for k in Kind if k is not Kind.STRUCTURE)


@dataclass
class Problem:
    expectation: str  # the rule that failed (GX expectation type, or a structural check)
    reason: str  # plain language, for a field coordinator
    kind: str  # a Kind value
    row: int | None = None  # spreadsheet row in the file (the header is row 1); None for the whole file
    submission_id: str | None = None
    column: str | None = None
    value: str | None = None
    action: str = Action.QUARANTINE
    member: str | None = (
        None  # a member row's sheet (Kobo XLSX) or zip member file (ODK csv.zip); None: household
    )
    path: str | None = None  # a member row's repeat instance, e.g. `roster[2]` or `roster[2]/child[1]`

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class MemberCount:
    """The member rows of one repeat group in one file: read, loaded, kept aside, and not loaded because their
    household (or parent member) was kept aside."""

    repeat: str
    member: str  # the sheet or zip member file they came from
    rows: int = 0
    accepted: int = 0
    quarantined: int = 0  # member rows kept aside by their own problems
    with_household: int = 0  # not loaded because their household (or parent member) was kept aside

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ValidationResult:
    problems: list[Problem] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)  # rules that could not be translated
    rules: int = 0  # expectations evaluated
    docs_path: str | None = None  # the rules report (HTML) of this validation
    # form rules on fields nobody answers (calculate, hidden, metadata, note): never enforced at collection, not applied
    not_enforced: list[str] = field(default_factory=list)
    # rules that failed on most of the rows they apply to: probably form problems, their failures kept as warnings
    suspect_rules: list[str] = field(default_factory=list)

    def quarantined_rows(self) -> set[int]:
        """Household rows kept aside (rows of the file's household sheet)."""
        return {
            p.row
            for p in self.problems
            if p.action == Action.QUARANTINE and p.row is not None and p.member is None
        }

    def quarantined_member_rows(self, member: str) -> set[int]:
        """Rows of one repeat sheet / zip member kept aside by their own problems."""
        return {
            p.row
            for p in self.problems
            if p.action == Action.QUARANTINE and p.row is not None and p.member == member
        }

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.action == Action.WARN)
