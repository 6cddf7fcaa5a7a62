"""The run summary: one typed object that the flow builds, the CLI prints, Prefect shows as artifacts and
the report's reproducibility line quotes. Every count a user sees about a run is read from here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .names import safe_name
from .problems import FileStatus


@dataclass
class FileSummary:
    """One file of a run, as the run table and the receipts count it."""

    file: str
    sha256: str
    status: FileStatus
    reason: str | None = None
    format: str | None = None
    rows: int = 0
    accepted: int = 0
    quarantined: int = 0
    warnings: int = 0
    notes: list[str] = field(default_factory=list)  # short lines the run table cannot say (printed under it)


@dataclass(frozen=True)
class HouseholdCounts:
    """Households of a round or an area (the `household_counts` table; assess.estimate.counts)."""

    interviewed: int = 0  # accepted households (rows kept aside by validation are not counted)
    declined: int = 0  # interviewed, but in none of the estimates (declined consent, or no needs answered)
    in_estimates: int = 0

    def sentence(self, declined_word: str = "declined") -> str:
        """'2,000 interviewed, 40 declined, 1,960 in the estimates': how every count is said."""
        return (
            f"{self.interviewed:,} interviewed, {self.declined:,} {declined_word}, "
            f"{self.in_estimates:,} in the estimates"
        )


@dataclass
class SkippedFile:
    """An inbox file whose exact content is already loaded under another round: left alone, so that a changed
    `[survey] round` does not load the same households twice (`assess run --reload-into-round` loads it)."""

    file: str
    loaded_in: str  # the round that holds this content
    round: str  # the round of this run

    def message(self) -> str:
        return (
            f"{self.file} is already loaded in round {self.loaded_in}; skipped. To load it into {self.round} "
            "as well, run `assess run --reload-into-round`."
        )


@dataclass
class EstimateSummary:
    estimates: int = 0  # rows written to `estimates`
    households: HouseholdCounts = field(default_factory=HouseholdCounts)
    declined_word: str = "declined"  # or "without needs answers" when the form has no consent question
    warnings: list[str] = field(default_factory=list)  # design warnings (e.g. a stratum with one PSU)
    trends: int = 0
    buckets: int = 0  # buckets of households whose sums the estimates add up (assess.estimate.moments)
    buckets_recomputed: int = 0  # of which recomputed by this run (the others' sums were reused)


@dataclass
class RunSummary:
    run_id: str
    round: str
    files: list[FileSummary] = field(default_factory=list)
    estimates: EstimateSummary = field(default_factory=EstimateSummary)
    reports: list[str] = field(default_factory=list)
    duration_s: float | None = None
    ingest_runs: list[str] = field(default_factory=list)  # work-pool route: the ingest flow runs it started
    failed_ingest_runs: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)  # already loaded under another round
    cleaning: list[str] = field(
        default_factory=list
    )  # issue 17: logs applied, the log to fill (assess.clean.run)

    @property
    def accepted(self) -> int:
        return sum(f.accepted for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    @property
    def rejected_files(self) -> int:
        return sum(f.status == FileStatus.REJECTED for f in self.files)

    @property
    def all_rejected(self) -> bool:
        """The run had new files and every one of them was rejected (nothing loaded: exit 4, notified)."""
        return bool(self.files) and all(f.status == FileStatus.REJECTED for f in self.files)

    def rejected_message(self) -> str:
        names = ", ".join(f.file for f in self.files)
        return (
            f"Every new file of this run was rejected ({names}); nothing was loaded into round {self.round}. "
            "Each file's receipt says what is wrong and what to do."
        )

    def totals(self) -> dict[str, object]:
        """The `run-totals` artifact row."""
        return {
            "files": len(self.files),
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "rejected files": self.rejected_files,
            "reports written": len(self.reports),
            "duration_s": self.duration_s,
        }

    def as_dict(self) -> dict:
        return asdict(self)

    def markdown(self, title: str = "Assessment run") -> str:
        """The `run-summary` artifact: per file status and counts, then the totals."""
        lines = [
            f"# {title} {self.run_id} (round {self.round})",
            "",
            "| file | status | rows | accepted | quarantined | warnings |",
            "|---|---|---|---|---|---|",
        ]
        for f in self.files:
            lines.append(
                f"| {safe_name(f.file)} | {f.status} | {f.rows} | {f.accepted} | {f.quarantined} | "
                f"{f.warnings} |"
            )
        notes = [f"- {safe_name(f.file)}: {n}" for f in self.files for n in f.notes]
        if notes:
            lines += ["", *notes]
        lines += [
            "",
            f"Households: {self.estimates.households.sentence(self.estimates.declined_word)}; estimate rows: "
            f"{self.estimates.estimates}.",
            f"Reports written: {len(self.reports)}. Duration: "
            f"{'?' if self.duration_s is None else self.duration_s} s.",
        ]
        if self.skipped:
            lines += [
                "",
                "Skipped (already loaded under another round; `assess run --reload-into-round` loads them):",
            ]
            lines += [f"- {safe_name(s.file)}: in round {s.loaded_in}" for s in self.skipped]
        return "\n".join(lines)
