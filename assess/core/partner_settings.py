"""`[partners]` (the 3W/5W list and its sectors) and `[report.boundaries]` (admin boundaries for the maps).

Checked whole when the config is read, like the rest of `assessment.toml`: a mistake is a `ConfigError`
naming the file, the key and what to do. The sector mapping's questions are checked against the form later,
when the form is read (assess/partners/threew.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Global Cluster codes (IASC) with the names a 3W list commonly uses for them, matched case-insensitively.
CLUSTERS: dict[str, tuple[str, ...]] = {
    "CCM": ("Camp Coordination and Camp Management", "CCCM"),
    "EDU": ("Education",),
    "ERY": ("Early Recovery",),
    "ETC": ("Emergency Telecommunications",),
    "FSC": ("Food Security", "Food Security and Livelihoods", "FSL", "Food"),
    "HEA": ("Health",),
    "LOG": ("Logistics",),
    "NUT": ("Nutrition",),
    "PRO": ("Protection",),
    "PRO-CPN": ("Child Protection",),
    "PRO-GBV": ("Gender-Based Violence", "GBV"),
    "SHL": ("Emergency Shelter and NFI", "Shelter", "Shelter and NFI", "Shelter/NFI"),
    "WSH": ("Water Sanitation Hygiene", "Water, Sanitation and Hygiene", "WASH"),
    "MPC": ("Multi-Purpose Cash", "Multipurpose Cash", "Cash"),
}
POPULATION_UNITS = ("individuals", "households")


class ConfigError(Exception):
    """A mistake in these sections; `load_settings` raises it again as settings.ConfigError (exit code 2)."""


@dataclass(frozen=True)
class PartnerSpec:
    """`[partners]`: the 3W file, the need threshold of the gap rule and sector -> mapped estimates."""

    file: Path
    high_need: float = 0.5
    sectors: dict[str, tuple[str, ...]] = field(
        default_factory=dict
    )  # code -> ["q/option", "severity:s", ...]

    def sector_names(self, code: str) -> tuple[str, ...]:
        """Every spelling a 3W row may use for the sector `code` (the code, and the cluster's names)."""
        return (code, *CLUSTERS.get(code.upper(), ()))


@dataclass(frozen=True)
class BoundarySpec:
    """One `[report.boundaries]` entry: a GeoJSON file and the feature property holding the choice name."""

    file: Path
    key: str


def mapped_indicator(ref: str) -> tuple[str, str]:
    """A `[partners.sectors]` entry as (indicator, option) of the estimates table.

    `severity:wash` is the share in severity 3+ of sector wash; `q/option` the share choosing an option;
    anything else (`water_source:need`, a 1/0 calculate) the indicator's own value."""
    if ref.startswith("severity:"):
        return f"severity_{ref.removeprefix('severity:')}", "3+"
    if "/" in ref:
        question, option = ref.split("/", 1)
        return question, option
    return ref, ""


def partner_spec(table: dict[str, Any], path: Path, rel: Callable[[str], Path | None]) -> PartnerSpec:
    """`[partners]` checked whole."""
    known = ("file", "high_need", "sectors")
    for key in table:
        if key not in known:
            raise ConfigError(
                f"{path}: unknown key '{key}' in [partners]. Known keys: {', '.join(known)}. "
                "Check the spelling or remove it."
            )
    file = table.get("file")
    if not isinstance(file, str) or not file.strip():
        raise ConfigError(
            f'{path}: [partners] needs file = "..." (the 3W/5W list, CSV or XLSX, relative to the config file).'
        )
    where = rel(file.strip())
    assert where is not None
    if where.suffix.lower() not in (".csv", ".xlsx"):
        raise ConfigError(f"{path}: [partners] file must be a .csv or .xlsx file, got '{file}'.")
    high = table.get("high_need", 0.5)
    if isinstance(high, bool) or not isinstance(high, int | float) or not 0 < high <= 1:
        raise ConfigError(
            f"{path}: [partners] high_need must be a share between 0 and 1 (e.g. 0.5 for half of the "
            f"households), got {high!r}."
        )
    sectors = table.get("sectors", {})
    if not isinstance(sectors, dict) or not sectors:
        raise ConfigError(
            f"{path}: [partners.sectors] must map each sector to the estimates that show its need, e.g. "
            'WSH = ["priority_needs/water", "severity:wash"].'
        )
    out: dict[str, tuple[str, ...]] = {}
    for code, refs in sectors.items():
        if not isinstance(refs, list) or not refs or not all(isinstance(r, str) and r.strip() for r in refs):
            raise ConfigError(
                f"{path}: [partners.sectors] {code} must be a list of estimates in quotes: a question's "
                'option ("priority_needs/water"), a severity sector ("severity:wash") or an indicator, '
                f"got {refs!r}."
            )
        out[code.strip()] = tuple(r.strip() for r in refs)
    return PartnerSpec(file=where, high_need=float(high), sectors=out)


def boundary_specs(
    table: dict[str, Any], levels: tuple[str, ...], path: Path, rel: Callable[[str], Path | None]
) -> dict[str, BoundarySpec]:
    """`[report.boundaries]`: region level -> GeoJSON file and key property, files checked to exist."""
    out: dict[str, BoundarySpec] = {}
    for level, entry in table.items():
        where = f"[report.boundaries] {level}"
        if level not in levels:
            raise ConfigError(
                f"{path}: {where}: '{level}' is not one of the [regions] levels ({', '.join(levels) or 'none'}); "
                "name a region level or remove the line."
            )
        if not isinstance(entry, dict) or set(entry) != {"file", "key"}:
            raise ConfigError(
                f'{path}: {where} must be {{ file = "data/forms/{level}.geojson", key = "ADM1_PCODE" }}: the '
                "GeoJSON file and the feature property that holds the region's choice name."
            )
        file, key = entry["file"], entry["key"]
        if not isinstance(file, str) or not isinstance(key, str) or not file.strip() or not key.strip():
            raise ConfigError(f"{path}: {where}: file and key must be non-empty texts.")
        geo = rel(file.strip())
        if geo is None or not geo.is_file():
            raise ConfigError(
                f"{path}: {where}: {geo} not found; put the GeoJSON there or fix the path (relative to the "
                "config file)."
            )
        out[level] = BoundarySpec(file=geo, key=key.strip())
    return out


def population_unit(value: Any, path: Path) -> str | None:
    """`[design] population_unit`: what the frame's populations count (needed for people in need)."""
    if value is None:
        return None
    if value not in POPULATION_UNITS:
        raise ConfigError(
            f"{path}: [design] population_unit must be one of {', '.join(POPULATION_UNITS)} (what the "
            f"sampling frame's population counts), got {value!r}."
        )
    return str(value)
