"""How many households a round has, said once: interviewed, declined, in the estimates; nationally and for
every area. The CLI, the run summary, the report's cover, region headers and methodology all read these.

"Declined" are accepted households that are in none of the estimates: they answered none of the needs
questions, typically because consent was refused (`consent_question` finds the question that every needs
question depends on, so the report can say why).
"""

from __future__ import annotations

import duckdb

from ..core.settings import Settings
from ..core.sqlutil import named_query
from ..core.summary import HouseholdCounts
from ..core.xlsform import XLSForm
from ..core.xpath import Untranslatable, references

NATIONAL = ("national", "all")


def consent_question(form: XLSForm, needs: tuple[str, ...]) -> str | None:
    """The select_one question that every needs question is relevant on (e.g. `consent`), if there is one."""
    shared: set[str] | None = None
    for name in needs:
        question = form.questions.get(name)
        if question is None:
            continue
        refs: set[str] = set()
        for condition in (*question.group_relevant, question.relevant):
            try:
                refs |= references(condition) if condition else set()
            except Untranslatable:
                continue
        shared = refs if shared is None else shared & refs
    gates = sorted(n for n in shared or () if n in form.questions and form.questions[n].type == "select_one")
    return gates[0] if gates else None


def declined_word(form: XLSForm, settings: Settings) -> str:
    """How the households outside the estimates are called: declined when a consent question gates the needs."""
    return "declined" if consent_question(form, settings.needs) else "without needs answers"


def household_counts(
    con: duckdb.DuckDBPyConnection, round_: str, level: str = "national", area: str = "all"
) -> HouseholdCounts:
    """The stored counts of one area (zeros when it has none: no data yet, or an area nobody was interviewed in)."""
    row = con.execute(
        named_query("assess.estimate", "counts_read"), {"round": round_, "level": level, "area": area}
    ).fetchone()
    return HouseholdCounts(*row) if row else HouseholdCounts()
