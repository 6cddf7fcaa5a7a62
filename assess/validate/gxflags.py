"""A GX expectation for the rules written as a SQL flag whose metric GX bundles: one query per view for all.

GX's UnexpectedRowsExpectation runs two statements per rule (a row count, then up to 200 rows nobody reads):
on a wide form, 500 rules made 1,000 statements, a third of the validation time. Its count here is an
aggregate metric (`count(*) FILTER (WHERE flag)`), which GX's SQL engine computes together with every other
aggregate of the same table in one SELECT (`resolve_metric_bundle`). The count and pass/fail are the same;
a flag that fails at run time fails its whole bundle, so `gx.run_sql_route` re-runs such rules one by one
with UnexpectedRowsExpectation, which reports the error of the one rule as before.
GX is imported inside `flag_expectation_class` only (importing it costs seconds).
"""

from __future__ import annotations

import functools
from typing import Any

METRIC = "assess_flag.unexpected_count"
EXPECTATION_TYPE = "expect_no_row_flagged_by_sql"


@functools.cache
def flag_expectation_class() -> Any:
    """The expectation class (defined and registered with GX once per process)."""
    from great_expectations.compatibility import pydantic
    from great_expectations.compatibility.sqlalchemy import sqlalchemy as sa
    from great_expectations.core.metric_domain_types import MetricDomainTypes
    from great_expectations.core.metric_function_types import MetricPartialFunctionTypes
    from great_expectations.execution_engine import SqlAlchemyExecutionEngine
    from great_expectations.expectations.expectation import BatchExpectation
    from great_expectations.expectations.metrics.metric_provider import metric_partial
    from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider

    class FlaggedRowCount(TableMetricProvider):
        """Rows of the batch where the SQL flag is true: an aggregate, bundled with the table's others."""

        metric_name = METRIC
        value_keys = ("flag",)

        @metric_partial(
            engine=SqlAlchemyExecutionEngine,
            partial_fn_type=MetricPartialFunctionTypes.AGGREGATE_FN,
            domain_type=MetricDomainTypes.TABLE,
        )
        def _sqlalchemy(
            cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics, runtime_configuration
        ):
            flag = sa.text(f"({metric_value_kwargs['flag']})")
            return sa.func.count().filter(flag), metric_domain_kwargs, {}

    class ExpectNoRowFlaggedBySql(BatchExpectation):
        """No row of the batch has the SQL flag true (the flag reads the batch's columns by name)."""

        flag: str = pydantic.Field(description="SQL true on a failing row")

        metric_dependencies = (METRIC,)
        domain_keys = ("batch_id", "row_condition", "condition_parser")
        success_keys = ("flag",)
        args_keys = ("flag",)

        def _validate(self, metrics: dict, runtime_configuration=None, execution_engine=None):
            count = int(metrics[METRIC] or 0)
            return {"success": count == 0, "result": {"observed_value": count}}

    del FlaggedRowCount  # registered with GX by its definition
    return ExpectNoRowFlaggedBySql
