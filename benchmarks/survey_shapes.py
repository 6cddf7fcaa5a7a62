"""Generated survey shapes for the ingest benchmark: an XLSForm and Kobo-shaped CSV exports of it.

`Shape` says how wide: groups of integers (range and cross-question constraints), select_one questions
(some only relevant when a number is above 2), select_multiple questions (Kobo's summary column plus one
1/0 column per option) and free text. The rows are written by DuckDB in one statement per file (hash-based
values, so a given seed gives the same files), with ~0.1% of the numbers out of range. Nobody's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
from openpyxl import Workbook

REGIONS = 6
NEEDS = ("food", "water", "shelter", "health", "education", "cash", "protection", "other")


@dataclass(frozen=True)
class Shape:
    groups: int
    integers: int  # per group
    selects: int  # select_one per group
    multiples: int  # select_multiple per group, len(NEEDS) options each
    texts: int  # per group

    @property
    def columns(self) -> int:
        """Columns of a Kobo CSV export (with the metadata and region columns)."""
        per_group = self.integers + self.selects + self.multiples * (1 + len(NEEDS)) + self.texts
        return self.groups * per_group + 5


WIDE = Shape(groups=28, integers=10, selects=9, multiples=2, texts=1)  # 1,069 columns, like a real MSNA
NARROW = Shape(groups=1, integers=20, selects=18, multiples=2, texts=2)  # 65 columns


def write_form(path: Path, shape: Shape) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(("type", "name", "label", "required", "relevant", "constraint", "constraint_message"))
    ws.append(("select_one admin1", "admin1", "Region", "yes"))
    for g in range(shape.groups):
        ws.append(("begin_group", f"g{g}", f"Section {g}"))
        for i in range(shape.integers):
            constraint = f". >= 0 and . <= ${{g{g}_n0}}" if i == 1 else ". >= 0 and . <= 30"
            ws.append(("integer", f"g{g}_n{i}", f"Number {g}.{i}", "yes", "", constraint, "0 to 30"))
        for i in range(shape.selects):
            relevant = f"${{g{g}_n0}} > 2" if i % 3 == 0 else ""
            ws.append((f"select_one l{i % 3}", f"g{g}_s{i}", f"Select {g}.{i}", "yes", relevant))
        for i in range(shape.multiples):
            ws.append(("select_multiple needs", f"g{g}_m{i}", f"Needs {g}.{i}", "yes"))
        for i in range(shape.texts):
            ws.append(("text", f"g{g}_t{i}", f"Comment {g}.{i}"))
        ws.append(("end_group", f"g{g}"))
    ch = wb.create_sheet("choices")
    ch.append(("list_name", "name", "label"))
    for r in range(1, REGIONS + 1):
        ch.append(("admin1", f"R{r}", f"Region {r}"))
    for k in range(3):
        for c in range(5):
            ch.append((f"l{k}", f"c{c}", f"Choice {c}"))
    for need in NEEDS:
        ch.append(("needs", need, need.title()))
    wb.save(path)


def write_config(root: Path, form: str = "data/form.xlsx") -> None:
    (root / "assessment.toml").write_text(
        f'[survey]\nxlsform = "{form}"\nround = "1"\n'
        '[paths]\ninbox = "data/raw"\nprocessed = "data/processed"\n'
        '[regions]\nlevels = ["admin1"]\n'
        '[needs]\nquestions = ["g0_s1", "g0_m0", "g0_n2"]\n',
        encoding="utf-8",
    )


def _columns(shape: Shape) -> list[str]:
    """(SQL expression AS "header") per export column; `i` is the household number, `h(k)` a hash."""

    def h(k: int) -> str:
        return f"hash(i, {k})"

    cols = [f"'R' || (1 + i % {REGIONS}) AS \"admin1\""]
    k = 0
    for g in range(shape.groups):
        n0 = f"({h(k)} % 8)"
        for n in range(shape.integers):
            k += 1
            value = f"CASE WHEN {h(k)} % 1000 = 0 THEN 99 ELSE {h(k)} % 5 END" if n != 1 else f"{n0} // 2"
            cols.append(f'CAST({n0 if n == 0 else value} AS VARCHAR) AS "g{g}/g{g}_n{n}"')
        for s in range(shape.selects):
            k += 1
            value = f"'c' || ({h(k)} % 5)"
            if s % 3 == 0:
                value = f"CASE WHEN {n0} > 2 THEN {value} END"
            cols.append(f'{value} AS "g{g}/g{g}_s{s}"')
        for m in range(shape.multiples):
            picks = []
            for o, need in enumerate(NEEDS):
                k += 1
                picks.append((need, f"({h(k)} % {3 + o} = 0)"))
            summary = (
                "concat_ws(' ', " + ", ".join(f"CASE WHEN {p} THEN '{need}' END" for need, p in picks) + ")"
            )
            cols.append(f"coalesce(NULLIF({summary}, ''), 'other') AS \"g{g}/g{g}_m{m}\"")
            for need, p in picks:
                other = " OR NULLIF(" + summary + ", '') IS NULL" if need == "other" else ""
                cols.append(f"CASE WHEN {p}{other} THEN '1' ELSE '0' END AS \"g{g}/g{g}_m{m}/{need}\"")
        for t in range(shape.texts):
            k += 1
            cols.append(f"CASE WHEN {h(k)} % 4 = 0 THEN 'note ' || i END AS \"g{g}/g{g}_t{t}\"")
    cols += [
        "'uuid-' || i AS \"_uuid\"",
        'i AS "_id"',
        "TIMESTAMP '2026-11-01' + to_seconds(i) AS \"_submission_time\"",
        'i AS "_index"',
    ]
    return cols


def write_exports(inbox: Path, shape: Shape, households: int, files: int) -> list[Path]:
    """`households` split over `files` Kobo CSV exports (semicolon-separated, as Kobo writes them)."""
    inbox.mkdir(parents=True, exist_ok=True)
    select = ", ".join(_columns(shape))
    per = -(-households // files)
    paths = []
    con = duckdb.connect()
    try:
        for f in range(files):
            start, stop = f * per, min(households, (f + 1) * per)
            path = inbox / f"kobo_export_{f + 1:03d}.csv"
            con.execute(
                f"COPY (SELECT {select} FROM range({start}, {stop}) t(i)) TO '{path}' "
                "(HEADER, DELIMITER ';', QUOTE '\"')"
            )
            paths.append(path)
    finally:
        con.close()
    return paths
