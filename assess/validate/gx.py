"""The adapter around Great Expectations: the rules as a GX suite, run on the DuckDB file through GX's SQL
data source (the fast route) or on pandas when that is unavailable; what GX reports, as `RuleOutcome`s.
GX is imported inside functions only: importing it costs ~5 s.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .chunks import create_views, plan_chunks, table_columns, table_rows
from .gxflags import EXPECTATION_TYPE as FLAG_EXPECTATION
from .gxflags import flag_expectation_class
from .rules import TABLE, Rule

log = logging.getLogger(__name__)


@dataclass
class RuleOutcome:
    """What GX reported for one rule."""

    success: bool
    unexpected: int = 0
    rows: list[int] | None = None  # complete list when known
    index_query: str | None = None
    error: str | None = None


# ------------------------------------------------------------------------------------------------ DuckDB route


class _DuckDBDialect(str):
    """Stands in for a GXSqlDialect member: equal to 'duckdb' and with the `.value` GX reads."""

    value = "duckdb"


def enable_gx_duckdb() -> bool:
    """Make GX keep one DuckDB connection per engine (else metric results come back empty).

    Touches a private GX name (see STACK-NOTES); returns False when this GX version lacks it, and the
    caller falls back to pandas. tests/test_validation.py fails when a GX upgrade breaks this.
    """
    try:
        import great_expectations.execution_engine.sqlalchemy_execution_engine as sae
    except ImportError:
        return False
    dialects = getattr(sae, "_PERSISTED_CONNECTION_DIALECTS", None)
    if not isinstance(dialects, tuple):
        return False
    if not any(d == "duckdb" for d in dialects):
        sae._PERSISTED_CONNECTION_DIALECTS = (*dialects, _DuckDBDialect("duckdb"))
    return True


def sql_route_available() -> bool:
    try:
        import duckdb_engine  # noqa: F401
    except ImportError:
        return False
    return enable_gx_duckdb()


def _context():
    """An in-memory GX context without a data docs site (receipts are our own documents).

    GX's default ephemeral context makes a temporary docs folder for every context and logs
    "Created temporary directory ... for ephemeral docs site" at INFO each time: once per validated file.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def known_expectation(type_: str) -> bool:
    from great_expectations.expectations.registry import get_expectation_impl

    try:
        get_expectation_impl(type_)
    except Exception:  # GX raises its own error types for unknown names
        return False
    return True


# ------------------------------------------------------------------------------------------------ suite


def _expectation(rule: Rule, index: int, query_flag: bool, *, bundled: bool = False):
    from great_expectations.expectations import ExpectColumnValuesToBeInSet, UnexpectedRowsExpectation
    from great_expectations.expectations.registry import get_expectation_impl

    meta = {"rule": index, "kind": rule.kind, "question": rule.question, "template": rule.template}
    if rule.flag is not None and query_flag and bundled:
        return flag_expectation_class()(flag=sql_text(rule.flag), description=rule.describe, meta=meta)
    if rule.flag is not None and query_flag:
        flag = gx_query_text(rule.flag)
        return UnexpectedRowsExpectation(
            unexpected_rows_query=f"SELECT _row FROM (SELECT _row, ({flag}) AS _fail FROM {{batch}}) AS t "
            "WHERE _fail",
            description=rule.describe,
            meta=meta,
        )
    if rule.flag is not None:  # pandas route: the flag is a helper column
        return ExpectColumnValuesToBeInSet(
            column=f"__rule_{index}", value_set=[False], description=rule.describe, meta=meta
        )
    cls = get_expectation_impl(rule.gx_type)
    return cls(**rule.kwargs, meta=meta)


def bundles(rule: Rule) -> bool:
    """True when the rule's flag can be an aggregate's filter (`gxflags`): no window, no subquery."""
    return rule.flag is not None and not _WINDOW.search(rule.flag) and not _SUBQUERY.search(rule.flag)


_WINDOW = re.compile(r"\bover\s*\(", re.IGNORECASE)
_SUBQUERY = re.compile(r"\bselect\b", re.IGNORECASE)


# SQLAlchemy's text() (GX wraps every UnexpectedRows query in it) reads ":name" as a bind parameter and turns
# "\\:name" back into ":name"; these are its own patterns (SQLAlchemy 2.x), pinned by a test.
_SA_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?![:\w])")
_SA_BIND_ESCAPED = re.compile(r"\\(:\w*)(?![:\w])")


def sql_text(sql: str) -> str:
    """Our SQL with the colons SQLAlchemy's text() would read as bind parameters escaped."""
    sql = _SA_BIND_ESCAPED.sub(lambda m: "\\\\" + m.group(1), sql)  # keep a literal "\\:x" as it is
    return _SA_BIND.sub(lambda m: "\\:" + m.group(1), sql)


def gx_query_text(sql: str) -> str:
    """Our SQL as GX must receive it: braces doubled (GX formats {batch}) and colons SQLAlchemy would bind escaped.

    Unescaped, a regex like `(?:food|water)` in a select_multiple rule becomes the bind parameter `:food`: the
    metric fails, and GX then re-runs every ready metric of the batch up to three times per failing metric
    (validation_graph._resolve retries), which multiplied the statement count ~25x.
    """
    return sql_text(sql).replace("{", "{{").replace("}", "}}")


# Speed (benchmarks/bench_validation.py, benchmarks/RESULTS.md): on the SQL route GX validates a chunk's
# built-ins first with BOOLEAN_ONLY, which skips the query for sample unexpected values, the index query and
# most result formatting (about half of GX's time on a wide form); the few that fail are validated again with
# BASIC for their unexpected count and GX's query for the failing rows, as before. Flag rules run as one
# bundled aggregate (`gxflags`) in BASIC, which carries the count. No result store.
_PASS_SQL = {"result_format": "BOOLEAN_ONLY"}
_RESULT_FORMAT_SQL = {
    "result_format": "BASIC",
    "unexpected_index_column_names": ["_row"],
    "return_unexpected_index_query": True,
    "partial_unexpected_count": 0,
}
# pandas route: GX has no row query there, so the complete index lists are needed
_RESULT_FORMAT_PANDAS = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": ["_row"],
    "return_unexpected_index_query": True,
    "partial_unexpected_count": 20,
}


def _suite(rules: list[Rule], indices: list[int], *, sql: bool, bundled: frozenset[int] = frozenset()):
    """The rules `indices` as a GX suite; the flag rules in `bundled` as `gxflags` expectations."""
    import great_expectations as gx

    expectations = [_expectation(rules[i], i, sql, bundled=i in bundled) for i in indices]
    return gx.ExpectationSuite(name="form_rules", expectations=expectations)


def _run_suite(batch_definition, rules: list[Rule], *, sql: bool, batch_parameters=None):
    """Validate the generated suite on the batch with GX's validator (no result store: nothing reads it)."""
    from great_expectations.validator.v1_validator import Validator

    validator = Validator(
        batch_definition=batch_definition,
        batch_parameters=batch_parameters,
        result_format=_RESULT_FORMAT_SQL if sql else _RESULT_FORMAT_PANDAS,
    )
    return validator.validate_expectation_suite(_suite(rules, list(range(len(rules))), sql=sql))


# Rows up to which the cheap passes run. They save GX's fixed cost per expectation, which dominates on few rows;
# on many rows the scans dominate, and there one aggregate of all flags measured slower than one count per flag
# (bench_validation.py, 1,000,000 rows: GX 9.3 s against 6.1 s): such tables keep one BASIC pass.
FEW_ROWS = 50_000


def _validate_sql(
    batch_definition, rules: list[Rule], indices: list[int], *, few_rows: bool = True
) -> dict[int, RuleOutcome]:
    """The rules `indices` on one SQL batch, with one GX validator (see the result formats above).

    A flag that fails at run time fails its whole bundle (and the built-ins sharing its query): the rules that
    erred next to bundled flags run once more without them, each flag as an UnexpectedRowsExpectation, so an
    error is the rule's own, as it was.
    """
    from great_expectations.validator.v1_validator import Validator

    if not few_rows:
        validator = Validator(batch_definition=batch_definition, result_format=_RESULT_FORMAT_SQL)
        return _outcomes(validator.validate_expectation_suite(_suite(rules, indices, sql=True)), sql=True)
    validator = Validator(batch_definition=batch_definition, result_format=_PASS_SQL)
    plain = [i for i in indices if rules[i].flag is None]
    outcomes: dict[int, RuleOutcome] = {}
    if plain:
        outcomes = _outcomes(validator.validate_expectation_suite(_suite(rules, plain, sql=True)), sql=True)
    validator.result_format = _RESULT_FORMAT_SQL
    again = [i for i in plain if not outcomes[i].success]
    grouped = [i for i in indices if bundles(rules[i])]
    if again or grouped:
        suite = _suite(rules, again + grouped, sql=True, bundled=frozenset(grouped))
        outcomes.update(_outcomes(validator.validate_expectation_suite(suite), sql=True))
    retry = [i for i in indices if i not in outcomes or (grouped and outcomes[i].error)]
    if retry:
        outcomes.update(
            _outcomes(validator.validate_expectation_suite(_suite(rules, retry, sql=True)), sql=True)
        )
    return outcomes


def exception_message(info) -> str | None:
    """GX reports an expectation's own error flat, a failed metric as {metric id: ExceptionInfo}."""
    if not info:
        return None
    if isinstance(info, dict) and ("exception_message" in info or "raised_exception" in info):
        return info.get("exception_message") if info.get("raised_exception", True) else None
    items = info.values() if isinstance(info, dict) else [info]
    for item in items:
        message = (
            item.get("exception_message")
            if isinstance(item, dict)
            else getattr(item, "exception_message", None)
        )
        if message:
            return str(message)
    return None


# ------------------------------------------------------------------------------------------------ results


def _outcomes(results, *, sql: bool) -> dict[int, RuleOutcome]:
    out: dict[int, RuleOutcome] = {}
    for res in results.results:
        index = int(res.expectation_config.meta["rule"])
        r = res.result or {}
        err = exception_message(res.exception_info) if not res.success else None
        if res.expectation_config.type in ("unexpected_rows_expectation", FLAG_EXPECTATION):
            count = int(r.get("observed_value") or 0)
            rows = None
        else:
            count = int(r.get("unexpected_count") or 0)
            idx = r.get("unexpected_index_list")
            rows = [int(x["_row"]) for x in idx] if isinstance(idx, list) and len(idx) == count else None
        query = (
            r.get("unexpected_index_query")
            if sql and isinstance(r.get("unexpected_index_query"), str)
            else None
        )
        out[index] = RuleOutcome(
            success=bool(res.success),
            unexpected=count,
            rows=rows,
            index_query=query,
            error=err if err and not count else None,
        )
    return out


# ------------------------------------------------------------------------------------------------ routes


def run_sql_route(
    rules: list[Rule], db_path: Path, timings: dict[str, float] | None = None
) -> dict[int, RuleOutcome]:
    """GX on the DuckDB file: one suite over the table, or on a wide table one suite per chunk of rules over
    a view of the columns they read (`chunks`); a rule that could not run in its chunk runs on the table."""
    started = time.perf_counter()
    chunks = plan_chunks(rules, table_columns(str(db_path)))
    few_rows = table_rows(str(db_path)) <= FEW_ROWS
    views = create_views(str(db_path), chunks) if chunks else []
    context = _context()
    source = context.data_sources.add_sql(name="staging", connection_string=f"duckdb:///{db_path}")

    def suite(table: str, indices: list[int]) -> dict[int, RuleOutcome]:
        asset = source.add_table_asset(name=f"rows_{table}", table_name=table)
        return _validate_sql(
            asset.add_batch_definition_whole_table("file"), rules, indices, few_rows=few_rows
        )

    if timings is not None:
        timings["gx_setup"] = time.perf_counter() - started
    try:
        if not chunks:
            return suite(TABLE, list(range(len(rules))))
        outcomes: dict[int, RuleOutcome] = {}
        for view, (_, indices) in zip(views, chunks, strict=True):
            outcomes.update(suite(view, indices))
        again = [i for i, outcome in outcomes.items() if outcome.error]
        if again:
            outcomes.update(suite(TABLE, again))
        return outcomes
    finally:
        _close_engine(source)


def _close_engine(source) -> None:
    """Release GX's DuckDB connections (its engine and the data source's own) so the file can be reopened."""
    for close in (lambda: source.get_execution_engine().close(), lambda: source.get_engine().dispose()):
        try:
            close()
        except Exception:  # best effort: a connection GX already closed raises here
            log.debug("closing a GX connection failed", exc_info=True)


def run_pandas_route(rules: list[Rule], db_path: Path) -> dict[int, RuleOutcome]:
    con = duckdb.connect(str(db_path))
    try:
        flags = "".join(f", coalesce(({r.flag}), false) AS __rule_{i}" for i, r in enumerate(rules) if r.flag)
        frame = con.execute(f"SELECT *{flags} FROM {TABLE}").df()
    finally:
        con.close()
    context = _context()
    asset = context.data_sources.add_pandas(name="staging").add_dataframe_asset(name="rows")
    batch = asset.add_batch_definition_whole_dataframe("file")
    return _outcomes(_run_suite(batch, rules, sql=False, batch_parameters={"dataframe": frame}), sql=False)
