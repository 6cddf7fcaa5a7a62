"""Aggregates partners can load: `assess export coverage` and `assess export share --out DIR`.

The share folder holds estimates.csv (shares, as percentages), coverage.csv, pin.csv, the two HDX HAPI tables
(humanitarian needs, operational presence) and provenance.json. Each CSV has an HXL hashtag row under its header
(`--no-hxl` leaves it out); `--xlsx` also writes one workbook with a sheet each. Only cells that are not
suppressed are written, and nothing personal: areas, sectors, organisations and numbers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb

from ..core.settings import Settings
from ..core.sqlutil import atomic_write_json, named_query, table_exists
from ..core.xlsform import XLSForm
from ..partners.read import shown_coverage, shown_pin
from ..partners.run import area_list, estimate_cells, last_submission
from ..partners.threew import is_active
from .exports import write_rows
from .queries import StoreData

COVERAGE_COLUMNS = (
    "level", "area", "sector", "partners", "organisations", "need", "need_low", "need_high", "gap", "uncertain"
)  # fmt: skip
AREA = (("adm1_code", "#adm1+code"), ("adm1_name", "#adm1+name"), ("adm2_code", "#adm2+code"), ("adm2_name", "#adm2+name"))  # fmt: skip
Table = tuple[list[str], list[str], list[list[object]]]  # header, hashtags, rows


def sql(name: str) -> str:
    return named_query("assess.report", name)


def export_coverage(
    con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, round_: str | None, out: Path
) -> int:
    """`level, area, sector, partners, organisations, need, need_low, need_high, gap, uncertain`."""
    return write_rows(COVERAGE_COLUMNS, shown_coverage(con, settings, round_), out)


class Areas:
    """admin1/admin2 codes and names of an estimate's (level, area), labelled from the form."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings, data: StoreData):
        self.levels = settings.region_levels[:2]
        self.data = data
        cells = estimate_cells(con, settings.round)
        self.parent = {a: p for _, i, a, p in area_list(con, settings, cells) if i == 1 and p}

    def level_number(self, level: str) -> int:
        return 0 if level == "national" else self.levels.index(level) + 1 if level in self.levels else 0

    def columns(self, level: str, area: str) -> list[object]:
        n = self.level_number(level)
        code = area.rsplit("/", 1)[-1]
        if n == 0:
            return ["", "", "", ""]
        if n == 1:
            return [code, self.data.plain_area_label(level, code), "", ""]
        parent = self.parent.get(area, area.split("/", 1)[0] if "/" in area else "")
        label1 = self.data.plain_area_label(self.levels[0], parent) if parent else ""
        return [parent, label1, code, self.data.plain_area_label(level, area)]


def sector_names(settings: Settings) -> tuple[dict[str, str], dict[str, str]]:
    """(severity sector -> cluster code, code -> name) from `[partners.sectors]` and the cluster list."""
    from ..core.partner_settings import CLUSTERS

    codes: dict[str, str] = {}
    names: dict[str, str] = {"intersectoral": "Intersectoral"}
    spec = settings.partners
    for code, refs in (spec.sectors if spec else {}).items():
        names[code] = CLUSTERS.get(code.upper(), (code,))[0]
        for ref in refs:
            if ref.startswith("severity:"):
                codes.setdefault(ref.removeprefix("severity:"), code)
    for sev in settings.indicators.severity:
        names.setdefault(codes.get(sev.sector, sev.sector), sev.label or sev.sector.title())
    return codes, names


def _pct(x: float | None) -> float | None:
    return None if x is None else round(100 * x, 2)


def tables(con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm) -> dict[str, Table]:
    """Every shared table, by file stem."""
    code = form.language.code
    data = StoreData(con, settings, form, form.language.column)
    areas = Areas(con, settings, data)
    first, last, _ = data.dates()
    reported = last.isoformat() if last else ""
    sev_code, names = sector_names(settings)
    country = ""  # HAPI's location_code (ISO3): the assessment does not know it; fill it in before loading
    out: dict[str, Table] = {}

    est = [
        [e.level, *areas.columns(e.level, e.area), e.indicator, data.indicator_label(e.indicator, code)]
        + [e.option, data.option_label(e.indicator, e.option, code) if e.option else ""]
        + [_pct(e.estimate), _pct(e.ci_low), _pct(e.ci_high), e.n, reported]
        for e in data.estimates
        if e.unit == "household"
        and not e.suppressed
        and e.estimate is not None
        and data.kind(e.indicator) == "prop"
    ]
    out["estimates"] = (
        ["level", *(a for a, _ in AREA), "indicator", "indicator_name", "option", "option_name"]
        + ["percent", "percent_low", "percent_high", "n", "date_reported"],
        ["#meta+level", *(h for _, h in AREA), "#indicator+code", "#indicator+name", "#indicator+option+code"]
        + ["#indicator+option+name", "#indicator+value+pct", "#indicator+value+pct+lower"]
        + ["#indicator+value+pct+upper", "#meta+count", "#date+reported"],
        est,
    )

    cov = shown_coverage(con, settings, settings.round)
    out["coverage"] = (
        ["level", *(a for a, _ in AREA), "sector_code", "sector_name", "partners", "organisations"]
        + ["need_percent", "need_percent_low", "need_percent_high", "gap", "uncertain", "date_reported"],
        [
            "#meta+level",
            *(h for _, h in AREA),
            "#sector+code",
            "#sector+name",
            "#org+count",
            "#org+acronym+list",
        ]
        + ["#indicator+value+pct", "#indicator+value+pct+lower", "#indicator+value+pct+upper"]
        + ["#status+gap", "#status+uncertain", "#date+reported"],
        [
            [
                lv,
                *areas.columns(lv, a),
                s,
                names.get(s, s),
                n,
                orgs,
                _pct(nd),
                _pct(lo),
                _pct(hi),
                g,
                u,
                reported,
            ]
            for lv, a, s, n, orgs, nd, lo, hi, g, u in cov
        ],
    )

    pins = shown_pin(con, settings.round)
    unit_tag = "#inneed+hh" if settings.population_unit == "households" else "#inneed+ind"
    pop_tag = "#population+hh" if settings.population_unit == "households" else "#population+ind"

    def sector_of(s: str) -> str:
        return "intersectoral" if s == "overall" else sev_code.get(s, s)

    out["pin"] = (
        ["level", *(a for a, _ in AREA), "sector_code", "sector_name", "unit", "population", "in_need"]
        + ["in_need_low", "in_need_high", "date_reported"],
        [
            "#meta+level",
            *(h for _, h in AREA),
            "#sector+code",
            "#sector+name",
            "#meta+unit",
            pop_tag,
            unit_tag,
        ]
        + [f"{unit_tag}+lower", f"{unit_tag}+upper", "#date+reported"],
        [
            [lv, *areas.columns(lv, a), sector_of(s), names.get(sector_of(s), s), u, round(pop)]
            + [round(p), None if lo is None else round(lo), None if hi is None else round(hi), reported]
            for lv, a, s, u, pop, p, lo, hi in pins
        ],
    )

    start, end = (first.isoformat() if first else ""), reported
    out["hapi-humanitarian-needs"] = (
        ["location_code", "admin1_code", "admin1_name", "admin2_code", "admin2_name", "admin_level"]
        + ["sector_code", "sector_name", "category", "population_status", "population"]
        + ["reference_period_start", "reference_period_end"],
        ["#country+code", *(h for _, h in AREA), "#meta+admin_level", "#sector+code", "#sector+name"]
        + ["#category", "#status+population", unit_tag, "#date+start", "#date+end"],
        [
            [country, *areas.columns(lv, a), areas.level_number(lv), sector_of(s), names.get(sector_of(s), s)]
            + ["", "INN", round(p), start, end]
            for lv, a, s, u, pop, p, lo, hi in pins
        ],
    )

    on = last_submission(con, settings.round) if table_exists(con, "submissions") else None
    presence = (
        con.execute(sql("export_presence"), {"round": settings.round}).fetchall()
        if table_exists(con, "partner_rows")
        else []
    )
    level1 = settings.region_levels[0] if settings.region_levels else "admin1"
    level2 = settings.region_levels[1] if len(settings.region_levels) > 1 else "admin2"
    out["hapi-operational-presence"] = (
        [
            "location_code",
            "admin1_code",
            "admin1_name",
            "admin2_code",
            "admin2_name",
            "org_acronym",
            "org_name",
        ]
        + [
            "org_type_description",
            "sector_code",
            "sector_name",
            "reference_period_start",
            "reference_period_end",
        ],
        [
            "#country+code",
            *(h for _, h in AREA),
            "#org+acronym",
            "#org+name",
            "#org+type+name",
            "#sector+code",
        ]
        + ["#sector+name", "#date+start", "#date+end"],
        [
            [
                country,
                a1,
                data.plain_area_label(level1, a1),
                a2 or "",
                data.plain_area_label(level2, a2) if a2 else "",
            ]
            + [acr or "", org, typ or "", sec, names.get(sec, sec), _day(s), _day(e)]
            for org, acr, typ, sec, a1, a2, status, s, e in presence
            if is_active(status, s, e, on)
        ],
    )
    return out


def _day(d: date | None) -> str:
    return d.isoformat() if d else ""


def _sha(path: Path | None) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path and path.is_file() else None


def provenance(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict:
    """Which assessment, round and run the shared numbers come from, and the sha256 of every input."""
    files = (
        con.execute(sql("report_input_files"), {"round": settings.round}).fetchall()
        if table_exists(con, "files")
        else []
    )
    run_id = None
    if table_exists(con, "runs"):
        row = con.execute(
            "SELECT run_id FROM runs WHERE round = $r ORDER BY started_at DESC LIMIT 1", {"r": settings.round}
        ).fetchone()
        run_id = row[0] if row else None
    inputs = [{"file": name, "sha256": sha} for name, sha in files]
    extra = [("sampling frame", settings.frame), ("xlsform", settings.xlsform)]
    extra += [("3W list", settings.partners.file if settings.partners else None)]
    extra += [(f"boundaries {lv}", b.file) for lv, b in settings.boundaries.items()]
    inputs += [{"file": p.name, "role": role, "sha256": _sha(p)} for role, p in extra if p is not None]
    return {
        "assessment": settings.title or settings.root.name,
        "round": settings.round,
        "run_id": run_id,
        "population_unit": settings.population_unit,
        "min_cell": settings.min_cell,
        "inputs": inputs,
    }


def export_share(
    con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, out_dir: Path, *, xlsx: bool, hxl: bool
) -> list[Path]:
    """Write the share folder; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    found = tables(con, settings, form)
    for stem, (header, tags, rows) in found.items():
        path = out_dir / f"{stem}.csv"
        write_rows(header, [tags, *rows] if hxl else rows, path)
        written.append(path)
    written.append(atomic_write_json(out_dir / "provenance.json", provenance(con, settings)))
    if xlsx:
        written.append(_workbook(found, out_dir / "share.xlsx", hxl))
    return written


def _workbook(found: dict[str, Table], path: Path, hxl: bool) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for stem, (header, tags, rows) in found.items():
        ws = wb.create_sheet(stem[:31])
        for row in ([header, tags] if hxl else [header]) + rows:
            ws.append(_xl(row))
    tmp = path.with_name(f".{path.name}.tmp")
    wb.save(tmp)
    tmp.replace(path)
    return path


def _xl(row: Sequence[object]) -> list[object]:
    return [("'" + v) if isinstance(v, str) and v.startswith(("=", "+", "-", "@")) else v for v in row]
