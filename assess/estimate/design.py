"""Design-based estimates (Taylor linearisation) that agree with R's ``survey`` / ``srvyr``.

What is estimated
-----------------
For every (indicator, option) and every domain -- the whole sample (``level='national'``,
``area='all'``) and every value of every region level -- the estimate is the ratio

    est_D = sum_{i in D} w_i y_i / sum_{i in D} w_i

over the households of the domain that answered the variable (``y`` not null). ``y`` is the 0/1
indicator of an option (proportions: select_one answers, select_multiple option columns) or the value
itself (means). This is ``svymean`` / ``srvyr::survey_mean`` / ``survey_prop(proportion = FALSE)``.

How R computes it (and what is reproduced here)
-----------------------------------------------
IMPACT's ``analysistools`` (which produced the published MSNA template results) builds one design on
all households (``svydesign(ids = ~psu, strata = ~stratum, weights = ~w, nest = TRUE)``), then per
variable does ``filter(!is.na(var))`` and ``group_by(area)``, and asks srvyr for
``survey_mean(vartype = "ci")``. In ``survey``:

* Subsetting a design keeps, for each stratum, the number of PSUs of the *whole* design
  (``fpc$sampsize``) and pads the subset with zero PSU totals up to that number (``onestrat``). So
  households missing the variable, and households of other areas, simply have influence 0.
* ``svymean`` linearises the ratio: z_i = w_i (y_i - est_D) / sum_D w for households in the domain,
  0 for everybody else. With z_hc the total of z over PSU c of stratum h, and n_h the number of PSUs
  of stratum h in the whole design (all households, whether or not they answered),

      Var(est_D) = sum_h n_h / (n_h - 1) * sum_{c=1..n_h} (z_hc - zbar_h)^2,  zbar_h = sum_c z_hc / n_h

  (no finite population correction). For an unweighted simple random sample of N households this is
  N/(N-1) * sum_{i in D} (y_i - p)^2 / n_D^2, N the whole sample -- as in the published results.
* A PSU is the pair (stratum, psu): cluster ids may repeat across strata (``nest = TRUE``).
* Lonely PSU: R's default ``options(survey.lonely.psu = "fail")`` stops with an error when a stratum of
  the design has a single PSU. We instead use the ``"certainty"`` rule: such a stratum contributes 0 to
  the variance (it is treated as sampled with certainty). This equals R run with
  ``options(survey.lonely.psu = "certainty")``. A stratum whose PSUs are all missing the variable also
  contributes 0, as in R. (R's subset-specific "adjust" warning for a domain with one PSU in a stratum
  does not change the formula above.)
* Degrees of freedom: srvyr's ``survey_mean(vartype = "ci")`` uses ``df = degf(design)`` of the design
  it is given, i.e. the filtered one: (distinct PSUs) - (distinct strata) among the households that
  answered the variable, nationally. Grouped (area) estimates use that same national df, as srvyr does
  (``degf`` is not recomputed per group).
* CI = est -/+ t_{(1+conf)/2, df} * SE, not clipped to [0, 1] (lower bounds can be negative, as in the
  published tables). When df <= 0 the CI is NULL.

Members (rows of a repeat group)
--------------------------------
A question asked per member of a repeat group (the household roster) is estimated over the members, with
R's ``svydesign(ids = ~household, strata = ~stratum, weights = ~w, nest = TRUE, data = members)`` -- or
``ids = ~cluster`` when the household design has clusters: a member carries its household's weight,
stratum, PSU and areas, so the PSU of a member is its household (or the household's cluster). Everything
above then holds with "unit" for "household": n_h counts the PSUs of stratum h among all the members of
the repeat, df = PSUs - strata among the members that answered. Each unit type (``_unit``) is its own
design and is estimated in its own pass; ``n_households`` counts the distinct households (``_hh``) behind
the ``n`` units of a cell, and a cell is suppressed when either is below ``min_cell``.

Implementation
--------------
All sums run in DuckDB (``assess/estimate/sql/estimate_*.sql``, one named query per file), in one pass over
``est_values``: households get integer stratum / PSU ids and an "area cell" id (their combination of
region-level values); a small map sends each cell to its domains (national + one area per level).
Sums are taken per (variable, stratum, PSU, cell) -- or per (variable, stratum, cell) when every PSU
is one household -- of a = sum w*(y - c), b = sum w, with c a per-variable centring constant (the
unweighted mean; the variance does not depend on it, it only protects precision for large means).
Per (variable, domain, stratum) we then need sum a_c, sum b_c, sum a_c^2, sum a_c*b_c, sum b_c^2 over
the PSU totals within the domain, and with e = sum a / sum b, sw = sum b:

    z_hc = (a_c - e*b_c)/sw,  Var = sum_h n_h/(n_h-1) * (sum_c z_hc^2 - (sum_c z_hc)^2 / n_h)

PSUs absent from a domain add nothing to either sum. If each PSU lies within one area cell, cell sums
are already PSU totals in every domain ("nested"); otherwise PSU totals are re-summed per domain
("split"). Only identifiers that name real tables / columns (an allow-list checked against the
catalogue) are interpolated, always double-quoted; values are bound as parameters.
Assumes one row per (_rid, indicator, option) in ``est_values``. bound as parameters. This module never imports prefect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import duckdb
import pandas as pd

from ..core.sqlutil import fetch_one, named_query, quote

__all__ = ["compute_estimates", "design_weights", "t_quantiles"]

_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_UNITS_REQUIRED = ("_rid", "_weight", "_stratum", "_psu")
TEMPS = (  # the engine's working tables (dropped after each run)
    "_est_design",
    "_est_strata",
    "_est_cellmap",
    "_est_levels",
    "_est_vars",
    "_est_cells",
    "_est_df",
    "_est_zs",
    "_est_tq",
)
_VALUES_REQUIRED = ("_rid", "indicator", "option", "kind", "y")


def _sql(name: str) -> str:
    """Text of the named query ``assess/estimate/sql/<name>.sql``."""
    return named_query("assess.estimate", name)


def _relation_name(name: str) -> str:
    """A table/view name usable in SQL: plain identifier (optionally schema-qualified), quoted."""
    parts = name.split(".")
    if not parts or len(parts) > 2 or not all(_IDENT_RE.match(p) for p in parts):
        raise ValueError(f"invalid table name {name!r}: use letters, digits and underscores")
    return ".".join(quote(p) for p in parts)


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {_relation_name(relation)}").fetchall()
    except duckdb.Error as exc:  # CatalogException and friends
        raise ValueError(f"table or view {relation!r} not found: {exc}") from exc
    return [r[0] for r in rows]


def t_quantiles(dfs: Iterable[int | None], conf: float = 0.95) -> dict[int, float]:
    """Two-sided t quantile t_{(1+conf)/2, df} for each positive df (df <= 0 / None are skipped)."""
    from scipy.stats import t

    if not 0 < conf < 1:
        raise ValueError(f"conf must be in (0, 1), got {conf!r}")
    keys = sorted({int(d) for d in dfs if d is not None and int(d) > 0})
    if not keys:
        return {}
    qs = t.ppf((1 + conf) / 2, keys)
    return {k: float(q) for k, q in zip(keys, qs, strict=True)}


def compute_estimates(
    con: duckdb.DuckDBPyConnection,
    levels: list[str],
    *,
    conf: float = 0.95,
    min_cell: int = 5,
    units: str = "est_units",
    values: str = "est_values",
    out: str = "estimates",
) -> None:
    """(Re)creates table `out` with columns:
    unit VARCHAR ('household', or the repeat group whose rows are the units),
    level VARCHAR ('national' or a level name), area VARCHAR ('all' for national; the level column's value otherwise),
    indicator VARCHAR, option VARCHAR, estimate DOUBLE, ci_low DOUBLE, ci_high DOUBLE, se DOUBLE,
    n BIGINT (units with non-missing y in the area), n_households BIGINT (households among them: = n for
    households), n_option BIGINT (units with y=1, NULL for kind='mean'), weighted_n DOUBLE (sum of weights of
    those n), df BIGINT, suppressed BOOLEAN (n < min_cell or n_households < min_cell).

    `units` holds one row per unit (_rid, _weight, _stratum, _psu and one column per name in `levels`);
    `values` holds (_rid, indicator, option, kind, y) and optionally x, the denominator of a ratio (kind
    'ratio': estimate = sum w*y / sum w*x, linearised as svyratio; x = 1 for means, proportions; a row
    with x or y missing is left out). Optional columns of `units`: `_unit` (the unit type:
    'household' or a repeat's name; each type is its own design, estimated separately, and a variable's values
    must all belong to units of one type) and `_hh` (the unit's household, for n_households: the units of a
    household share its stratum, PSU and areas). See the module docstring for the method.
    Only domains with at least one non-missing y produce a row.
    """
    units_q, values_q, out_q = _relation_name(units), _relation_name(values), _relation_name(out)
    levels = list(levels)
    unit_cols = _columns(con, units)
    missing = [c for c in _UNITS_REQUIRED if c not in unit_cols]
    if missing:
        raise ValueError(f"{units!r} lacks required column(s) {missing}")
    value_cols = _columns(con, values)
    missing = [c for c in _VALUES_REQUIRED if c not in value_cols]
    if missing:
        raise ValueError(f"{values!r} lacks required column(s) {missing}")
    # allow-list for interpolated level identifiers: real columns of `units`, not internal ones
    for lv in levels:
        if lv not in unit_cols or lv in _UNITS_REQUIRED:
            raise ValueError(f"region level {lv!r} is not a column of {units!r}")
        if lv == "national":
            raise ValueError("'national' is reserved and cannot be a region level name")
    if len(set(levels)) != len(levels):
        raise ValueError(f"duplicate region levels in {levels}")
    if not 0 < conf < 1:
        raise ValueError(f"conf must be in (0, 1), got {conf!r}")

    dup_rid, null_rid, null_w, neg_w = fetch_one(con, _sql("estimate_check_units").format(units=units_q))
    if dup_rid or null_rid:
        raise ValueError(f"{units!r}: _rid must be unique and not null")
    if null_w or neg_w:
        raise ValueError(f"{units!r}: _weight must be non-null and >= 0")

    x_col = quote("x") if "x" in value_cols else "1.0"  # a ratio's denominator; 1 for means, proportions
    area_list = (
        "[" + ", ".join(f"CAST({quote(lv)} AS VARCHAR)" for lv in levels) + "]" if levels else "[]::VARCHAR[]"
    )
    hh = quote("_hh") if "_hh" in unit_cols else quote("_rid")
    if "_unit" in unit_cols:  # one design per unit type: households, and the rows of each repeat group
        unit_types: list[str | None] = [
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT _unit FROM {units_q} ORDER BY _unit <> 'household', _unit"
            ).fetchall()
        ]
        if any(u is None for u in unit_types):
            raise ValueError(f"{units!r}: _unit must not be null")
    else:
        unit_types = []
    unit_types = unit_types or [None]
    created = False
    try:
        for unit in unit_types:
            where = f"WHERE {quote('_unit')} = $unit" if unit is not None else ""
            params = {"unit": unit} if unit is not None else {}
            con.execute(
                _sql("estimate_design").format(units=units_q, area_list=area_list, hh=hh, where=where), params
            )
            con.execute(_sql("estimate_strata"))
            con.execute(_sql("estimate_cellmap"))
            con.execute(
                _sql("estimate_levels"),
                {"lvls": list(range(len(levels) + 1)), "names": ["national", *levels]},
            )
            con.execute(_sql("estimate_vars").format(values=values_q, x=x_col))
            # Shape of the design decides how PSU totals are formed (same result, different cost):
            #   units  - every PSU is one unit: PSU totals are unit values;
            #   nested - every PSU lies within one area cell: cell sums are PSU totals in every domain;
            #   split  - general case: PSU totals are re-summed per domain.
            n_units, n_psu, n_psu_cell, n_hh = fetch_one(con, _sql("estimate_design_shape"))
            if n_units == n_psu:
                cells, dfq, zsums = "estimate_cells_units", "estimate_df_units", "estimate_zsums_units"
            elif n_psu == n_psu_cell:
                cells, dfq, zsums = "estimate_cells_psu", "estimate_df_psu", "estimate_zsums_nested"
            else:
                cells, dfq, zsums = "estimate_cells_psu", "estimate_df_psu", "estimate_zsums_split"
            nh = (
                "count(*)" if n_hh == n_units else "count(DISTINCT d.hh)"
            )  # units that are households, or members
            con.execute(
                _sql(cells).format(values=values_q, nh=nh, x=f"v.{x_col}" if x_col != "1.0" else x_col)
            )
            finish_design(con, dfq, zsums, conf=conf, min_cell=min_cell, unit=unit, out=out_q, append=created)
            created = True
    finally:
        for t in TEMPS:
            con.execute(f"DROP TABLE IF EXISTS {t}")


def finish_design(
    con: duckdb.DuckDBPyConnection,
    dfq: str,
    zsums: str,
    *,
    conf: float,
    min_cell: int,
    unit: str | None,
    out: str,
    append: bool,
) -> None:
    """From `_est_cells` (and `_est_design`, `_est_strata`, `_est_cellmap`, `_est_levels`, `_est_vars`) to the
    estimates of one unit type in `out` (quoted), created or appended to. Shared by `compute_estimates` and the
    stored sums of incremental estimation (moments.py), so both end in the same arithmetic."""
    con.execute(_sql(dfq))
    con.execute(_sql(zsums))
    tq = t_quantiles([r[0] for r in con.execute(_sql("estimate_df_values")).fetchall()], conf)
    con.execute(_sql("estimate_tq"), {"dfs": list(tq), "qs": list(tq.values())})
    result = _sql("estimate_result")
    args = {"min_cell": int(min_cell), "unit": unit or "household"}
    if append:
        con.execute(f"INSERT INTO {out}\n{result}", args)
    else:
        con.execute(f"CREATE OR REPLACE TABLE {out} AS\n{result}", args)


def design_weights(
    con: duckdb.DuckDBPyConnection,
    units_table: str,
    population: Mapping[str, float],
    *,
    units_strata_col: str = "_stratum",
    weight_col: str = "_weight",
) -> list[str]:
    """Set ``weight_col`` of ``units_table`` to the post-stratification design weight
    w_h = (N_h / N) / (n_h / n), computed on the rows present: n_h households of stratum h in the
    table, n all households, N_h the frame population of h and N the sum of N_h over the strata
    present in the sample. Weights average 1 (they sum to n).

    ``population`` maps each stratum code of the sampling frame (matched as text against
    ``units_strata_col``) to its population: ``frame.read_frame(settings)`` reads it from the frame file.
    Raises ValueError naming the stratum when a sampled stratum is missing from the frame (or has a
    non-positive population); returns warnings for frame strata without any sampled household.
    """
    table_q = _relation_name(units_table)
    cols = _columns(con, units_table)
    for c in (units_strata_col, weight_col):
        if c not in cols:
            raise ValueError(f"{units_table!r} has no column {c!r}")

    sample = con.execute(
        _sql("estimate_sample_strata").format(units=table_q, strata_col=quote(units_strata_col))
    ).df()
    if sample["stratum"].isna().any():
        raise ValueError(f"{units_table!r}: {units_strata_col!r} is missing for some households")
    weights, warns = stratum_weights(dict(zip(sample["stratum"], sample["n_h"], strict=True)), population)
    wt = pd.DataFrame({"stratum": list(weights), "w": list(weights.values())})
    con.register("_est_frame_w", wt)
    try:
        wtype = con.execute(
            _sql("estimate_weight_type").format(units=table_q, weight_col=quote(weight_col))
        ).fetchone()
        if wtype is not None and wtype[0] != "DOUBLE":
            con.execute(_sql("estimate_weight_double").format(units=table_q, weight_col=quote(weight_col)))
        con.execute(
            _sql("estimate_design_weights").format(
                units=table_q, weight_col=quote(weight_col), strata_col=quote(units_strata_col)
            )
        )
    except duckdb.Error as exc:
        raise ValueError(
            f"cannot update weights of {units_table!r} (it must be a table, not a view): {exc}"
        ) from exc
    finally:
        con.unregister("_est_frame_w")
    return warns


def stratum_weights(
    sampled: Mapping[str, float], population: Mapping[str, float]
) -> tuple[dict[str, float], list[str]]:
    """w_h = (N_h / N) / (n_h / n) for each sampled stratum h (n_h households of h, n all of them, N_h its frame
    population, N the population of the sampled strata), and warnings for frame strata nobody was sampled in.
    Raises ValueError naming a sampled stratum the frame lacks or gives no population."""
    pop = {str(k): float(v) for k, v in population.items()}
    for s in sampled:
        if s not in pop:
            raise ValueError(
                f"stratum {s!r} is in the sample but not in the sampling frame: add a row for it"
            )
        if not pop[s] > 0:
            raise ValueError(
                f"stratum {s!r} has households in the sample but a population of {pop[s]:g} in the "
                "sampling frame: give it its population"
            )
    warns = [f"stratum {s!r} of the sampling frame has no sampled household" for s in pop if s not in sampled]
    n = float(sum(sampled.values()))
    big_n = float(sum(pop[s] for s in sampled))
    return {s: (pop[s] / big_n) / (float(nh) / n) for s, nh in sampled.items()}, warns
