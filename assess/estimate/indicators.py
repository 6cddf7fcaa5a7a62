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

import duckdb

from ..core.settings import ConfigError, FcsSpec, Settings, SeveritySpec
from ..core.sqlutil import quote as q
from ..core.xlsform import XLSForm
from ..core.xpath import Untranslatable, references, to_sql

SEVERITY_OPTIONS = ("1", "2", "3", "4", "5", "3+", "4+")


def _resolver(form: XLSForm, columns: set[str]):
    def resolve(name: str) -> tuple[str, str]:
        if name not in columns:
            raise Untranslatable(f"${{{name}}} is not a column of the loaded data")
        qtype = form.questions[name].type if name in form.questions else "text"
        return f"NULLIF(CAST(s.{q(name)} AS VARCHAR), '')", qtype

    return resolve


def add_indicator_values(
    con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, columns: set[str]
) -> list[str]:
    """Append the configured composite indicators to `est_values`; returns their indicator names."""
    added: list[str] = []
    if settings.indicators.fcs is not None:
        added += _fcs(con, settings, settings.indicators.fcs, columns)
    if settings.indicators.severity:
        added += _severity(con, settings, form, settings.indicators.severity, columns)
    return added


def _fcs(con, settings: Settings, fcs: FcsSpec, columns: set[str]) -> list[str]:
    groups, weights = fcs.groups, fcs.weights
    missing = [g for g in groups if g not in columns]
    if missing:
        raise ConfigError(
            f"{settings.config_path}: [indicators.fcs] groups {', '.join(repr(g) for g in missing)} "
            "have no column in the loaded exports; export these questions or fix the group names."
        )
    poor, borderline = fcs.poor, fcs.borderline
    # days outside 0..7 or missing make the score missing rather than wrong
    terms = " + ".join(
        f"CASE WHEN TRY_CAST(s.{q(g)} AS DOUBLE) BETWEEN 0 AND 7 THEN TRY_CAST(s.{q(g)} AS DOUBLE) END * {float(w)}"
        for g, w in zip(groups, weights, strict=True)
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _fcs AS SELECT u._rid, {terms} AS score FROM est_units u "
        "JOIN submissions s ON s.round = $round AND s.submission_id = u.submission_id WHERE u._unit = 'household'",
        {"round": settings.round},
    )
    con.execute("INSERT INTO est_values SELECT _rid, 'fcs_score', '', 'mean', score FROM _fcs")
    con.execute(
        "INSERT INTO est_values SELECT _rid, 'fcs_category', c.option, 'prop', "
        "CASE WHEN score IS NULL THEN NULL WHEN (CASE WHEN score <= $poor THEN 'poor' WHEN score <= $border "
        "THEN 'borderline' ELSE 'acceptable' END) = c.option THEN 1.0 ELSE 0.0 END "
        "FROM _fcs CROSS JOIN (SELECT unnest(['poor', 'borderline', 'acceptable']) AS option) c",
        {"poor": poor, "border": borderline},
    )
    con.execute("DROP TABLE _fcs")
    return ["fcs_score", "fcs_category"]


def _severity(
    con, settings: Settings, form: XLSForm, sectors: tuple[SeveritySpec, ...], columns: set[str]
) -> list[str]:
    resolve = _resolver(form, columns)
    selects = []
    for i, sec in enumerate(sectors, start=1):
        cases = []
        for level, j, when in sorted(
            ((r.level, j, r.when) for j, r in enumerate(sec.rules, start=1)), key=lambda r: -r[0]
        ):
            try:
                cond = to_sql(when, resolve)
            except (Untranslatable, ValueError) as exc:
                raise ConfigError(
                    f"{settings.config_path}: [[indicators.severity]] entry {i} (sector '{sec.sector}'), rule {j}: "
                    f'{exc}; export the question or fix the condition "{when}".'
                ) from exc
            cases.append(f"WHEN coalesce({cond}, false) THEN {level}")
        refs = sorted(set().union(*(references(r.when) for r in sec.rules)) & columns)
        # a household that answered none of the sector's questions has no severity (missing), not level 1
        unanswered = " AND ".join(f"s.{q(r)} IS NULL" for r in refs) or "false"
        selects.append(
            f"CASE WHEN {unanswered} THEN NULL {' '.join(cases)} ELSE {sec.default} END "
            f"AS {q('sev_' + sec.sector)}"
        )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _sev AS SELECT u._rid, {', '.join(selects)} FROM est_units u "
        "JOIN submissions s ON s.round = $round AND s.submission_id = u.submission_id WHERE u._unit = 'household'",
        {"round": settings.round},
    )
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
            {"ind": indicator, "opts": list(SEVERITY_OPTIONS)},
        )
        names.append(indicator)
    con.execute("DROP TABLE _sev")
    return names
