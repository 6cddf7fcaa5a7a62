"""Benchmark: validate a 1,000,000-row x 60-column staged export with the generated GX suite.

    .venv/bin/python benchmarks/bench_validation.py [--rows 1000000] [--route sql|pandas]

Generates (in a temp dir) an XLSForm with 56 questions (numbers with range and cross-question constraints,
select_one/select_multiple, relevance, a regex, regions with a choice filter) and a staged Parquet file
with ~0.1% faulty cells, then prints the results table, the seconds per phase of `validate` and the number
of SQL statements run (GX's, counted at duckdb-engine's cursor, and ours). The GX import (~5 s) is timed
separately: it is paid once per process, not per file.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assess.core.settings import ExpectSpec, Settings  # noqa: E402
from assess.core.xlsform import read_xlsform  # noqa: E402
from assess.read.export import Column, Staged  # noqa: E402

N_INT, N_SEL, N_MULTI, N_TEXT = 20, 18, 6, 10


def write_form(path: Path) -> list[tuple[str, str]]:
    """XLSForm; returns (question, type) in column order."""
    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(
        ("type", "name", "label", "required", "relevant", "constraint", "constraint_message", "choice_filter")
    )
    cols: list[tuple[str, str]] = []
    ws.append(("select_one admin1", "admin1", "Region", "yes"))
    ws.append(("select_one admin2", "admin2", "District", "yes", "", "", "", "admin1=${admin1}"))
    ws.append(("select_one yes_no", "consent", "Consent", "yes"))
    ws.append(("text", "cluster_id", "Cluster", "yes", "", "regex(., '^EA-[0-9]{2}-[0-9]{3}$')"))
    cols += [
        ("admin1", "select_one"),
        ("admin2", "select_one"),
        ("consent", "select_one"),
        ("cluster_id", "text"),
    ]
    ws.append(("begin_group", "hh", "Household", "", "${consent} = 'yes'"))
    for i in range(N_INT):
        constraint = ". >= 0 and . <= ${n0}" if i == 1 else ". >= 0 and . <= 30"
        ws.append(("integer", f"n{i}", f"Number {i}", "yes", "", constraint, f"Number {i} must be 0-30"))
        cols.append((f"n{i}", "integer"))
    for i in range(N_SEL):
        relevant = "${n0} > 2" if i % 3 == 0 else ""
        ws.append((f"select_one l{i % 3}", f"s{i}", f"Select {i}", "yes", relevant))
        cols.append((f"s{i}", "select_one"))
    for i in range(N_MULTI):
        ws.append(("select_multiple needs", f"m{i}", f"Multi {i}", "yes", "", "count-selected(.) <= 3"))
        cols.append((f"m{i}", "select_multiple"))
    ws.append(("end_group", "hh"))
    for i in range(N_TEXT):
        ws.append(("text", f"t{i}", f"Text {i}"))
        cols.append((f"t{i}", "text"))
    ch = wb.create_sheet("choices")
    ch.append(("list_name", "name", "label", "admin1"))
    ch.append(("yes_no", "yes", "Yes"))
    ch.append(("yes_no", "no", "No"))
    for r in range(1, 7):
        ch.append(("admin1", f"R{r}", f"Region {r}"))
        for d in range(1, 4):
            ch.append(("admin2", f"D{r}{d}", f"District {r}{d}", f"R{r}"))
    for k in range(3):
        for c in range(6):
            ch.append((f"l{k}", f"c{c}", f"Choice {c}"))
    for c in ("food", "water", "shelter", "health", "education", "cash", "other"):
        ch.append(("needs", c, c))
    wb.save(path)
    return cols


def write_staged(path: Path, cols: list[tuple[str, str]], rows: int) -> None:
    """Text columns as the readers stage them, plus _submission_time, _uuid, _row and _sid; ~0.1% faults."""
    needs = "['food','water','shelter','health','education','cash']"
    exprs = []
    for name, qtype in cols:
        h = f"hash(i, '{name}')"
        bad = f"{h} % 1000 = 7"
        if name == "admin1":
            e = "'R' || (1 + i % 6)::VARCHAR"
        elif name == "admin2":
            e = f"'D' || (1 + i % 6)::VARCHAR || CASE WHEN {bad} THEN '9' ELSE (1 + i % 3)::VARCHAR END"
        elif name == "consent":
            e = "CASE WHEN i % 10 = 0 THEN 'no' ELSE 'yes' END"
        elif name == "cluster_id":
            e = f"CASE WHEN {bad} THEN 'EA-1' ELSE 'EA-' || lpad((i % 99)::VARCHAR, 2, '0') || '-017' END"
        elif qtype == "integer":
            e = f"CASE WHEN i % 10 = 0 THEN NULL WHEN {bad} THEN '99' ELSE (3 + {h} % 20)::VARCHAR END"
            if name == "n1":
                e = f"CASE WHEN i % 10 = 0 THEN NULL ELSE ({h} % 3)::VARCHAR END"
        elif qtype == "select_one":
            e = f"CASE WHEN i % 10 = 0 THEN NULL WHEN {bad} THEN 'zz' ELSE 'c' || ({h} % 6)::VARCHAR END"
        elif qtype == "select_multiple":
            e = (
                f"CASE WHEN i % 10 = 0 THEN NULL ELSE array_to_string(list_slice({needs}, 1 + {h} % 4, "
                f"2 + {h} % 4 + CASE WHEN {bad} THEN 3 ELSE 0 END), ' ') END"
            )
        else:
            e = f"CASE WHEN {h} % 3 = 0 THEN NULL ELSE 'free text answer ' || ({h} % 100000)::VARCHAR END"
        exprs.append(f'{e} AS "{name}"')
    sub = (
        "strftime(TIMESTAMP '2026-11-01 06:00:00' + to_seconds((i * 2) % 2500000), '%Y-%m-%dT%H:%M:%S') "
        "AS _submission_time"
    )
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT i AS _row, {', '.join(exprs)}, {sub}, 'uuid-' || CASE WHEN i % 100000 = 5 THEN i - 1 ELSE i END "
        f"AS _uuid, 'uuid-' || CASE WHEN i % 100000 = 5 THEN i - 1 ELSE i END AS _sid FROM range(1, {rows + 1}) r(i)) "
        f"TO '{path}' (FORMAT parquet)"
    )


def count_gx_statements() -> dict[str, int]:
    """Count the statements GX sends to DuckDB (through duckdb-engine's cursor)."""
    import duckdb_engine

    counter = {"n": 0}
    execute = duckdb_engine.CursorWrapper.execute

    def counted(self, statement, parameters=None, context=None):
        counter["n"] += 1
        return execute(self, statement, parameters, context)

    duckdb_engine.CursorWrapper.execute = counted
    return counter


def duckdb_floor(parquet: Path) -> float:
    """DuckDB itself on the same file: read every column once and group a question by region (median of 3)."""
    import duckdb

    runs = []
    for _ in range(3):
        con = duckdb.connect()
        t0 = time.perf_counter()
        con.execute("CREATE TABLE t AS SELECT * FROM read_parquet($p)", {"p": str(parquet)})
        con.execute("SELECT admin1, n0, count(*) FROM t GROUP BY ALL").fetchall()
        runs.append(time.perf_counter() - t0)
        con.close()
    return sorted(runs)[1]


def main() -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("assess").setLevel(logging.INFO)
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--route", default="sql", choices=["sql", "pandas"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        cols = write_form(tmp / "form.xlsx")
        form = read_xlsform(tmp / "form.xlsx")
        t0 = time.perf_counter()
        write_staged(tmp / "rows.parquet", cols, args.rows)
        gen_s = time.perf_counter() - t0
        columns = [Column(header=n, name=n, question=n) for n, _ in cols]
        columns += [
            Column(header="_submission_time", name="_submission_time"),
            Column(header="_uuid", name="_uuid"),
        ]
        staged = Staged(
            path=tmp / "rows.parquet", format="kobo_csv", rows=args.rows, columns=columns, id_column="_uuid"
        )
        settings = Settings(
            config_path=tmp / "a.toml",
            root=tmp,
            xlsform=tmp / "form.xlsx",
            region_levels=("admin1", "admin2"),
            window=("2026-11-01", "2026-11-30"),
            expectations=(
                ExpectSpec(
                    "expect_column_pair_values_a_to_be_greater_than_b",
                    {"column_A": "n0", "column_B": "n1", "or_equal": True},
                ),
            ),
        )
        t0 = time.perf_counter()
        import great_expectations  # noqa: F401

        from assess.validate.suite import validate

        import_s = time.perf_counter() - t0
        gx_sql = count_gx_statements()
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        result = validate(staged, form, settings, workdir=tmp / "work", route=args.route, timings=timings)
        seconds = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        bad_rows = len(result.quarantined_rows())
        floor_s = duckdb_floor(tmp / "rows.parquet")
        print(
            "| rows | columns | expectations | route | validate s | DuckDB floor s | ratio | peak MB | problems | "
            "rows kept aside | GX import s | data gen s |"
        )
        print("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        print(
            f"| {args.rows:,} | {len(columns)} | {result.rules} | {args.route} | {seconds:.1f} | {floor_s:.2f} | "
            f"{seconds / floor_s:.0f}x | {peak_mb:.0f} | {len(result.problems):,} | {bad_rows:,} | {import_s:.1f} | "
            f"{gen_s:.1f} |"
        )
        phases = ("rules", "prepare", "gx_setup", "gx", "rows_sql", "rows", "docs")
        print()
        # gx includes gx_setup (context, data source); rows includes rows_sql (the one statement listing rows)
        print("| " + " | ".join(f"{p} s" for p in phases) + " | SQL statements (GX / ours) |")
        print("|" + "---:|" * (len(phases) + 1))
        print(
            "| "
            + " | ".join(f"{timings.get(p, 0):.2f}" for p in phases)
            + f" | {gx_sql['n'] + int(timings['statements'])} ({gx_sql['n']} / {int(timings['statements'])}) |"
        )
        from collections import Counter

        print(
            Counter(
                (p.kind, p.question if hasattr(p, "question") else p.column) for p in result.problems
            ).most_common(8)
        )
        if result.not_checked:
            print("not checked:", result.not_checked)


if __name__ == "__main__":
    main()
