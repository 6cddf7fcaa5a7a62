"""Which rows of a staged file load: its household rows (not kept aside, with an id, the last row of each id)
and, per repeat group, the member rows whose household row loads, that are not kept aside themselves, and whose
parent instance loads. One definition for the store's load (`assess.store.load`) and for what a receipt of a
file not yet loaded (`assess check`) says loading would do.
"""

from __future__ import annotations

import duckdb

from ..core.problems import MemberCount, ValidationResult
from ..core.sqlutil import fetch_value, literal, named_query
from ..read.export import Staged


def member_table(n: int) -> str:
    """The temp table holding the loading rows of the file's n-th repeat group (after `accept`)."""
    return f"_members_{n}"


def accept(con: duckdb.DuckDBPyConnection, staged: Staged, result: ValidationResult) -> list[MemberCount]:
    """Create the temp view `_accepted` (household rows that load, read from the staging file through the temp
    table `_accepted_rows` of their row numbers) and the temp tables `_members_<n>` (member rows that load, one
    per repeat group of the file, in `staged.repeats` order); return each repeat group's counts."""
    bad = sorted(result.quarantined_rows())
    con.execute(named_query("assess.validate", "accepted_rows"), {"path": str(staged.path), "bad": bad})
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW _accepted AS SELECT * FROM read_parquet({literal(str(staged.path))}) "
        "SEMI JOIN _accepted_rows USING (_row)"
    )
    tables = {name: member_table(n) for n, name in enumerate(staged.repeats)}
    counts: list[MemberCount] = []
    for name, rep in staged.repeats.items():
        table = tables[name]
        own_bad = sorted(result.quarantined_member_rows(rep.member))
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS " + named_query("assess.validate", "accepted_members"),
            {"path": str(rep.path), "bad": own_bad},
        )
        if rep.parent is not None:
            parent = tables.get(rep.parent)
            if parent is None:  # the parent repeat is not in the file: nothing to hang these rows on
                con.execute(f"DELETE FROM {table}")
            else:
                con.execute(
                    f"DELETE FROM {table} m WHERE NOT EXISTS (SELECT 1 FROM {parent} p "
                    "WHERE p._hh_row = m._hh_row AND p._path = m._parent_path)"
                )
        else:
            con.execute(f"DELETE FROM {table} WHERE _parent_path IS DISTINCT FROM ''")
        accepted = int(fetch_value(con, f"SELECT count(*) FROM {table}"))
        quarantined = len(own_bad)
        counts.append(
            MemberCount(
                repeat=name,
                member=rep.member,
                rows=rep.rows,
                accepted=accepted,
                quarantined=quarantined,
                with_household=max(0, rep.rows - accepted - quarantined),
            )
        )
    return counts


def would_load(staged: Staged, result: ValidationResult) -> list[MemberCount]:
    """What loading would do with the file's member rows (for a file checked, not loaded)."""
    if not staged.repeats:
        return []
    con = duckdb.connect()
    try:
        return accept(con, staged, result)
    finally:
        con.close()
