"""The partners step of a run, after the estimates: load the 3W list (with a receipt), then write this round's
`coverage` and `pin` tables from it, the estimates and the frame's populations (one transaction).
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb

from ..core.names import receipt_stem
from ..core.partner_settings import mapped_indicator
from ..core.settings import ConfigError, Settings
from ..core.sqlutil import atomic_write_json, atomic_write_text, named_query, table_exists, transaction
from ..core.xlsform import NEED_SUFFIX, XLSForm
from ..estimate.frame import area_populations
from ..estimate.run import area_expressions, submission_columns
from .coverage import Cell, coverage
from .pin import people_in_need
from .threew import ThreeW, ThreeWError, check_rows, read_table

DATE_COLUMNS = ("_submission_time", "SubmissionDate", "end", "start", "today")


@dataclass
class PartnerSummary:
    """What the step did, for the run's log line."""

    file: str | None = None
    status: str = "none"  # none / loaded / rejected
    rows: int = 0
    accepted: int = 0
    quarantined: int = 0
    reason: str | None = None
    coverage: int = 0
    gaps: int = 0
    pin: int = 0


def sql(name: str) -> str:
    return named_query("assess.partners", name)


def check_sector_mapping(settings: Settings, form: XLSForm) -> None:
    """The 3W file exists and every `[partners.sectors]` entry names something the run estimates (ConfigError
    otherwise); checked at start-up, before any data is read."""
    if settings.partners is None:
        return
    if not settings.partners.file.is_file():
        raise ConfigError(
            f"{settings.config_path}: [partners] file: {settings.partners.file} not found; put the 3W list "
            "there or fix the path (relative to the config file)."
        )
    known = set(form.questions) | {m.name for m in settings.indicators.members}
    severity = {s.sector for s in settings.indicators.severity} | {"overall"}
    for code, refs in settings.partners.sectors.items():
        for ref in refs:
            indicator, _ = mapped_indicator(ref)
            if ref.startswith("severity:"):
                ok = ref.removeprefix("severity:") in severity
            else:
                ok = indicator.removesuffix(NEED_SUFFIX) in known and indicator.removesuffix(NEED_SUFFIX) in (
                    settings.needs
                )
            if not ok:
                raise ConfigError(
                    f"{settings.config_path}: [partners.sectors] {code}: '{ref}' is not estimated; name a "
                    "[needs] question's option (question/option), a [needs] question, or severity:<sector> of "
                    f"an [[indicators.severity]] sector ({', '.join(sorted(severity))})."
                )


def estimate_cells(con: duckdb.DuckDBPyConnection, round_: str) -> dict[tuple[str, str, str, str], Cell]:
    """The round's household estimates, keyed (level, area, indicator, option)."""
    if not table_exists(con, "estimates"):
        return {}
    rows = con.execute(sql("partner_cells"), {"round": round_}).fetchall()
    return {(r[0], r[1], r[2], r[3] or ""): Cell(r[4], r[5], r[6], bool(r[7])) for r in rows}


def last_submission(con: duckdb.DuckDBPyConnection, round_: str) -> date | None:
    """The round's last submission date (the day a 3W row must cover to count as active)."""
    cols = [c for c in DATE_COLUMNS if c in submission_columns(con)]
    if not cols:
        return None
    day = ", ".join(f'TRY_CAST(left(CAST("{c}" AS VARCHAR), 10) AS DATE)' for c in cols)
    row = con.execute(
        f"SELECT max(coalesce({day})) FROM submissions WHERE round = $round", {"round": round_}
    ).fetchone()
    return row[0] if row else None


def area_list(
    con: duckdb.DuckDBPyConnection, settings: Settings, cells: dict
) -> list[tuple[str, int, str, str | None]]:
    """(level, index, area, admin1 code of an admin2 area) for national and the first two region levels."""
    levels = settings.region_levels[:2]
    out: list[tuple[str, int, str, str | None]] = [("national", -1, "all", None)]
    estimated = list(dict.fromkeys((k[0], k[1]) for k in cells))
    parents: dict[str, str] = {}
    if len(levels) == 2 and table_exists(con, "submissions"):
        exprs = area_expressions(con, settings)
        rows = con.execute(
            f"SELECT DISTINCT {exprs[0]}, {exprs[1]} FROM submissions WHERE round = $round",
            {"round": settings.round},
        ).fetchall()
        parents = {str(r[1]): str(r[0]) for r in rows if r[0] is not None and r[1] is not None}
    for index, level in enumerate(levels):
        out += [(level, index, a, parents.get(a) if index else None) for lv, a in estimated if lv == level]
    return out


def _receipt(settings: Settings, name: str, sha: str, result: ThreeW | None, reason: str | None) -> None:
    folder = settings.receipts_dir / settings.round
    stem = receipt_stem(name, sha)
    problems = result.problems if result else []
    accepted = len(result.rows) if result else 0
    headline = (
        f"Rejected: {reason}."
        if reason
        else f"{accepted:,} of {result.total if result else 0:,} rows loaded; "
        f"{result.quarantined if result else 0:,} kept aside."
    )
    atomic_write_json(
        folder / f"{stem}.json",
        {
            "file": name,
            "sha256": sha,
            "kind": "3w",
            "status": "rejected" if reason else "loaded",
            "headline": headline,
            "rows": result.total if result else 0,
            "accepted": accepted,
            "quarantined": result.quarantined if result else 0,
            "problems": [p.__dict__ | {"line": f"row {p.row}, {p.column}: {p.reason}"} for p in problems],
        },
    )
    items = "".join(
        f"<li>row {p.row}, {html.escape(p.column)}: {html.escape(p.reason)}</li>" for p in problems[:500]
    )
    atomic_write_text(
        folder / f"{stem}.html",
        f"<!doctype html><meta charset='utf-8'><title>3W receipt: {html.escape(name)}</title>"
        f"<h1>3W list {html.escape(name)}</h1><p>{html.escape(headline)}</p><ul>{items}</ul>",
    )


def load_three_w(
    con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, summary: PartnerSummary
) -> list[dict]:
    """Read and check the 3W file, fill the round's partner tables (emptied by the caller), write its receipt."""
    spec = settings.partners
    assert spec is not None
    path = spec.file
    if not path.is_file():
        raise ConfigError(
            f"{settings.config_path}: [partners] file: {path} not found; put the 3W list there or fix the path."
        )
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    summary.file = path.name
    result: ThreeW | None = None
    try:
        result = check_rows(read_table(path), spec, form, settings.region_levels)
    except ThreeWError as exc:
        summary.reason = str(exc)
    summary.status = "rejected" if summary.reason else "loaded"
    if result is not None:
        summary.rows, summary.accepted, summary.quarantined = (
            result.total,
            len(result.rows),
            result.quarantined,
        )
    con.execute(
        "INSERT INTO partner_files VALUES ($round, $sha, $file, $rows, $ok, $bad, $status, $reason, $at)",
        {
            "round": settings.round,
            "sha": sha,
            "file": path.name,
            "rows": summary.rows,
            "ok": summary.accepted,
            "bad": summary.quarantined,
            "status": summary.status,
            "reason": summary.reason,
            "at": datetime.now(UTC).replace(tzinfo=None),
        },
    )
    rows = result.rows if result else []
    _insert(con, "partner_rows", [[settings.round, *r.values()] for r in rows])
    problems = result.problems if result else []
    _insert(con, "partner_problems", [[settings.round, p.row, p.column, p.value, p.reason] for p in problems])
    _receipt(settings, path.name, sha, result, summary.reason)
    return rows


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[list]) -> None:
    """Append rows (lists in the table's column order) to one of this step's own tables; none: nothing."""
    if rows:
        con.executemany(f"INSERT INTO {table} VALUES ({', '.join(['?'] * len(rows[0]))})", rows)


def run_partners(con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm) -> PartnerSummary:
    """Refresh this round's partner list, coverage and people in need (nothing to do without them)."""
    summary = PartnerSummary()
    check_sector_mapping(settings, form)
    cells = estimate_cells(con, settings.round)
    with transaction(con):
        for table in ("partner_files", "partner_rows", "partner_problems", "coverage", "pin"):
            con.execute(f"DELETE FROM {table} WHERE round = $round", {"round": settings.round})
        if settings.partners is not None:
            rows = load_three_w(con, settings, form, summary)
            on = last_submission(con, settings.round) if table_exists(con, "submissions") else None
            found = (
                coverage(settings.partners, rows, cells, area_list(con, settings, cells), on) if cells else []
            )
            _insert(
                con,
                "coverage",
                [
                    [settings.round, c.level, c.area, c.sector, c.partners, "; ".join(c.organisations)]
                    + [c.need, c.need_low, c.need_high, c.need_source, c.gap, c.uncertain, on]
                    for c in found
                ],
            )
            summary.coverage, summary.gaps = len(found), sum(c.gap == "gap" for c in found)
        if settings.population_unit and settings.frame is not None:
            sectors = [s.sector for s in settings.indicators.severity]
            pins = people_in_need(cells, area_populations(settings), sectors, settings.population_unit)
            _insert(
                con,
                "pin",
                [
                    [settings.round, p.level, p.area, p.sector, p.unit, p.population, p.share]
                    + [p.pin, p.pin_low, p.pin_high]
                    for p in pins
                ],
            )
            summary.pin = len(pins)
    return summary
