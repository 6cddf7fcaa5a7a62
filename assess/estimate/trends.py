"""Change since the previous round, and needs ranking per area with ties explained by CI overlap."""

from __future__ import annotations

import duckdb

from ..core.sqlutil import fetch_value, named_query


def sql(name: str) -> str:
    return named_query("assess.estimate", name)


def previous_round(con: duckdb.DuckDBPyConnection, round_: str) -> str | None:
    """The round whose data arrived last before this one's (round names need not sort)."""
    row = con.execute(sql("previous_round"), {"round": round_}).fetchone()
    return row[0] if row else None


def compute_trends(con: duckdb.DuckDBPyConnection, round_: str) -> int:
    """(Re)write `trends` rows for the round: change from the previous round with a test of the difference.

    The two rounds are independent samples, so SE(diff) = sqrt(se1^2 + se2^2); `significant` when
    |diff| > 1.96 SE(diff); `ci_overlap` is reported too, as leadership often reads intervals by eye.
    Suppressed cells of either round have no change.
    """
    con.execute(sql("trends_table"))
    con.execute("DELETE FROM trends WHERE round = $round", {"round": round_})
    prev = previous_round(con, round_)
    if prev is None:
        return 0
    con.execute(sql("trends_insert"), {"round": round_, "prev": prev})
    return fetch_value(con, "SELECT count(*) FROM trends WHERE round = $round", {"round": round_})


def compute_ranking(con: duckdb.DuckDBPyConnection, round_: str) -> int:
    """(Re)write `ranking` for the round: options of each proportion indicator ranked per area."""
    con.execute(sql("ranking_table"))
    con.execute("DELETE FROM ranking WHERE round = $round", {"round": round_})
    con.execute(sql("ranking_insert"), {"round": round_})
    return fetch_value(con, "SELECT count(*) FROM ranking WHERE round = $round", {"round": round_})
