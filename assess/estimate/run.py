"""From the store to the estimator's inputs: households with their design, and the needs variables.

Builds `est_units` (one row per accepted household of the round: weight, stratum, PSU, areas; plus one row
per member of each repeat group a needs question lives in, with its household's design: see members.py) and
`est_values` (one row per unit x indicator x option: y = 0/1 or the value, NULL when missing), then runs
`estimate.compute_estimates` (one design per unit type) and stores the result in `estimates` for the round.
"""

from __future__ import annotations

import duckdb

from ..clean.layer import install as install_cleaning_layer
from ..core.settings import ConfigError, Settings
from ..core.sqlutil import fetch_value, named_query, transaction
from ..core.sqlutil import quote as q
from ..core.summary import EstimateSummary
from ..core.xlsform import XLSForm, need_answers, need_indicator
from ..core.xpath import Untranslatable, references, to_sql
from ..store import inputs
from .analysis import store_results
from .counts import declined_word, household_counts
from .design import design_weights
from .frame import read_frame
from .members import add_member_indicator_values, add_member_units, add_member_values, check_members_config
from .moments import (
    BUCKET,
    drop_temps,
    estimates_from_moments,
    finish_sums,
    household_counts_from_moments,
    refresh_moments,
)
from .plan import read_plan
from .suppress import complementary_suppression
from .trends import compute_ranking, compute_trends

ESTIMATE_COLUMNS = (
    "round",
    "unit",
    "level",
    "area",
    "indicator",
    "option",
    "estimate",
    "ci_low",
    "ci_high",
    "n",
    "n_households",
    "n_option",
    "se",
    "weighted_n",
    "df",
    "suppressed",
)


def check_config_against_form(settings: Settings, form: XLSForm) -> list[str]:
    """Check at start-up, before any data is read, what in the config needs the form (or a file it names):
    [needs] questions, the questions of [indicators] (fcs groups, severity and member conditions) and the
    sampling frame. Region levels and [design] columns may be extra export columns: they are checked on the data."""
    problems = []
    for name in settings.needs:
        question = form.questions.get(name)
        if question is None and settings.indicators.member(name) is not None:
            continue  # an [[indicators.members]] column (checked below)
        if question is None:
            problems.append(f"[needs] question '{name}' is not in the form {form.path.name}")
        elif question.type not in ("select_one", "select_multiple", "integer", "decimal", "calculate"):
            problems.append(
                f"[needs] question '{name}' is a {question.type} question; only select_one, select_multiple, "
                "integer, decimal and calculate questions can be estimated"
            )
    if problems:
        raise ConfigError(f"{settings.config_path}: " + "; ".join(problems) + ". Fix [needs] questions.")
    _check_need_answers(settings, form)
    _check_indicators(settings, form)
    check_members_config(settings, form)
    if settings.frame:
        read_frame(settings)  # a mistake in the sampling frame stops the run here, before any data is read
    if settings.plan:
        read_plan(settings.plan)  # its shape now; its variables against the loaded columns when estimating
    return []


def _check_need_answers(settings: Settings, form: XLSForm) -> None:
    """[report.need_answers] against the form: select questions, and codes of their choice lists."""
    for name, codes in settings.need_answers.items():
        where = f"{settings.config_path}: [report.need_answers] {name}"
        question = form.questions[name]  # a [needs] question (checked at load), in the form (checked above)
        if not question.is_select:
            raise ConfigError(
                f"{where}: '{name}' is a question of type {question.type}; answers that signal need can "
                "only be named for select_one and select_multiple questions. Remove the line."
            )
        known = form.choice_names(name)
        for code in codes:
            if code not in known:
                raise ConfigError(
                    f"{where}: '{code}' is not a choice of the list '{question.list_name}' in the form "
                    f"{form.path.name} (choices: {', '.join(known)}); use the choice's name, not its "
                    "label."
                )


def _check_indicators(settings: Settings, form: XLSForm) -> None:
    """[indicators] names and conditions against the form (their shape was checked when the config loaded)."""
    where = f"{settings.config_path}: "
    fcs = settings.indicators.fcs
    for group in fcs.groups if fcs else ():
        if group not in form.questions:
            raise ConfigError(
                f"{where}[indicators.fcs] groups: '{group}' is not a question of the form "
                f"{form.path.name}; use the name of the question with the days the food group was eaten."
            )

    def resolve(name: str) -> tuple[str, str]:
        if name not in form.questions:
            raise Untranslatable(f"'${{{name}}}' is not a question of the form {form.path.name}")
        return q(name), form.questions[name].type

    for i, sector in enumerate(settings.indicators.severity, start=1):
        for j, rule in enumerate(sector.rules, start=1):
            at = f"{where}[[indicators.severity]] entry {i} (sector '{sector.sector}'), rule {j}: "
            for name in sorted(references(rule.when)):
                if name not in form.questions:
                    raise ConfigError(
                        f"{at}'${{{name}}}' is not a question of the form {form.path.name}; fix the "
                        "name in the condition."
                    )
            try:
                to_sql(rule.when, resolve)
            except (Untranslatable, ValueError) as exc:
                raise ConfigError(
                    f'{at}the condition "{rule.when}" cannot be used ({exc}); write it like an '
                    "XLSForm relevant, e.g. \"${water_source} = 'river'\"."
                ) from exc


def submission_columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'submissions'"
        ).fetchall()
    }


def area_expressions(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """SQL for each region level's area key: the value, or `<parent>/<value>` where names repeat across parents."""
    cols = submission_columns(con)
    exprs: list[str] = []
    for i, level in enumerate(settings.region_levels):
        col = q(level) if level in cols else "NULL"
        expr = f"CAST({col} AS VARCHAR)"
        if i > 0 and level in cols and settings.region_levels[i - 1] in cols:
            parent = q(settings.region_levels[i - 1])
            repeats = fetch_value(
                con,
                f"SELECT count(*) FROM (SELECT {col} FROM submissions WHERE round = ? AND {col} IS NOT NULL "
                f"GROUP BY {col} HAVING count(DISTINCT {parent}) > 1)",
                [settings.round],
            )
            if repeats:
                expr = f"CAST({parent} AS VARCHAR) || '/' || CAST({col} AS VARCHAR)"
        exprs.append(expr)
    return exprs


def build_units(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    form: XLSForm | None = None,
    scope: str | None = None,
    area_sql: list[str] | None = None,
) -> list[str]:
    """Create `est_units` for the round; returns design warnings (e.g. frame strata without sample).

    One row per household (`_unit` = 'household', `_hh` = its own `_rid`, `_bucket` its bucket of the stored
    sums, moments.py); with the `form`, also one row per member of each repeat group a needs question lives in
    (members.py), once the households' weights are set. With `scope` (a condition on `submissions`), only the
    households it selects, and no frame weights: the stored sums apply them when finished. `area_sql`: the
    region levels' area keys when the caller has them (area_expressions)."""
    cols = submission_columns(con)
    for name, what in (
        (settings.strata, "strata"),
        (settings.cluster, "cluster"),
        (settings.weight, "weight"),
    ):
        if name and name not in cols:
            raise ConfigError(
                f"{settings.config_path}: [design] {what} = '{name}' is not a column of the loaded data."
            )
    stratum = f"COALESCE(CAST({q(settings.strata)} AS VARCHAR), '(missing)')" if settings.strata else "'1'"
    psu = (
        f"COALESCE(CAST({q(settings.cluster)} AS VARCHAR), submission_id)"
        if settings.cluster
        else "submission_id"
    )
    weight = f"TRY_CAST({q(settings.weight)} AS DOUBLE)" if settings.weight else "1.0"
    area_sql = area_sql if area_sql is not None else area_expressions(con, settings)
    areas = ", ".join(f"{e} AS _lvl{i}" for i, e in enumerate(area_sql))
    bucket = f", {BUCKET} AS _bucket" if scope else ""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE est_units AS SELECT *, CAST('household' AS VARCHAR) AS _unit, _rid AS _hh, "
        "CAST(NULL AS VARCHAR) AS _path FROM ("
        f"SELECT row_number() OVER (ORDER BY submission_id) AS _rid, "
        f"submission_id, {weight} AS _weight, {stratum} AS _stratum, {psu} AS _psu{bucket}"
        f"{', ' + areas if areas else ''} FROM submissions WHERE round = ?{' AND ' + scope if scope else ''})",
        [settings.round],
    )
    warnings: list[str] = []
    if settings.weight:
        bad = fetch_value(con, "SELECT count(*) FROM est_units WHERE _weight IS NULL OR _weight <= 0")
        if bad:
            warnings.append(
                f"{bad} household(s) have no valid weight in '{settings.weight}' and were left out"
            )
            con.execute("DELETE FROM est_units WHERE _weight IS NULL OR _weight <= 0")
    elif settings.frame and scope is None:
        population = read_frame(settings)
        try:
            warnings += design_weights(con, "est_units", population)
        except ValueError as exc:
            raise ConfigError(f"{settings.frame}: {exc}.") from exc
    if form is not None:
        add_member_units(con, settings, form)
    return warnings


def build_values(con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm) -> None:
    """Create `est_values` for the configured needs questions: per household, per member for a question of
    a repeat group, per household for an `[[indicators.members]]` column."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE est_values (_rid BIGINT, indicator VARCHAR, option VARCHAR, "
        "kind VARCHAR, y DOUBLE)"
    )
    cols = submission_columns(con)
    for name in settings.needs:
        member = settings.indicators.member(name)
        if name not in form.questions and member is not None:
            add_member_indicator_values(con, settings, form, member, cols)
            continue
        question = form.questions[name]
        if question.repeat is not None:
            add_member_values(con, settings, form, question)
        elif question.type == "select_multiple":
            options = form.choice_names(name)
            extra = [
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT option FROM selections WHERE round = ? AND question = ? "
                    "AND submission_id IN (SELECT submission_id FROM est_units) ORDER BY 1",
                    [settings.round, name],
                ).fetchall()
                if r[0] not in options
            ]
            con.execute(
                "INSERT INTO est_values SELECT u._rid, $q, o.option, 'prop', CAST(s.selected AS DOUBLE) "
                "FROM est_units u CROSS JOIN (SELECT unnest($opts::VARCHAR[]) AS option) o "
                "LEFT JOIN selections s ON s.round = $round AND s.submission_id = u.submission_id "
                "AND s.question = $q AND s.option = o.option WHERE u._unit = 'household'",
                {"q": name, "opts": options + extra, "round": settings.round},
            )
        elif name not in cols:
            continue  # no export carried this question yet: nothing to estimate
        elif question.type == "select_one":
            con.execute(
                f"INSERT INTO est_values SELECT u._rid, $q, o.option, 'prop', "
                f"CASE WHEN s.{q(name)} IS NULL THEN NULL WHEN s.{q(name)} = o.option THEN 1.0 ELSE 0.0 END "
                "FROM est_units u JOIN submissions s ON s.round = $round AND s.submission_id = u.submission_id "
                "CROSS JOIN (SELECT unnest($opts::VARCHAR[]) AS option) o WHERE u._unit = 'household'",
                {"q": name, "opts": form.choice_names(name), "round": settings.round},
            )
        else:
            con.execute(
                f"INSERT INTO est_values SELECT u._rid, $q, '', 'mean', "
                f"CASE WHEN TRY_CAST(s.{q(name)} AS DOUBLE) IN (SELECT unnest($missing::DOUBLE[])) THEN NULL "
                f"ELSE TRY_CAST(s.{q(name)} AS DOUBLE) END "
                "FROM est_units u JOIN submissions s ON s.round = $round AND s.submission_id = u.submission_id "
                "WHERE u._unit = 'household'",
                {"q": name, "missing": list(settings.missing_codes), "round": settings.round},
            )


def build_need_values(con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm) -> list[str]:
    """Append `<question>:need` to `est_values` for every [needs] question with answers that signal need.

    y = 1 when the answer is one of them (select_multiple: any of them selected), 0 for any other answer,
    NULL when the question was not answered; one row per household (never per member), option ''. The estimator then gives
    the combined share a design-based CI, n and suppression like any other cell.
    """
    cols = submission_columns(con)
    added = []
    for name, codes in need_answers(settings, form).items():
        question = form.questions[name]
        params = {"ind": need_indicator(name), "q": name, "need": list(codes), "round": settings.round}
        if question.type == "select_multiple":
            con.execute(
                "INSERT INTO est_values SELECT u._rid, $ind, '', 'prop', CASE WHEN count(s.selected) = 0 THEN NULL "
                "WHEN bool_or(coalesce(s.selected, false) AND list_contains($need::VARCHAR[], s.option)) THEN 1.0 "
                "ELSE 0.0 END FROM est_units u LEFT JOIN selections s ON s.round = $round "
                "AND s.submission_id = u.submission_id AND s.question = $q WHERE u._unit = 'household' GROUP BY u._rid",
                params,
            )
        elif name in cols:
            con.execute(
                f"INSERT INTO est_values SELECT u._rid, $ind, '', 'prop', CASE WHEN s.{q(name)} IS NULL THEN NULL "
                f"WHEN list_contains($need::VARCHAR[], CAST(s.{q(name)} AS VARCHAR)) THEN 1.0 ELSE 0.0 END "
                "FROM est_units u JOIN submissions s ON s.round = $round AND s.submission_id = u.submission_id "
                "WHERE u._unit = 'household'",
                {k: v for k, v in params.items() if k != "q"},
            )
        else:
            continue
        added.append(need_indicator(name))
    return added


def run_estimates(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    form: XLSForm,
    prints: dict[str, inputs.Print] | None = None,
) -> EstimateSummary:
    """Compute and store the round's estimates; return a small summary for the run log. A round without
    households yet (an empty inbox, or only rejected files) has no estimates: an empty summary.

    The estimator's sums are kept per bucket of households (moments.py): only buckets whose households changed
    are recomputed. `prints` are the estimate stage's input fingerprints when the caller has them."""
    # issue 17: from here on `submissions`, `selections` and `r_*` are the cleaned views (assess/clean/layer.py)
    install_cleaning_layer(con)
    loaded = con.execute(
        named_query("assess.estimate", "round_households"), {"round": settings.round}
    ).fetchone()
    if not loaded or not loaded[0]:
        return EstimateSummary()
    if prints is None:  # a direct caller; settings made in code (no config file) are their own print
        exists = settings.config_path.exists()
        prints = (
            inputs.fingerprints(con, settings, inputs.ESTIMATE)
            if exists
            else {"settings": (repr(settings), None)}
        )
    area_sql = area_expressions(con, settings)
    refreshed = refresh_moments(con, settings, form, prints, area_sql)
    warnings = estimates_from_moments(con, settings, out="_est")
    household_counts_from_moments(con, settings)
    households = household_counts(con, settings.round)
    complementary_suppression(con, "_est")
    aliases = [f"_lvl{i}" for i in range(len(settings.region_levels))]
    for alias, level in zip(aliases, settings.region_levels, strict=True):
        con.execute("UPDATE _est SET level = ? WHERE level = ?", [level, alias])
    cols = ", ".join(c for c in ESTIMATE_COLUMNS if c != "round")
    con.execute(named_query("assess.estimate", "estimates_table"))  # the store's migrations create it too
    with transaction(con):
        con.execute("DELETE FROM estimates WHERE round = ?", [settings.round])
        con.execute(
            f"INSERT INTO estimates ({', '.join(ESTIMATE_COLUMNS)}) SELECT ?, {cols} FROM _est",
            [settings.round],
        )
    trends = compute_trends(con, settings.round)
    compute_ranking(con, settings.round)
    rows = fetch_value(con, "SELECT count(*) FROM _est")
    con.execute("DROP TABLE _est")
    if settings.plan and any(a.type == "median" for a in read_plan(settings.plan)):
        build_units(
            con, settings, area_sql=area_sql
        )  # a median reads every household (analysis.plan_results)

    def from_sums(pass_: str, levels: list[str], conf: float, out: str) -> None:
        finish_sums(con, settings, pass_, levels, out, conf)

    try:
        store_results(con, settings, form, from_sums)
    finally:
        drop_temps(con)
    return EstimateSummary(
        estimates=rows,
        households=households,
        declined_word=declined_word(form, settings),
        warnings=warnings,
        trends=trends,
        buckets=refreshed.buckets,
        buckets_recomputed=refreshed.recomputed,
    )
