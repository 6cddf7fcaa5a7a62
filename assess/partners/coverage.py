"""Coverage per area and sector: active partners beside the need, and the gap rule.

- Active partners: distinct organisations (by name, case- and accent-insensitive) whose status is active or
  ongoing and whose start..end covers the round's last submission date. A 3W row with a blank admin2 covers
  every district of its admin1; a row naming a district counts for that district and for its admin1.
- Need: the highest of the sector's mapped estimates (`[partners.sectors]`) that is shown (not suppressed),
  with its 95% CI.
- Gap class: `gap` (need >= high_need, no active partner), `thin` (one), `covered` (two or more),
  `low_need` (need below high_need), `unknown` (no need estimate shown). `uncertain`: the CI straddles
  high_need, so the class could be the other side of the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..core.partner_settings import PartnerSpec, mapped_indicator
from .threew import fold, is_active

GAP_CLASSES = ("gap", "thin", "covered", "low_need", "unknown")


@dataclass(frozen=True)
class Cell:
    """One estimate as coverage reads it."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    suppressed: bool


@dataclass(frozen=True)
class Coverage:
    level: str
    area: str
    sector: str
    partners: int
    organisations: tuple[str, ...]
    need: float | None
    need_low: float | None
    need_high: float | None
    need_source: str | None
    gap: str
    uncertain: bool


def gap_class(need: float | None, partners: int, high_need: float) -> str:
    """The gap rule (see the module docstring)."""
    if need is None:
        return "unknown"
    if round(need, 9) < high_need:  # a share of exactly high_need must not flip with summation order
        return "low_need"
    return "gap" if partners == 0 else "thin" if partners == 1 else "covered"


def straddles(low: float | None, high: float | None, threshold: float) -> bool:
    """True when the interval has values on both sides of the threshold."""
    return low is not None and high is not None and low < threshold < high


def sector_need(
    cells: dict[tuple[str, str, str, str], Cell], level: str, area: str, refs: tuple[str, ...]
) -> tuple[float | None, float | None, float | None, str | None]:
    """(need, low, high, source): the highest shown estimate among the sector's mapped ones."""
    best: tuple[float | None, float | None, float | None, str | None] = (None, None, None, None)
    for ref in refs:
        indicator, option = mapped_indicator(ref)
        cell = cells.get((level, area, indicator, option))
        if cell is None or cell.suppressed or cell.estimate is None:
            continue
        if best[0] is None or cell.estimate > best[0]:
            best = (cell.estimate, cell.ci_low, cell.ci_high, ref)
    return best


def _covers(row: dict, level_index: int, area: str, parent: str | None) -> bool:
    """Does the 3W row cover this area? level_index: -1 national, 0 admin1, 1 admin2."""
    code = area.rsplit("/", 1)[-1]
    if level_index < 0:
        return True
    if level_index == 0:
        return row["admin1"] == code
    return row["admin1"] == parent and (row["admin2"] is None or row["admin2"] == code)


def active_organisations(
    rows: list[dict], sector: str, level_index: int, area: str, parent: str | None, on: date | None
) -> tuple[str, ...]:
    """The distinct organisations active in the sector and area on the date, as shown (acronym or name)."""
    seen: dict[str, str] = {}
    for r in rows:
        if r["sector"] != sector or not _covers(r, level_index, area, parent):
            continue
        if is_active(r["status"], r["start_date"], r["end_date"], on):
            seen.setdefault(fold(r["organisation"]), r["org_acronym"] or r["organisation"])
    return tuple(sorted(seen.values(), key=str.casefold))


def coverage(
    spec: PartnerSpec,
    rows: list[dict],
    cells: dict[tuple[str, str, str, str], Cell],
    areas: list[tuple[str, int, str, str | None]],
    on: date | None,
) -> list[Coverage]:
    """One row per (area, sector). `areas`: (level, level index, area key, admin1 code of an admin2 area)."""
    out = []
    for level, index, area, parent in areas:
        for sector, refs in spec.sectors.items():
            orgs = active_organisations(rows, sector, index, area, parent, on)
            need, low, high, source = sector_need(cells, level, area, refs)
            out.append(
                Coverage(
                    level=level,
                    area=area,
                    sector=sector,
                    partners=len(orgs),
                    organisations=orgs,
                    need=need,
                    need_low=low,
                    need_high=high,
                    need_source=source,
                    gap=gap_class(need, len(orgs), spec.high_need),
                    uncertain=straddles(low, high, spec.high_need),
                )
            )
    return out
