"""Composite indicators: Food Consumption Score and per-sector severity (1-5), as extra estimator inputs.

Configured in `assessment.toml`:

    [indicators.fcs]                      # WFP Food Consumption Score
    groups = ["fcs_cereals", "fcs_pulses", "fcs_veg", "fcs_fruit", "fcs_meat", "fcs_dairy", "fcs_sugar", "fcs_oil"]
    weights = [2, 3, 1, 1, 4, 4, 0.5, 0.5]   # default: the standard weights, in the order of `groups`
    poor = 21                             # score <= poor: poor; <= borderline: borderline; else acceptable
    borderline = 35

    [[indicators.severity]]
    sector = "wash"
    default = 1                           # severity when no rule holds (NULL answers stay missing)
    rules = [ { level = 4, when = "${water_source} = 'surface_water'" },
              { level = 3, when = "${water_sufficient} = 'no'" } ]

Each household's sector severity is the highest level whose XLSForm-style condition holds; the overall
severity is the worst sector. Estimates: `fcs_score` (mean), `fcs_category` (share poor / borderline /
acceptable), `severity_<sector>` and `severity_overall` (share at each level 1-5, `3+` "in need" and `4+`).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ..core.settings import ConfigError, Settings
from ..core.sqlutil import quote as q
from ..core.xlsform import XLSForm
from ..core.xpath import Untranslatable, references, to_sql

FCS_WEIGHTS = (2.0, 3.0, 1.0, 1.0, 4.0, 4.0, 0.5, 0.5)
SEVERITY_OPTIONS = ("1", "2", "3", "4", "5", "3+", "4+")


@dataclass(frozen=True)
class SeveritySector:
    sector: str
    default: int
    rules: tuple[tuple[int, str], ...]  # (level, XLSForm condition)


def _err(settings: Settings, msg: str) -> ConfigError:
    return ConfigError(f"{settings.config_path}: [indicators] {msg}")


def severity_sectors(settings: Settings) -> list[SeveritySector]:
    sectors = []
    for i, item in enumerate(settings.indicators.get("severity", []), start=1):
        if not isinstance(item, dict) or not item.get("sector") or not isinstance(item.get("rules"), list):
            raise _err(settings, f"severity entry {i} needs 'sector' and a list of 'rules'")
        rules = []
        for r in item["rules"]:
            level, when = r.get("level") if isinstance(r, dict) else None, r.get("when") if isinstance(r, dict) else None
            if not isinstance(level, int) or not 1 <= level <= 5 or not isinstance(when, str):
                raise _err(settings, f"severity '{item['sector']}': each rule needs level = 1..5 and when = '...'")
            rules.append((level, when))
        default = item.get("default", 1)
        if not isinstance(default, int) or not 1 <= default <= 5:
            raise _err(settings, f"severity '{item['sector']}': default must be 1..5")
        sectors.append(SeveritySector(str(item["sector"]), default, tuple(rules)))
    return sectors


def _resolver(form: XLSForm, columns: set[str]):
    def resolve(name: str) -> tuple[str, str]:
        if name not in columns:
            raise Untranslatable(f"${{{name}}} is not a column of the loaded data")
        qtype = form.questions[name].type if name in form.questions else "text"
        return f"NULLIF(CAST(s.{q(name)} AS VARCHAR), '')", qtype
    return resolve


def add_indicator_values(con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm,
                         columns: set[str]) -> list[str]:
    """Append the configured composite indicators to `est_values`; returns their indicator names."""
    added: list[str] = []
    fcs = settings.indicators.get("fcs")
    if fcs:
        added += _fcs(con, settings, fcs, columns)
    sectors = severity_sectors(settings)
    if sectors:
        added += _severity(con, settings, form, sectors, columns)
    return added


def _fcs(con, settings: Settings, fcs: dict, columns: set[str]) -> list[str]:
    groups = fcs.get("groups", [])
    weights = fcs.get("weights", list(FCS_WEIGHTS))
    if len(groups) != 8 or len(weights) != 8:
        raise _err(settings, "fcs needs 8 'groups' (days eaten, 0-7) and 8 'weights'")
    missing = [g for g in groups if g not in columns]
    if missing:
        raise _err(settings, f"fcs groups not in the loaded data: {', '.join(missing)}")
    poor, borderline = float(fcs.get("poor", 21)), float(fcs.get("borderline", 35))
    # days outside 0..7 or missing make the score missing rather than wrong
    terms = " + ".join(
        f"CASE WHEN TRY_CAST(s.{q(g)} AS DOUBLE) BETWEEN 0 AND 7 THEN TRY_CAST(s.{q(g)} AS DOUBLE) END * {float(w)}"
        for g, w in zip(groups, weights, strict=True))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _fcs AS SELECT u._rid, {terms} AS score FROM est_units u "
        "JOIN submissions s ON s.round = $round AND s.submission_id = u.submission_id", {"round": settings.round})
    con.execute("INSERT INTO est_values SELECT _rid, 'fcs_score', '', 'mean', score FROM _fcs")
    con.execute(
        "INSERT INTO est_values SELECT _rid, 'fcs_category', c.option, 'prop', "
        "CASE WHEN score IS NULL THEN NULL WHEN (CASE WHEN score <= $poor THEN 'poor' WHEN score <= $border "
        "THEN 'borderline' ELSE 'acceptable' END) = c.option THEN 1.0 ELSE 0.0 END "
        "FROM _fcs CROSS JOIN (SELECT unnest(['poor', 'borderline', 'acceptable']) AS option) c",
        {"poor": poor, "border": borderline})
    con.execute("DROP TABLE _fcs")
    return ["fcs_score", "fcs_category"]


def _severity(con, settings: Settings, form: XLSForm, sectors: list[SeveritySector], columns: set[str]) -> list[str]:
    resolve = _resolver(form, columns)
    selects = []
    for sec in sectors:
        cases = []
        for level, when in sorted(sec.rules, key=lambda r: -r[0]):
            try:
                cond = to_sql(when, resolve)
            except (Untranslatable, ValueError) as exc:
                raise _err(settings, f"severity '{sec.sector}' rule level {level} '{when}': {exc}") from exc
            cases.append(f"WHEN coalesce({cond}, false) THEN {level}")
        refs = sorted(set().union(*(references(w) for _, w in sec.rules)) & columns)
        # a household that answered none of the sector's questions has no severity (missing), not level 1
        unanswered = " AND ".join(f"s.{q(r)} IS NULL" for r in refs) or "false"
        selects.append(f"CASE WHEN {unanswered} THEN NULL {' '.join(cases)} ELSE {sec.default} END "
                       f"AS {q('sev_' + sec.sector)}")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _sev AS SELECT u._rid, {', '.join(selects)} FROM est_units u "
        "JOIN submissions s ON s.round = $round AND s.submission_id = u.submission_id", {"round": settings.round})
    sev_cols = [q("sev_" + s.sector) for s in sectors]
    con.execute("ALTER TABLE _sev ADD COLUMN sev_overall INTEGER")
    con.execute(f"UPDATE _sev SET sev_overall = greatest({', '.join(sev_cols)})")
    names = []
    for sector, col in [(s.sector, q("sev_" + s.sector)) for s in sectors] + [("overall", "sev_overall")]:
        indicator = f"severity_{sector}"
        con.execute(
            f"INSERT INTO est_values SELECT _rid, $ind, o.option, 'prop', CASE "
            f"WHEN {col} IS NULL THEN NULL "
            f"WHEN o.option = '3+' THEN CAST({col} >= 3 AS DOUBLE) "
            f"WHEN o.option = '4+' THEN CAST({col} >= 4 AS DOUBLE) "
            f"ELSE CAST(CAST({col} AS VARCHAR) = o.option AS DOUBLE) END "
            "FROM _sev CROSS JOIN (SELECT unnest($opts::VARCHAR[]) AS option) o",
            {"ind": indicator, "opts": list(SEVERITY_OPTIONS)})
        names.append(indicator)
    con.execute("DROP TABLE _sev")
    return names
