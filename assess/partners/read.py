"""Coverage and people in need as the reports and exports read them: with the estimates' `suppressed` flag as
it stands now. The run writes both tables from the estimates of the same run, but suppression may be widened
later (a rerun of the privacy rules, a hand edit): a need or a share that is no longer shown never reaches a
page or a file, and the gap class is derived again from what is still shown.
"""

from __future__ import annotations

import duckdb

from ..core.settings import Settings
from ..core.sqlutil import named_query, table_exists
from .coverage import gap_class, sector_need, straddles
from .run import estimate_cells

CoverageRow = tuple  # the export's columns: level, area, sector, partners, organisations, need, need_low, need_high, gap, uncertain
PinRow = tuple  # level, area, sector, unit, population, pin, pin_low, pin_high


def shown_coverage(
    con: duckdb.DuckDBPyConnection, settings: Settings, round_: str | None
) -> list[CoverageRow]:
    """The coverage rows of the round (every round when None), needs re-read from the shown estimates."""
    if not table_exists(con, "coverage"):
        return []
    rows = con.execute(named_query("assess.partners", "coverage_rows"), {"round": round_}).fetchall()
    spec = settings.partners
    cells_by_round: dict[str, dict] = {}
    out = []
    for rnd, level, area, sector, partners, orgs in rows:
        if rnd not in cells_by_round:
            cells_by_round[rnd] = estimate_cells(con, rnd)
        cells = cells_by_round[rnd]
        refs = spec.sectors.get(sector, ()) if spec else ()
        high = spec.high_need if spec else 0.5
        need, low, up, _ = sector_need(cells, level, area, refs) if refs else (None, None, None, None)
        out.append(
            (
                level,
                area,
                sector,
                partners,
                orgs,
                need,
                low,
                up,
                gap_class(need, partners, high),
                straddles(low, up, high),
            )
        )
    return out


def shown_pin(con: duckdb.DuckDBPyConnection, round_: str) -> list[PinRow]:
    """The round's PiN rows whose severity share is still shown."""
    if not table_exists(con, "pin"):
        return []
    return con.execute(named_query("assess.partners", "pin_rows"), {"round": round_}).fetchall()
