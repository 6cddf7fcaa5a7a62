"""Estimate only when an input of the estimates changed (assess/store/inputs.py); else reuse the last ones.

The estimates table is then left as it is (no row rewritten), and the run reports the summary recorded with
them. Incremental estimation (issue 15, later) starts from `Plan.last.details["loaded_files"]`: the files the
last estimates were made from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import duckdb

from ..core.settings import Settings
from ..core.summary import EstimateSummary, HouseholdCounts
from ..core.xlsform import XLSForm
from ..store import inputs
from ..store.uptodate import remember_inbox
from .run import run_estimates


@dataclass
class Refreshed:
    summary: EstimateSummary
    redone: bool
    changed: list[str] = field(default_factory=list)  # the inputs that changed ("never run" the first time)
    since: str | None = None  # the run whose estimates were kept


def summary_from(result: dict) -> EstimateSummary:
    """The EstimateSummary recorded with a stage (JSON) as the object the run reports."""
    fields = {k: v for k, v in result.items() if k in EstimateSummary.__dataclass_fields__}
    fields["households"] = HouseholdCounts(**result.get("households", {}))
    return EstimateSummary(**fields)


def refresh_estimates(
    con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, run_id: str
) -> Refreshed:
    """Estimate the round when one of its inputs changed since its last estimates, and record the inputs used.
    The caller holds the store lock; `con` is writable. Also remembers the inbox files' hashes."""
    plan = inputs.plan(con, settings, inputs.ESTIMATE)
    if plan.up_to_date and plan.last is not None:
        remember_inbox(con, settings)
        return Refreshed(summary_from(plan.last.result), redone=False, since=plan.last.run_id)
    summary = run_estimates(con, settings, form, plan.prints)
    inputs.record_stage(con, run_id, settings, inputs.ESTIMATE, plan.prints, asdict(summary))
    remember_inbox(con, settings)
    return Refreshed(summary, redone=True, changed=plan.changed)
