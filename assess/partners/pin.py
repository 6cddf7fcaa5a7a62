"""People in need (PiN) per area and sector, from the frame's populations and the severity estimates.

PiN = population x share in severity 3+ (its 95% CI: population x the CI of the share, clipped to 0-100%),
in the frame's unit (`[design] population_unit`: individuals or households). Per severity sector, and
intersectoral from the overall severity (each household's worst sector). Never a sum across sectors: the
same household is in need in several sectors. No population for an area, or a suppressed share: no PiN.
"""

from __future__ import annotations

from dataclasses import dataclass

from .coverage import Cell

IN_NEED = "3+"


@dataclass(frozen=True)
class Pin:
    level: str
    area: str
    sector: str  # severity sector, or 'overall' (intersectoral)
    unit: str
    population: float
    share: float
    pin: float
    pin_low: float | None
    pin_high: float | None


def _clip(x: float | None) -> float | None:
    return None if x is None else min(max(x, 0.0), 1.0)


def people_in_need(
    cells: dict[tuple[str, str, str, str], Cell],
    populations: dict[tuple[str, str], float],
    sectors: list[str],
    unit: str,
) -> list[Pin]:
    """PiN for every estimated area with a population, per sector (`sectors`, then 'overall')."""
    out = []
    areas = list(dict.fromkeys((level, area) for level, area, _, _ in cells))
    for level, area in areas:
        population = populations.get((level, area.rsplit("/", 1)[-1]))
        if population is None:
            continue
        for sector in [*sectors, "overall"]:
            cell = cells.get((level, area, f"severity_{sector}", IN_NEED))
            if cell is None or cell.suppressed or cell.estimate is None:
                continue
            low, high = _clip(cell.ci_low), _clip(cell.ci_high)
            out.append(
                Pin(
                    level=level,
                    area=area,
                    sector=sector,
                    unit=unit,
                    population=population,
                    share=cell.estimate,
                    pin=population * cell.estimate,
                    pin_low=None if low is None else population * low,
                    pin_high=None if high is None else population * high,
                )
            )
    return out
