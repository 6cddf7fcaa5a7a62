"""Medians with Woodruff intervals, as ``srvyr::survey_median(vartype = "ci", qrule = "school")``.

R (survey 4.x) does, on the design of one domain (the units that answered, of one group):

* qhat = the quantile rule "school" at p = 0.5 on the weighted values (``median_quantiles.sql``);
* p-hat = ``svymean(x <= qhat)``, the weighted share at or below the median, with its design SE and the
  domain design's df (``degf`` of the subset design: PSUs - strata among its units);
* CI = the same rule at p-hat -/+ t(df) * SE (a bound outside [0, 1] is missing), centred on p-hat, not 0.5.

p-hat and its SE come from :func:`compute_estimates`, the engine the means use (each domain is one 0/1
variable, missing outside the domain), so the variance, lonely-PSU and subset rules are the same; the
quantiles are per-domain sorts in DuckDB. Everything is set-based: one statement per step for all variables.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from ..core.sqlutil import named_query, quote
from .design import _columns, _relation_name, compute_estimates, t_quantiles

__all__ = ["compute_medians"]

_TEMPS = (
    "_med_dom",
    "_med_sorted",
    "_med_tot",
    "_med_ps",
    "_med_q",
    "_med_values",
    "_med_pe",
    "_med_est",
    "_med_units",
)


def _sql(name: str) -> str:
    return named_query("assess.estimate", name)


def compute_medians(
    con: duckdb.DuckDBPyConnection,
    levels: list[str],
    *,
    conf: float = 0.95,
    min_cell: int = 5,
    units: str = "est_units",
    values: str = "med_values",
    out: str = "medians",
) -> None:
    """(Re)create table `out` (the columns of ``compute_estimates``' output, option '') with the median of
    every variable of `values` (_rid, indicator, y) in every domain: the whole sample and each value of each
    column of `levels` in `units` (which has the columns compute_estimates needs)."""
    units_q, values_q, out_q = _relation_name(units), _relation_name(values), _relation_name(out)
    unit_cols = _columns(con, units)
    for lv in levels:
        if lv not in unit_cols or lv in ("_rid", "_weight", "_stratum", "_psu", "_unit", "_hh"):
            raise ValueError(f"level {lv!r} is not a column of {units!r}")
    lvls = "[" + ", ".join(str(i) for i in range(len(levels) + 1)) + "]"
    areas = "['all'" + "".join(f", CAST(u.{quote(lv)} AS VARCHAR)" for lv in levels) + "]"
    names = ", ".join(
        f"({i}, '{name}')" for i, name in enumerate(["national", *levels])
    )  # allow-listed above
    hh = "_hh" if "_hh" in unit_cols else "_rid"
    unit = "u._unit" if "_unit" in unit_cols else "'household'"
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW _med_units AS SELECT _rid, {quote(hh)} AS _hh FROM {units_q}"
        )
        con.execute(
            _sql("median_domains").format(units=units_q, values=values_q, lvls=lvls, areas=areas, unit=unit)
        )
        con.execute(_sql("median_sorted"))
        con.execute("CREATE OR REPLACE TEMP TABLE _med_ps AS SELECT did, 0 AS k, 0.5 AS p FROM _med_tot")
        con.execute(_sql("median_quantiles"))
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _med_values AS SELECT d._rid, CAST(d.did AS VARCHAR) AS indicator, "
            "'' AS option, 'prop' AS kind, CASE WHEN d.y <= q.q THEN 1.0 ELSE 0.0 END AS y "
            "FROM _med_dom AS d JOIN _med_q AS q ON q.did = d.did AND q.k = 0"
        )
        compute_estimates(con, [], conf=conf, min_cell=1, units=units, values="_med_values", out="_med_pe")
        pe = con.execute("SELECT CAST(indicator AS BIGINT) AS did, estimate, se, df FROM _med_pe").df()
        tq = t_quantiles(pe["df"].dropna().astype(int), conf)
        pe["tq"] = [tq.get(int(d)) if pd.notna(d) else None for d in pe["df"]]
        half = pe["tq"].astype(float) * pe["se"]
        lo, hi = pe["estimate"] - half, pe["estimate"] + half
        pe["p1"] = lo.where(lo >= 0)
        pe["p2"] = hi.where(hi <= 1)
        con.register("_med_pe_df", pe)
        con.execute("CREATE OR REPLACE TEMP TABLE _med_est AS SELECT did, df, tq FROM _med_pe_df")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _med_ps AS "
            "SELECT did, 0 AS k, 0.5 AS p FROM _med_pe_df UNION ALL "
            "SELECT did, 1, CAST(p1 AS DOUBLE) FROM _med_pe_df UNION ALL SELECT did, 2, CAST(p2 AS DOUBLE) FROM _med_pe_df"
        )
        con.unregister("_med_pe_df")
        con.execute(_sql("median_quantiles"))
        con.execute(
            f"CREATE OR REPLACE TABLE {out_q} AS\n" + _sql("median_result").format(levels=names),
            {"min_cell": int(min_cell)},
        )
    finally:
        for t in _TEMPS:
            con.execute(f"DROP {'VIEW' if t == '_med_units' else 'TABLE'} IF EXISTS {t}")
