"""Run an analysis plan (plan.py) through the one estimation engine and store analysistools' long results.

Units are the households of ``est_units`` (built by ``run.build_units``) and, for an analysis whose variable
lives in a repeat group, that repeat's rows (each carrying its household's design). Each analysis is one
variable of ``compute_estimates`` (means, proportions, ratios) or ``compute_medians``, run once per
(group variables, confidence level); several group variables make one domain per combination of values.
The rows are written to the store's ``results`` table with their computed values (suppressed ones too, for
audit); exports blank what is suppressed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from ..core.settings import Settings
from ..core.sqlutil import named_query, table_columns, table_exists, transaction
from ..core.sqlutil import quote as q
from ..core.xlsform import XLSForm
from .design import compute_estimates
from .median import compute_medians
from .plan import Analysis, check_plan, read_plan
from .suppress import complementary_suppression

__all__ = ["RESULT_COLUMNS", "STORED_COLUMNS", "plan_results", "results_from_estimates", "store_results"]

RESULT_COLUMNS = (
    "analysis_type",
    "analysis_var",
    "analysis_var_value",
    "group_var",
    "group_var_value",
    "stat",
    "stat_low",
    "stat_upp",
    "n",
    "n_total",
    "n_w",
    "n_w_total",
    "analysis_key",
)
STORED_COLUMNS = (*RESULT_COLUMNS, "unit", "se", "df", "suppressed", "plan_row")
_SEP = " %/% "
HOUSEHOLDS = (
    "submissions"  # the household relation the analyses read (one name, as the estimates' build_units)
)


def _unit_columns(con: duckdb.DuckDBPyConnection, form: XLSForm) -> dict[str, set[str]]:
    cols = {"household": set(table_columns(con, HOUSEHOLDS))}
    for name, repeat in form.repeats.items():
        if table_exists(con, repeat.table):
            cols[name] = set(table_columns(con, repeat.table))
    return cols


class _Source:
    """SQL to read a column for the units of one type: the repeat row's (m.) or its household's (s.)."""

    def __init__(self, unit: str, form: XLSForm, columns: dict[str, set[str]], levels: tuple[str, ...] = ()):
        self.unit, self.cols, self.levels = unit, columns, levels
        self.table = form.repeats[unit].table if unit != "household" else None

    def rows(self) -> str:
        join = (
            f"JOIN {q(self.table)} m ON m.round = $round AND m.submission_id = u.submission_id "
            "AND m.path = u._path "
            if self.table
            else ""
        )
        return (
            f"FROM _plan_units u {join}JOIN {q(HOUSEHOLDS)} s ON s.round = $round "
            "AND s.submission_id = u.submission_id WHERE u._unit = $unit"
        )

    def col(self, name: str) -> str:
        if self.table and name in self.cols.get(self.unit, set()):
            return f"m.{q(name)}"
        if name in self.cols["household"]:
            return f"s.{q(name)}"
        return "NULL"

    def text(self, name: str) -> str:
        return f"NULLIF(trim(CAST({self.col(name)} AS VARCHAR)), '')"

    def group(self, name: str) -> str:
        """A group variable's value; a region level's is its area key, as in the estimates (`parent/name`
        where names repeat across parents)."""
        if name in self.levels and not (self.table and name in self.cols.get(self.unit, set())):
            return f"u.{q(f'_lvl{self.levels.index(name)}')}"
        return self.text(name)

    def number(self, name: str) -> str:
        value = f"TRY_CAST({self.col(name)} AS DOUBLE)"
        return f"CASE WHEN {value} IN (SELECT unnest($missing::DOUBLE[])) THEN NULL ELSE {value} END"


def _build_units(con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, units: set[str]) -> None:
    """`_plan_units`: the households of est_units, plus one unit per row of each repeat the plan analyses."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _plan_units AS SELECT * FROM est_units WHERE _unit = 'household'"
    )
    cols = [c for c in table_columns(con, "_plan_units") if c not in ("_rid", "_unit", "_hh", "_path")]
    for name in sorted(units - {"household"}):
        repeat = form.repeats[name]
        if not table_exists(con, repeat.table):
            continue
        copied = ", ".join(f"u.{q(c)}" for c in cols)
        con.execute(
            f"INSERT INTO _plan_units (_rid, {', '.join(q(c) for c in cols)}, _unit, _hh, _path) "
            "SELECT (SELECT max(_rid) FROM _plan_units) + row_number() OVER (ORDER BY m.submission_id, m.path), "
            f"{copied}, $unit, u._rid, m.path FROM {q(repeat.table)} m JOIN _plan_units u "
            "ON u._unit = 'household' AND u.submission_id = m.submission_id WHERE m.round = $round",
            {"unit": name, "round": settings.round},
        )


def _add_groups(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    sources: dict[str, _Source],
    sets: list[tuple[str, ...]],
) -> None:
    """One column `_g<j>` per set of group variables: the values joined by ' %/% ' (NULL if one is missing)."""
    for j, groups in enumerate(sets):
        if not groups:
            continue
        con.execute(f"ALTER TABLE _plan_units ADD COLUMN _g{j} VARCHAR")
        for unit, src in sources.items():
            parts = [src.group(g) for g in groups]
            value = (
                f"CASE WHEN {' OR '.join(p + ' IS NULL' for p in parts)} THEN NULL ELSE "
                + " || ' %/% ' || ".join(parts)
                + " END"
            )
            con.execute(
                f"UPDATE _plan_units AS t SET _g{j} = v.value FROM (SELECT u._rid, {value} AS value {src.rows()}) v "
                "WHERE t._rid = v._rid",
                {"round": settings.round, "unit": unit},
            )


def _add_values(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    form: XLSForm,
    a: Analysis,
    ind: str,
    src: _Source,
    known: list[str] | None = None,
) -> None:
    """Append the values of one analysis to `_plan_values` (`_plan_medians` for a median); `known`: options
    of a proportion seen before (by households whose sums are stored), so that these units answer 0 to them."""
    params: dict[str, object] = {"round": settings.round, "unit": src.unit, "ind": ind}
    rows = src.rows()
    if a.type == "median":
        params["missing"] = list(settings.missing_codes)
        con.execute(f"INSERT INTO _plan_medians SELECT u._rid, $ind, {src.number(a.var)} {rows}", params)
    elif a.type == "mean":
        params["missing"] = list(settings.missing_codes)
        con.execute(
            f"INSERT INTO _plan_values SELECT u._rid, $ind, '', 'mean', {src.number(a.var)}, 1.0 {rows}",
            params,
        )
    elif a.type == "ratio":
        params["missing"] = list(settings.missing_codes)
        num, den = src.number(a.numerator), src.number(a.denominator)
        num_value = f"coalesce({num}, 0.0)" if a.na_to_0 else num
        keep = f"{den} IS NOT NULL" + (f" AND {den} <> 0" if a.filter_denominator_0 else "")
        con.execute(
            f"INSERT INTO _plan_values SELECT u._rid, $ind, '', 'ratio', CASE WHEN {keep} THEN {num_value} END, "
            f"{den} {rows}",
            params,
        )
    elif a.type == "prop_select_one":
        text = src.text(a.var)
        _options(
            con, f"SELECT DISTINCT {text} {rows}", {"round": settings.round, "unit": src.unit}, [], known
        )
        con.execute(
            f"INSERT INTO _plan_values SELECT u._rid, $ind, o.option, 'prop', CASE WHEN {text} IS NULL THEN NULL "
            f"WHEN {text} = o.option THEN 1.0 ELSE 0.0 END, 1.0 {rows.replace('WHERE', 'CROSS JOIN _plan_opts o WHERE')}",
            params,
        )
    else:  # prop_select_multiple
        options = form.choice_names(a.var)
        if src.table:
            text = src.text(a.var)
            codes = f"regexp_split_to_array({text}, '\\s+')"
            seen = f"SELECT DISTINCT unnest({codes}) {rows}"
            _options(con, seen, {"round": settings.round, "unit": src.unit}, options, known)
            con.execute(
                f"INSERT INTO _plan_values SELECT u._rid, $ind, o.option, 'prop', CASE WHEN {text} IS NULL THEN NULL "
                f"WHEN list_contains({codes}, o.option) THEN 1.0 ELSE 0.0 END, 1.0 "
                f"{rows.replace('WHERE', 'CROSS JOIN _plan_opts o WHERE')}",
                params,
            )
        else:
            params["q"] = a.var
            seen = "SELECT DISTINCT option FROM selections WHERE round = $round AND question = $q"
            _options(con, seen, {"round": settings.round, "q": a.var}, options, known)
            con.execute(
                "INSERT INTO _plan_values SELECT u._rid, $ind, o.option, 'prop', CAST(sel.selected AS DOUBLE), 1.0 "
                "FROM _plan_units u CROSS JOIN _plan_opts o LEFT JOIN selections sel ON sel.round = $round "
                "AND sel.submission_id = u.submission_id AND sel.question = $q AND sel.option = o.option "
                "WHERE u._unit = $unit",
                params,
            )


def _options(
    con: duckdb.DuckDBPyConnection,
    seen_sql: str,
    params: dict[str, object],
    first: list[str] | None = None,
    known: list[str] | None = None,
) -> int:
    """`_plan_opts(option)`: the form's options, those seen in the data, then those `known` from before;
    returns how many."""
    seen = [r[0] for r in con.execute(seen_sql + " ORDER BY 1", params).fetchall() if r[0] is not None]
    options = list(dict.fromkeys([*(first or []), *map(str, seen), *(known or [])]))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _plan_opts AS SELECT unnest($o::VARCHAR[]) AS option", {"o": options}
    )
    return len(options)


def _key(a: Analysis, value: str, groups: str) -> str:
    """analysistools' analysis_key for one row."""
    if a.type == "ratio":
        var = f"{a.numerator} %/% NA -/- {a.denominator} %/% NA"
    else:
        var = f"{a.var} %/% {value if a.type.startswith('prop') else 'NA'}"
    if a.groups:
        group = " -/- ".join(f"{g} %/% {v}" for g, v in zip(a.groups, groups.split(_SEP), strict=True))
    else:
        group = "NA %/% NA"
    return f"{a.type} @/@ {var} @/@ {group}"


def _rows(a: Analysis, est: pd.DataFrame) -> list[dict[str, Any]]:
    """Engine rows (estimates' columns) of one analysis -> results rows in analysistools' spelling."""
    out = []
    prop = a.type.startswith("prop")
    for r in est.to_dict("records"):
        if a.type == "prop_select_one" and not r["n_option"]:
            continue  # analysistools lists the answers seen in the group only
        value = str(r["option"]) if prop else ("NA %/% NA" if a.type == "ratio" else "")
        group_value = "" if r["level"] == "national" else str(r["area"])
        weighted = float(r["weighted_n"])
        out.append(
            {
                "analysis_type": a.type,
                "analysis_var": a.var,
                "analysis_var_value": value,
                "group_var": a.group_var,
                "group_var_value": group_value,
                "stat": r["estimate"],
                "stat_low": r["ci_low"],
                "stat_upp": r["ci_high"],
                "n": float(r["n_option"] if prop else r["n"]),
                "n_total": float(r["n"]),
                "n_w": float(r["estimate"]) * weighted if prop else weighted,
                "n_w_total": weighted,
                "analysis_key": _key(a, value, group_value),
                "unit": r["unit"],
                "se": r["se"],
                "df": r["df"],
                "suppressed": bool(r["suppressed"]),
                "plan_row": a.row,
            }
        )
    return out


@dataclass
class PlanRun:
    """A plan prepared over `_plan_units`: its analyses, the unit type of each, the sets of group variables and
    the engine runs (batches): (group set, confidence level, median or not, unit type) -> analysis indexes."""

    plan: list[Analysis]
    units: dict[int, str]
    sets: list[tuple[str, ...]]
    batches: dict[tuple[int, float, bool, str], list[int]]

    def levels(self, j: int) -> list[str]:
        return [f"_g{j}"] if self.sets[j] else []


def batch_pass(j: int, unit: str) -> str:
    """The stored sums' name for the batches over group set `j` and unit type `unit` (moments.py)."""
    return f"plan:{j}:{unit}"


def prepare_plan(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    form: XLSForm,
    *,
    medians_only: bool = False,
    known: dict[str, list[str]] | None = None,
) -> PlanRun:
    """`_plan_units` (the households of `est_units`, plus the repeat rows the plan analyses, with a column per
    set of group variables), `_plan_values` and `_plan_medians` for the configured plan. `known`: options
    each proportion has seen before (moments.py); `medians_only`: the values of the median analyses only."""
    assert settings.plan is not None
    plan = read_plan(settings.plan)
    columns = _unit_columns(con, form)
    units = check_plan(plan, settings.plan, form, columns)
    # a repeat no export has carried yet: nothing to analyse over its rows (not an error, like [needs])
    plan = [a for i, a in enumerate(plan) if units[i] in columns]
    units = {k: u for k, u in enumerate(u for u in units.values() if u in columns)}
    wanted = [i for i, a in enumerate(plan) if a.type == "median" or not medians_only]
    sets = list(dict.fromkeys(a.groups for a in plan))
    batches: dict[tuple[int, float, bool, str], list[int]] = {}
    for idx, a in enumerate(plan):  # one engine run per (groups, level, median or not, unit type)
        batches.setdefault((sets.index(a.groups), a.conf, a.type == "median", units[idx]), []).append(idx)
    if not wanted:
        return PlanRun(plan, units, sets, batches)
    _build_units(con, settings, form, {units[i] for i in wanted})
    sources = {u: _Source(u, form, columns, settings.region_levels) for u in set(units.values())}
    _add_groups(con, settings, sources, [g if g in {plan[i].groups for i in wanted} else () for g in sets])
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _plan_values (_rid BIGINT, indicator VARCHAR, option VARCHAR, kind VARCHAR, "
        "y DOUBLE, x DOUBLE)"
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _plan_medians (_rid BIGINT, indicator VARCHAR, y DOUBLE)")
    for idx in wanted:
        _add_values(
            con, settings, form, plan[idx], f"a{idx}", sources[units[idx]], (known or {}).get(f"a{idx}")
        )
    return PlanRun(plan, units, sets, batches)


def batch_tables(con: duckdb.DuckDBPyConnection, run: PlanRun, key: tuple[int, float, bool, str]) -> None:
    """`_plan_batch` (the values of one batch) and `_plan_bunits` (its units)."""
    _, _, median, unit = key
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _plan_batch AS SELECT * FROM {'_plan_medians' if median else '_plan_values'} "
        "WHERE list_contains($n, indicator)",
        {"n": [f"a{i}" for i in run.batches[key]]},
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _plan_bunits AS SELECT * FROM _plan_units WHERE _unit = $u", {"u": unit}
    )


def drop_plan_tables(con: duckdb.DuckDBPyConnection) -> None:
    for t in (
        "_plan_units",
        "_plan_bunits",
        "_plan_values",
        "_plan_medians",
        "_plan_opts",
        "_plan_out",
        "_plan_batch",
    ):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def _forget_unseen(con: duckdb.DuckDBPyConnection, run: PlanRun, members: list[int], form: XLSForm) -> None:
    """Stored sums keep every option a proportion over repeat rows has seen; one no unit chooses any more (its
    units removed or cleaned) and not in the form is not listed, as a computation from scratch would not."""
    for i in members:
        a = run.plan[i]
        if a.type != "prop_select_multiple" or run.units[i] == "household":
            continue
        con.execute(
            "DELETE FROM _plan_out WHERE indicator = $ind AND NOT list_contains($form, option) AND option IN "
            "(SELECT option FROM _plan_out WHERE indicator = $ind AND level = 'national' AND n_option = 0)",
            {"ind": f"a{i}", "form": form.choice_names(a.var)},
        )


# (pass, group levels, confidence level, out table) -> the batch's engine rows in `out`, from stored sums
FromSums = Callable[[str, list[str], float, str], None]


def plan_results(
    con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, from_sums: FromSums | None = None
) -> pd.DataFrame:
    """Run the configured plan over the round's units (`est_units` must exist); one row per result in
    analysistools' spelling plus unit, se, df, suppressed and the plan row. With `from_sums`, the means,
    proportions and ratios come from the stored sums of every bucket (moments.py) and only the medians are
    computed here, over every unit."""
    assert settings.plan is not None
    rows: list[dict[str, Any]] = []
    try:
        run = prepare_plan(con, settings, form, medians_only=from_sums is not None)
        for key, members in run.batches.items():
            j, conf, median, unit = key
            if median or from_sums is None:
                batch_tables(con, run, key)
                engine = compute_medians if median else compute_estimates
                engine(
                    con,
                    run.levels(j),
                    conf=conf,
                    min_cell=settings.min_cell,
                    units="_plan_bunits",
                    values="_plan_batch",
                    out="_plan_out",
                )
            else:
                from_sums(batch_pass(j, unit), run.levels(j), conf, "_plan_out")
                con.execute(
                    "DELETE FROM _plan_out WHERE NOT list_contains($n, indicator)",
                    {"n": [f"a{i}" for i in members]},
                )
                _forget_unseen(con, run, members, form)
            keep = "level <> 'national'" if run.levels(j) else "level = 'national'"
            con.execute(f"DELETE FROM _plan_out WHERE NOT ({keep})")
            if not median:  # a median cannot be worked back from the other groups' medians
                complementary_suppression(con, "_plan_out")
            out = con.execute("SELECT * FROM _plan_out ORDER BY indicator, area, option").df()
            for i in members:
                rows += _rows(run.plan[i], out[out["indicator"] == f"a{i}"])
    finally:
        drop_plan_tables(con)
    frame = pd.DataFrame(rows, columns=list(STORED_COLUMNS))
    return frame.sort_values("plan_row", kind="stable").reset_index(drop=True)


def results_from_estimates(con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm) -> pd.DataFrame:
    """The default plan's results: the round's `estimates` (needs questions and indicators x the region
    levels, computed by the same engine) in analysistools' long format."""
    est = con.execute(
        "SELECT * FROM estimates WHERE round = ? ORDER BY unit, indicator, level <> 'national', level, area, option",
        [settings.round],
    ).df()
    rows: list[dict[str, Any]] = []
    for (indicator, level), part in est.groupby(["indicator", "level"], sort=False):
        question = form.questions.get(str(indicator))
        if part["n_option"].isna().all():
            kind = "mean"
        elif question is not None and question.type == "select_multiple":
            kind = "prop_select_multiple"
        else:
            kind = "prop_select_one"
        groups = () if level == "national" else (str(level),)
        rows += _rows(Analysis(kind, str(indicator), groups), part)
    return pd.DataFrame(rows, columns=list(STORED_COLUMNS))


def store_results(
    con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, from_sums: FromSums | None = None
) -> int:
    """Compute the round's results (the plan's, or the default plan's) and replace them in `results`;
    `from_sums`: the plan's means, proportions and ratios from the stored sums (plan_results)."""
    frame = (
        plan_results(con, settings, form, from_sums)
        if settings.plan
        else results_from_estimates(con, settings, form)
    )
    con.execute(named_query("assess.store", "migrations/007_results"))  # a store opened without migrations
    cols = ", ".join(q(c) for c in STORED_COLUMNS)
    con.register("_results_df", frame)
    try:
        with transaction(con):
            con.execute("DELETE FROM results WHERE round = ?", [settings.round])
            con.execute(
                f"INSERT INTO results (round, {cols}) SELECT ?, {cols} FROM _results_df", [settings.round]
            )
    finally:
        con.unregister("_results_df")
    return len(frame)
