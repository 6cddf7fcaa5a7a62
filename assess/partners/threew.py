"""Read and check the 3W/5W list (`[partners] file`): who does what, where, when.

Each row is checked like a survey row: an organisation, a known sector (a `[partners.sectors]` code or one of
its Global Cluster names), known areas (choice names, labels in any language or p-codes of the form's region
lists; admin2 inside its admin1; a blank admin2 covers every district of the admin1), a known status and
readable dates. A row failing a check is kept aside with a reason naming its row and column; the rest load.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from ..core.partner_settings import PartnerSpec
from ..core.xlsform import XLSForm

REQUIRED = ("organisation", "org_acronym", "org_type", "sector", "admin1", "admin2", "activity", "status")
DATES = ("start", "end")
OPTIONAL = ("implementing_partner", "donor", "targeted", "reached")
ACTIVE = ("active", "ongoing")
# other spellings of the column names seen in 3W/5W templates
ALIASES = {
    "organization": "organisation",
    "org_name": "organisation",
    "acronym": "org_acronym",
    "organisation_acronym": "org_acronym",
    "organization_acronym": "org_acronym",
    "organisation_type": "org_type",
    "organization_type": "org_type",
    "cluster": "sector",
    "adm1": "admin1",
    "adm2": "admin2",
    "start_date": "start",
    "end_date": "end",
}
STATUSES = (*ACTIVE, "planned", "pipeline", "completed", "ended", "closed", "suspended", "cancelled")


class ThreeWError(Exception):
    """The whole file cannot be used (unreadable, a required column missing): it is rejected."""


@dataclass(frozen=True)
class Problem:
    row: int | None
    column: str
    value: str
    reason: str


@dataclass
class ThreeW:
    """The rows that passed (one dict per row, areas as choice names) and the problems of the others."""

    rows: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    total: int = 0

    @property
    def quarantined(self) -> int:
        return len({p.row for p in self.problems})


def fold(text: str) -> str:
    """Case-, accent- and space-insensitive key for matching names written by hand."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode() or text
    return " ".join(plain.casefold().replace("_", " ").replace("-", " ").split())


def read_table(path: Path) -> pd.DataFrame:
    """The file as text cells ('' for empty), headers folded to snake_case (and common other spellings, e.g.
    `Organization`, `Cluster`, `Start date`, taken as the standard names)."""
    try:
        if path.suffix.lower() == ".xlsx":
            df = pd.read_excel(path, dtype=str, keep_default_na=False, na_values=[], engine="calamine")
        else:
            df = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                na_values=[],
                encoding="utf-8-sig",
                sep=None,
                engine="python",
            )  # the separator is sniffed: `,`, `;` or tab
    except (OSError, ValueError, ImportError) as exc:
        raise ThreeWError(
            f"the file cannot be read ({str(exc).splitlines()[0] if str(exc) else exc!r})"
        ) from exc
    names = [fold(str(c)).replace(" ", "_") for c in df.columns]
    df.columns = [ALIASES.get(n, n) if ALIASES.get(n, n) not in names else n for n in names]
    return df.map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip())


class AreaIndex:
    """Choice name, label (any language) or p-code -> choice name, for one region level's choice list."""

    def __init__(self, form: XLSForm, level: str, parent_level: str | None = None):
        question = form.questions.get(level)
        choices = form.choices.get(question.list_name or "", []) if question else []
        self.names = [c.name for c in choices]
        self.parent: dict[str, str] = {}
        self.keys: dict[str, set[str]] = {}
        for c in choices:
            spellings = [c.name, *c.labels.values()]
            spellings += [v for k, v in c.extra.items() if "pcode" in k.lower().replace("_", "") and v]
            for s in spellings:
                self.keys.setdefault(fold(s), set()).add(c.name)
            if parent_level and c.extra.get(parent_level):
                self.parent[c.name] = c.extra[parent_level]

    def find(self, text: str, parent: str | None = None) -> list[str]:
        found = sorted(self.keys.get(fold(text), set()))
        if parent is not None and self.parent:
            found = [f for f in found if self.parent.get(f, parent) == parent]
        return found


def _date(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text[:19]).date() if len(text) > 10 else date.fromisoformat(text)
    except ValueError:
        pass
    for fmt in ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def sector_lookup(spec: PartnerSpec) -> dict[str, str]:
    """Every accepted spelling (folded) -> the `[partners.sectors]` code."""
    out: dict[str, str] = {}
    for code in spec.sectors:
        for name in spec.sector_names(code):
            out.setdefault(fold(name), code)
    return out


def check_rows(df: pd.DataFrame, spec: PartnerSpec, form: XLSForm, levels: tuple[str, ...]) -> ThreeW:
    """Check every row; the passing ones come back with codes, the others as problems (one per failure)."""
    missing = [c for c in (*REQUIRED, *DATES) if c not in df.columns]
    if missing:
        raise ThreeWError(
            f"column(s) {', '.join(missing)} missing; a 3W list needs the columns "
            f"{', '.join((*REQUIRED, *DATES))} (optional: {', '.join(OPTIONAL)})"
        )
    level1 = levels[0] if levels else "admin1"
    level2 = levels[1] if len(levels) > 1 else None
    areas1 = AreaIndex(form, level1)
    areas2 = AreaIndex(form, level2, level1) if level2 else None
    sectors = sector_lookup(spec)
    out = ThreeW(total=len(df))
    for i, rec in enumerate(df.to_dict("records")):
        row = i + 2
        if not any(rec.values()):
            out.total -= 1
            continue
        problems: list[Problem] = []

        def bad(column: str, reason: str, rec: dict = rec, row: int = row, problems: list = problems) -> None:
            problems.append(Problem(row, column, rec.get(column, ""), reason))

        if not rec["organisation"]:
            bad("organisation", "no organisation; write the organisation's name")
        sector = sectors.get(fold(rec["sector"]))
        if sector is None:
            bad(
                "sector",
                f"sector '{rec['sector']}' is not in [partners.sectors] ({', '.join(spec.sectors)}); use one of "
                "these codes or their cluster names, or map the sector in the config",
            )
        a1 = areas1.find(rec["admin1"])
        if len(a1) != 1:
            bad(
                "admin1",
                f"admin1 '{rec['admin1']}' is "
                + ("not a region of the form" if not a1 else f"ambiguous ({', '.join(a1)})")
                + "; write its choice name, label or p-code",
            )
        a2: list[str] = []
        if rec["admin2"] and areas2 is not None:
            a2 = areas2.find(rec["admin2"], a1[0] if len(a1) == 1 else None)
            if len(a2) != 1:
                bad(
                    "admin2",
                    f"admin2 '{rec['admin2']}' is "
                    + ("not a district of " + (rec["admin1"] or "the form") if not a2 else "ambiguous")
                    + "; write its choice name, label or p-code, or leave it blank for every district",
                )
        status = fold(rec["status"])
        if status not in STATUSES:
            bad("status", f"status '{rec['status']}' is not one of {', '.join(STATUSES)}")
        when: dict[str, date | None] = {}
        for col in DATES:
            try:
                when[col] = _date(rec[col])
            except ValueError:
                bad(col, f"'{rec[col]}' is not a date; write dates as YYYY-MM-DD")
        if when.get("start") and when.get("end") and when["end"] < when["start"]:  # type: ignore[operator]
            bad("end", f"ends ({rec['end']}) before it starts ({rec['start']})")
        numbers: dict[str, float | None] = {}
        for col in ("targeted", "reached"):
            text = rec.get(col, "").replace(",", "")
            try:
                numbers[col] = float(text) if text else None
            except ValueError:
                bad(col, f"'{rec[col]}' is not a number of people")
        if problems:
            out.problems += problems
            continue
        out.rows.append(
            {
                "row": row,
                "organisation": rec["organisation"],
                "org_acronym": rec["org_acronym"] or None,
                "org_type": rec["org_type"] or None,
                "sector": sector,
                "admin1": a1[0],
                "admin2": a2[0] if a2 else None,
                "activity": rec["activity"] or None,
                "status": status,
                "start_date": when.get("start"),
                "end_date": when.get("end"),
                "implementing_partner": rec.get("implementing_partner") or None,
                "donor": rec.get("donor") or None,
                "targeted": numbers.get("targeted"),
                "reached": numbers.get("reached"),
            }
        )
    return out


def is_active(status: str, start: date | None, end: date | None, on: date | None) -> bool:
    """Active on `on`: status active/ongoing and start..end (blank: open) covers the date."""
    if status not in ACTIVE:
        return False
    if on is None:
        return True
    return (start is None or start <= on) and (end is None or on <= end)
