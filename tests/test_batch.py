"""Validating a run's files together (one GX run over all their rows) gives each file what it gets alone."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from assess.core.problems import Kind
from assess.core.settings import load_settings
from assess.core.xlsform import read_form
from assess.demo import KOBO_CSV_PATH
from assess.validate import batch, stage
from assess.validate.rules import Rule
from assess.validate.stage import stage_file, stage_files


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows([header, *rows])
    return path


def _three_files(demo_dir: Path) -> list[Path]:
    """The demo's Kobo CSV cut in three: B's household sizes all out of range (a form problem in B only),
    C with one row twice and one household of A (a duplicate within C; across files it is a later copy)."""
    with open(demo_dir / KOBO_CSV_PATH, encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh, delimiter=";"))
    for p in (demo_dir / "data/raw").iterdir():
        p.unlink()
    size = header.index("household/hh_size")
    b_rows = [[*r[:size], "45", *r[size + 1 :]] for r in rows[300:600]]
    c_rows = [*rows[600:700], rows[600], rows[0]]
    inbox = demo_dir / "data/raw"
    return [
        _write(inbox / "a.csv", header, rows[:300]),
        _write(inbox / "b.csv", header, b_rows),
        _write(inbox / "c.csv", header, c_rows),
    ]


def test_files_validated_together_get_what_they_get_alone(demo_dir, monkeypatch):
    settings = load_settings(demo_dir / "assessment.toml")
    form = read_form(settings)
    paths = _three_files(demo_dir)
    alone = [stage_file(p, settings, form) for p in paths]

    batches: list[int] = []
    real = batch.validate_batch

    def spy(files, *args, **kwargs):
        results = real(files, *args, **kwargs)
        batches.append(len(files) if results is not None else 0)
        return results

    monkeypatch.setattr(stage, "validate_batch", spy)
    together = stage_files(paths, settings, form)
    assert batches == [3]  # one GX run for the three files

    for a, b in zip(alone, together, strict=True):
        assert a.result and b.result
        assert [p.as_dict() for p in b.result.problems] == [p.as_dict() for p in a.result.problems]
        assert b.result.suspect_rules == a.result.suspect_rules
        assert b.result.not_checked == a.result.not_checked
        assert b.result.rules == a.result.rules
        assert b.members == a.members and b.status == a.status
        assert Path(b.result.docs_path or "").is_file()

    # the per-file rules: the share of failing rows is B's own, the unique id is unique within each file
    a_res, b_res, c_res = (o.result for o in together)
    assert any("1 and 30" in s or "hh_size" in s or "size" in s.lower() for s in b_res.suspect_rules)
    assert not a_res.suspect_rules and not c_res.suspect_rules
    dup = [p for p in c_res.problems if p.kind == Kind.UNIQUE]
    assert [p.row for p in dup] == [102]  # the second copy of C's first row (header is row 1); not A's row
    assert not [p for p in a_res.problems if p.kind == Kind.UNIQUE]


@pytest.mark.parametrize(
    ("flag", "gx_type", "ok"),
    [
        ("x > 3", "unexpected_rows_expectation", True),
        (
            "row_number() OVER (PARTITION BY _file, _sid ORDER BY _row) > 1",
            "unexpected_rows_expectation",
            True,
        ),
        ("row_number() OVER (PARTITION BY _sid ORDER BY _row) > 1", "unexpected_rows_expectation", False),
        ("x > (SELECT avg(x) FROM data)", "unexpected_rows_expectation", False),
        (None, "expect_column_values_to_be_in_set", True),
        (None, "expect_column_values_to_be_unique", False),
        (None, "expect_table_row_count_to_be_between", False),
    ],
)
def test_only_row_by_row_rules_run_over_a_batch(flag, gx_type, ok):
    rule = Rule(kind="custom", gx_type=gx_type, kwargs={}, describe="", template="", flag=flag)
    assert batch.row_by_row(rule) is ok


def test_statement_parameters_are_matched_by_whole_name():
    from assess.store.load import _Params

    params = _Params(round="1")
    names = [params.add(i) for i in range(25)]
    text = f"SELECT {names[20]}, $round"  # `$p20` holds `$p2`'s text: p2 is not used
    assert set(params.used(text)) == {"round", names[20].lstrip("$")}


def test_rules_run_in_column_chunks_give_what_the_whole_table_gives(demo_dir, monkeypatch, tmp_path):
    from assess.read.export import stage_export
    from assess.validate import chunks
    from assess.validate.suite import validate

    settings = load_settings(demo_dir / "assessment.toml")
    form = read_form(settings)
    with open(demo_dir / KOBO_CSV_PATH, encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh, delimiter=";"))
    rows = rows[:200]
    for r in (3, 7):
        rows[r][header.index("household/hh_size")] = "45"
    rows[10][header.index("location/admin1")] = "R99"
    rows[12][header.index("household/hh_size")] = ""
    path = _write(tmp_path / "broken.csv", header, [*rows, rows[0]])
    staged = stage_export(path, form, tmp_path / "rows.parquet", id_column=settings.id_column)
    monkeypatch.setattr(chunks, "WIDE", 10**9)
    whole = validate(staged, form, settings, workdir=tmp_path / "whole")
    planned: list[int] = []
    real = chunks.plan_chunks

    def spy(rules, columns):
        out = real(rules, columns)
        planned.append(len(out))
        return out

    monkeypatch.setattr(chunks, "WIDE", 0)
    monkeypatch.setattr(chunks, "CHUNK_COLUMNS", 6)
    monkeypatch.setattr("assess.validate.gx.plan_chunks", spy)
    chunked = validate(staged, form, settings, workdir=tmp_path / "chunked")
    assert planned and planned[0] > 5  # the rules really ran in several suites
    assert len({p.kind for p in whole.problems}) >= 3  # range, choice, required, unique id
    assert [p.as_dict() for p in chunked.problems] == [p.as_dict() for p in whole.problems]
    assert (chunked.not_checked, chunked.suspect_rules, chunked.rules) == (
        whole.not_checked,
        whole.suspect_rules,
        whole.rules,
    )
