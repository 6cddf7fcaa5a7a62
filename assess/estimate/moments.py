"""Incremental estimation (issue 15): the estimator's sums kept in the store per bucket of households.

A bucket is the households of one source file, 10,000 source rows at a time. Each bucket has a print of what its
sums depend on (its households, their source rows and load times, the cleaning lines in effect for them), and
the signature of everything else (config, form, frame, package, area keys). A run recomputes the sums of the
buckets whose print changed -- a new file is a new bucket; a replaced, released, edited or removed household
changes its bucket's print -- and drops the buckets that emptied; when the signature changed, every bucket is
recomputed. The estimates are then made from the sums of all buckets with the same arithmetic as
`design.compute_estimates` (`finish_design`), so a 1,000-household increment costs about the same on
1,000,000 households of history as on 10,000, and equals a full recomputation (tests/test_moments.py).

Sums are weighted by each unit's own weight ([design] weight, else 1); frame weights w_h = (N_h/N)/(n_h/n)
change with every household added, but are constant within a stratum, so they are applied when the sums are
finished (sums of w times f_h, of w^2 times f_h^2). A bucket is recomputed whole, so min/max (the engine's
"every answer equal" rule) stay exact.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import NamedTuple

import duckdb

from ..core.settings import ConfigError, Settings
from ..core.sqlutil import fetch_value, literal, named_query, transaction
from ..core.sqlutil import quote as q
from ..core.xlsform import XLSForm
from ..store import inputs
from .design import TEMPS, finish_design, stratum_weights
from .frame import read_frame

# A bucket: the rows of one source file, 10,000 source rows at a time (over `submissions`, raw or cleaned).
BUCKET_ROWS = 10_000
BUCKET = f"source_sha256 || ':' || CAST(source_row // {BUCKET_ROWS} AS VARCHAR)"
VERSION = "moments-1"  # bump when the stored sums change meaning: every store then recomputes its buckets
TABLES = ("est_buckets", "est_moments", "est_design", "est_counts", "est_shifts")
# Inputs whose change does not touch the stored sums: loaded files and cleaning change buckets' prints; the
# others feed trends or partners, which are made afresh on every estimate.
NOT_IN_SIGNATURE = frozenset({"loaded_files", "cleaning", "partners_list", "earlier_rounds"})


def _sql(name: str) -> str:
    return named_query("assess.estimate", name)


@dataclass
class Refresh:
    """What a refresh did: buckets in the round, recomputed, dropped (emptied), and households recomputed."""

    buckets: int = 0
    recomputed: int = 0
    dropped: int = 0
    households: int = 0
    everything: bool = False  # the signature changed (or first run): every bucket was recomputed
    warnings: list[str] = field(default_factory=list)


class _Batch(NamedTuple):
    """A batch of the plan kept as sums: its group set, unit type, analyses and whether it has groups."""

    j: int
    unit: str
    members: list[int]
    grouped: bool


def signature(settings: Settings, prints: dict[str, inputs.Print], area_sql: list[str]) -> str:
    """What every bucket's sums were computed under: the inputs of the estimates but files and cleaning, the
    settings the sums read (as given: a caller may change them in code) and the area keys (a district name that
    starts repeating across regions changes every household's key)."""
    used = (
        settings.needs,
        sorted(settings.need_answers.items()),
        settings.indicators,
        settings.region_levels,
        settings.missing_codes,
        settings.strata,
        settings.cluster,
        settings.weight,
        settings.id_column,
        settings.frame,
        settings.plan,
    )
    parts = [VERSION, repr(used), *area_sql]
    parts += [f"{name}={fp}" for name, (fp, _) in sorted(prints.items()) if name not in NOT_IN_SIGNATURE]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _psu_sql(settings: Settings) -> str:
    """The PSU a unit's sums are kept by: NULL for households that are their own PSU (no [design] cluster)."""
    return "u._psu" if settings.cluster else "CASE WHEN u._unit = 'household' THEN NULL ELSE u._psu END"


def _areas_sql(levels: int, prefix: str = "u.") -> str:
    if not levels:
        return "[]::VARCHAR[]"
    return "[" + ", ".join(f"CAST({prefix}{q(f'_lvl{i}')} AS VARCHAR)" for i in range(levels)) + "]"


def _scope(stale: list[str], everything: bool) -> str:
    """The households of the stale buckets, as a condition on `submissions`. The files are named as literals
    first, so that DuckDB skips the row groups of other files (a load writes a file's rows together)."""
    if everything:
        return "TRUE"
    shas = sorted({b.rsplit(":", 1)[0] for b in stale})
    return f"source_sha256 IN ({', '.join(literal(s) for s in shas)}) AND {BUCKET} IN (SELECT bucket FROM _est_stale)"


def refresh_moments(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    form: XLSForm,
    prints: dict[str, inputs.Print],
    area_sql: list[str],
    *,
    force: bool = False,
) -> Refresh:
    """Bring the stored sums of the round up to date with its households (on the cleaned views): the estimates'
    and, with `[analysis] plan`, those of its means, proportions and ratios. The caller holds the store lock;
    `con` is writable and has the cleaning layer installed. `force`: recompute every bucket."""
    db = q(fetch_value(con, "SELECT current_database()"))
    sig = signature(settings, prints, area_sql)
    now = dict(
        con.execute(
            _sql("moments_prints").format(db=db, rows=BUCKET_ROWS), {"round": settings.round}
        ).fetchall()
    )
    stored = {
        b: (p, s)
        for b, p, s in con.execute(
            "SELECT bucket, print, signature FROM est_buckets WHERE round = ?", [settings.round]
        ).fetchall()
    }
    everything = force or any(s != sig for _, s in stored.values()) or not stored
    stale = sorted(b for b, p in now.items() if everything or stored.get(b, (None,))[0] != p)
    gone = sorted(b for b in stored if b not in now)
    result = Refresh(buckets=len(now), recomputed=len(stale), dropped=len(gone), everything=everything)
    if not stale and not gone:
        return result
    if stale:
        composites, batches = _scoped_tables(con, settings, form, area_sql, stale, everything)
        if not everything and _new_plan_options(con, settings):
            # a proportion of the plan met an answer the stored buckets' units never gave: they need a 0 for it
            return refresh_moments(con, settings, form, prints, area_sql, force=True)
        result.households = fetch_value(con, "SELECT count(*) FROM est_units WHERE _unit = 'household'")
    with transaction(con):
        for table in TABLES[:4]:
            if everything:
                con.execute(f"DELETE FROM {table} WHERE round = ?", [settings.round])
            else:
                con.execute(
                    f"DELETE FROM {table} WHERE round = $round AND bucket IN (SELECT unnest($b::VARCHAR[]))",
                    {"round": settings.round, "b": stale + gone},
                )
        if everything:
            con.execute("DELETE FROM est_shifts WHERE round = ?", [settings.round])
        if stale:
            _store_sums(con, settings, area_sql, stale, everything, composites, batches)
            con.executemany(
                "INSERT INTO est_buckets VALUES (?, ?, ?, ?)",
                [[settings.round, b, now[b], sig] for b in stale],
            )
    return result


def _scoped_tables(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    form: XLSForm,
    area_sql: list[str],
    stale: list[str],
    everything: bool,
) -> tuple[list[str], list[_Batch]]:
    """`est_units` / `est_values` (and the plan's `_plan_*` tables) of the stale buckets' households; returns
    the composite indicators' names and the plan's batches kept as sums (all but the medians)."""
    from .analysis import prepare_plan
    from .indicators import add_indicator_values
    from .run import build_need_values, build_units, build_values, submission_columns

    con.execute("CREATE OR REPLACE TEMP TABLE _est_stale (bucket VARCHAR)")
    con.execute("INSERT INTO _est_stale SELECT unnest($b::VARCHAR[])", {"b": stale})
    build_units(con, settings, form, scope=_scope(stale, everything), area_sql=area_sql)
    build_values(con, settings, form)
    build_need_values(con, settings, form)
    composites = add_indicator_values(con, settings, form, submission_columns(con))
    batches: list[_Batch] = []
    if settings.plan:
        known: dict[str, list[str]] = {}
        if not everything:
            for ind, opt in con.execute(
                "SELECT indicator, option FROM est_shifts WHERE round = ? AND pass LIKE 'plan:%' ORDER BY ALL",
                [settings.round],
            ).fetchall():
                known.setdefault(ind, []).append(opt)
        run = prepare_plan(con, settings, form, known=known)
        for (j, _, median, unit), members in run.batches.items():
            if not median:
                batches.append(_Batch(j, unit, members, bool(run.sets[j])))
    return composites, batches


def _new_plan_options(con: duckdb.DuckDBPyConnection, settings: Settings) -> bool:
    """Whether the stale buckets' plan values answer a stored proportion with an option not stored for it."""
    if not settings.plan:
        return False
    return bool(
        fetch_value(
            con,
            "SELECT count(*) FROM (SELECT DISTINCT indicator, option FROM _plan_values WHERE y IS NOT NULL "
            "AND kind = 'prop') v WHERE v.indicator IN (SELECT indicator FROM est_shifts WHERE round = $round "
            "AND pass LIKE 'plan:%') AND NOT EXISTS (SELECT 1 FROM est_shifts k WHERE k.round = $round "
            "AND k.pass LIKE 'plan:%' AND k.indicator = v.indicator AND k.option = v.option)",
            {"round": settings.round},
        )
    )


def _store_sums(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    area_sql: list[str],
    stale: list[str],
    everything: bool,
    composites: list[str],
    batches: list[_Batch],
) -> None:
    """Insert the sums, design counts and household counts of the stale buckets (from `_scoped_tables`)."""
    from .analysis import batch_pass

    args = {"round": settings.round}
    _insert_sums(con, settings, "", "est_units", "est_values", "1.0", _areas_sql(len(settings.region_levels)))
    area_list = "[" + ", ".join(f"CAST({e} AS VARCHAR)" for e in area_sql) + "]" if area_sql else None
    con.execute(
        _sql("moments_counts").format(
            bucket=BUCKET, scope=_scope(stale, everything), areas=area_list or "[]::VARCHAR[]"
        ),
        {**args, "ind": list(settings.needs) or composites},
    )
    if not settings.plan:
        return
    for j, unit, members, grouped in batches:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _plan_batch AS SELECT * FROM _plan_values WHERE list_contains($n, indicator)",
            {"n": [f"a{i}" for i in members]},
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _plan_bunits AS SELECT * FROM _plan_units WHERE _unit = $u",
            {"u": unit},
        )
        areas = f"[CAST(u.{q(f'_g{j}')} AS VARCHAR)]" if grouped else "[]::VARCHAR[]"
        pass_ = batch_pass(j, unit)
        design = not fetch_value(
            con,
            "SELECT count(*) FROM est_design WHERE round = $round AND pass = $pass AND bucket IN "
            "(SELECT bucket FROM _est_stale)",
            {**args, "pass": pass_},
        )  # two confidence levels over the same groups and units: one design
        _insert_sums(con, settings, pass_, "_plan_bunits", "_plan_batch", "v.x", areas, design=design)
    from .analysis import drop_plan_tables

    drop_plan_tables(con)


def _insert_sums(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    pass_: str,
    units: str,
    values: str,
    x: str,
    areas: str,
    *,
    design: bool = True,
) -> None:
    args = {"round": settings.round, "pass": pass_}
    psu = _psu_sql(settings)
    con.execute(_sql("moments_shifts").format(values=values, x=x.replace("v.", "")), args)
    con.execute(_sql("moments_insert").format(units=units, values=values, psu=psu, areas=areas, x=x), args)
    if design:
        con.execute(_sql("moments_design").format(units=units, psu=psu), args)


def estimates_from_moments(
    con: duckdb.DuckDBPyConnection, settings: Settings, *, out: str, conf: float = 0.95
) -> list[str]:
    """(Re)create table `out` (the engine's columns; level = `_lvl<i>`) from the stored sums of every bucket of
    the round; returns the design's warnings (frame strata without a household, households without a weight).
    Leaves `_est_w` (the frame weights) for the plan's batches (`finish_sums`); `drop_temps` drops it."""
    warnings = _weights(con, settings)
    dropped = fetch_value(con, _sql("moments_dropped"), {"round": settings.round})
    if dropped:
        warnings.append(
            f"{dropped} household(s) have no valid weight in '{settings.weight}' and were left out"
        )
    finish_sums(con, settings, "", [f"_lvl{i}" for i in range(len(settings.region_levels))], out, conf)
    return warnings


def finish_sums(
    con: duckdb.DuckDBPyConnection, settings: Settings, pass_: str, levels: list[str], out: str, conf: float
) -> None:
    """(Re)create table `out` with the engine's rows of one pass (the estimates, or a batch of the plan) from
    the stored sums of every bucket, one unit type after the other; `_est_w` must exist (estimates_from_moments)."""
    units = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT unit FROM est_moments WHERE round = ? AND pass = ? ORDER BY unit <> 'household', unit",
            [settings.round, pass_],
        ).fetchall()
    ] or ["household"]
    try:
        for i, unit in enumerate(units):
            args = {"round": settings.round, "unit": unit, "pass": pass_}
            for statement in _sql("moments_frame").split(";\n\n"):  # one statement per paragraph
                con.execute(statement, args)
            con.execute(_sql("estimate_cellmap"))
            con.execute(
                _sql("estimate_levels"),
                {"lvls": list(range(len(levels) + 1)), "names": ["national", *levels]},
            )
            psu_shape = fetch_value(con, "SELECT count(*) FROM _est_pids") > 0
            con.execute(_sql("moments_cells_psu" if psu_shape else "moments_cells_units"), args)
            shape = (
                ("estimate_df_psu", "estimate_zsums_split")
                if psu_shape
                else ("estimate_df_units", "estimate_zsums_units")
            )
            finish_design(
                con, *shape, conf=conf, min_cell=settings.min_cell, unit=unit, out=q(out), append=i > 0
            )
    finally:
        for t in (*TEMPS, "_est_sids", "_est_pids"):
            con.execute(f"DROP TABLE IF EXISTS {t}")


def drop_temps(con: duckdb.DuckDBPyConnection) -> None:
    for t in ("_est_w", "_est_stale"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def _weights(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """`_est_w(stratum, f)`: the frame weight of each stratum from the households of all buckets (1 without a
    frame, or with a [design] weight column, whose weights are in the sums already)."""
    sampled = dict(
        con.execute(
            "SELECT stratum, sum(units) FROM est_design WHERE round = ? AND unit = 'household' GROUP BY stratum",
            [settings.round],
        ).fetchall()
    )
    warnings: list[str] = []
    if settings.frame and not settings.weight and sampled:
        try:
            weights, warnings = stratum_weights(sampled, read_frame(settings))
        except ValueError as exc:
            raise ConfigError(f"{settings.frame}: {exc}.") from exc
    else:
        weights = dict.fromkeys(sampled, 1.0)
    con.execute("CREATE OR REPLACE TEMP TABLE _est_w (stratum VARCHAR, f DOUBLE)")
    if weights:
        con.execute(
            "INSERT INTO _est_w SELECT unnest($s::VARCHAR[]), unnest($f::DOUBLE[])",
            {"s": list(weights), "f": list(weights.values())},
        )
    return warnings


def household_counts_from_moments(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Rewrite `household_counts` for the round from the stored per-bucket counts (national, then each level)."""
    args = {"round": settings.round}
    with transaction(con):
        con.execute(_sql("counts_forget"), args)
        con.execute(
            "INSERT INTO household_counts SELECT $round, 'national', 'all', sum(interviewed), "
            "sum(interviewed - in_estimates), sum(in_estimates) FROM est_counts WHERE round = $round "
            "HAVING count(*) > 0",
            args,
        )
        for i, level in enumerate(settings.region_levels, start=1):
            con.execute(
                f"INSERT INTO household_counts SELECT $round, $level, areas[{i}], sum(interviewed), "
                "sum(interviewed - in_estimates), sum(in_estimates) FROM est_counts "
                f"WHERE round = $round AND areas[{i}] IS NOT NULL GROUP BY areas[{i}]",
                {**args, "level": level},
            )
