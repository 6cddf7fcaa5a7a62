"""Disclosure control: complementary suppression after the primary rule of ``estimate_result.sql``.

Primary rule (in the engine): a cell is suppressed when fewer than ``[privacy] min_cell`` units (or
households) answered, or when 1 to min_cell - 1 of them chose the option. A suppressed count that the
published cells still reveal is protected by suppressing a second cell:

* within a distribution (a select_one's options in one area add up to its n): one suppressed option
  -> the smallest other chosen option is suppressed too (the two-answer question is the plain case);
* across the areas of a level (they add up to the national figure): one suppressed area -> the area
  with the smallest count is suppressed too.

The passes run twice, since a cell suppressed by one can leave a single suppressed cell for the other.
Hierarchies (admin2 inside admin1) are not searched for further differences; medians (not additive) get no
complement. Values stay in the store.
"""

from __future__ import annotations

import duckdb

from ..core.sqlutil import named_query
from .design import _relation_name

__all__ = ["complementary_suppression"]


def complementary_suppression(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Apply complementary suppression to an estimates-shaped table in place; returns the cells it added."""
    name = _relation_name(table)
    before = con.execute(f"SELECT count(*) FILTER (WHERE suppressed) FROM {name}").fetchone()
    for _ in range(2):
        for query in ("suppress_within", "suppress_across"):
            con.execute(named_query("assess.estimate", query).format(table=name))
    after = con.execute(f"SELECT count(*) FILTER (WHERE suppressed) FROM {name}").fetchone()
    return int(after[0] if after else 0) - int(before[0] if before else 0)
