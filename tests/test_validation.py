"""Validation: each rule kind passes a clean file and quarantines exactly the bad row with the right reason."""

from __future__ import annotations

import pytest
from _forms import good_row, load_form, make_settings, stage

from assess.validate.build import build_rules
from assess.validate.gx import enable_gx_duckdb
from assess.validate.suite import validate


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("form")
    return tmp, load_form(tmp)


def run(
    env,
    tmp_path,
    changes: dict[int, dict[str, str]] | None = None,
    n: int = 4,
    route: str = "sql",
    extra_rows: list[dict[str, str]] | None = None,
    **settings,
):
    form_dir, form = env
    rows = [good_row(i) for i in range(1, n + 1)]
    for index, change in (changes or {}).items():
        rows[index - 1].update(change)
    rows += extra_rows or []
    staged = stage(tmp_path, form, rows)
    return validate(
        staged,
        form,
        make_settings(tmp_path, form_dir / "form.xlsx", **settings),
        workdir=tmp_path / "work",
        route=route,
    )


def only(result, kind: str):
    found = [p for p in result.problems if p.kind == kind]
    assert len(found) == 1, result.problems
    return found[0]


@pytest.mark.parametrize("route", ["sql", "pandas"])
def test_clean_file_passes(env, tmp_path, route):
    result = run(env, tmp_path, route=route)
    assert result.problems == []
    assert result.rules > 20
    assert result.not_checked == [
        "constraint of odd: jr:choice-name(., 'x') = 'y' (the function jr:choice-name() is not translated)"
    ]
    assert "expect_column_values_to_be_between" in open(result.docs_path).read()


def test_range_constraint(env, tmp_path):
    p = only(run(env, tmp_path, {2: {"household/hh_size": "99"}}), "constraint")
    assert (p.row, p.value, p.column, p.submission_id) == (3, "99", "household/hh_size", "uuid-0002")
    assert p.reason == "Household size 99: Household size must be between 1 and 30."
    assert p.expectation == "expect_column_values_to_be_between" and p.action == "quarantine"


def test_integer_must_parse_but_6_0_is_fine(env, tmp_path):
    result = run(env, tmp_path, {1: {"household/hh_size": "6.0"}, 3: {"household/hh_size": "five"}})
    p = only(result, "constraint")
    assert p.row == 4 and p.reason == "Household size five: not a whole number"
    assert result.quarantined_rows() == {4}


def test_constraint_referencing_other_question(env, tmp_path):
    p = only(run(env, tmp_path, {4: {"household/children_u5": "7"}}), "constraint")
    assert p.row == 5 and p.reason.startswith("Children under 5 7: breaks the form's rule")
    assert "hh_size 5" in p.reason


def test_regex_constraint_and_free_text_redaction(env, tmp_path):
    p = only(run(env, tmp_path, {1: {"location/cluster_id": "EA-1"}}), "constraint")
    assert p.row == 2 and p.value == "[redacted]"
    assert p.reason == "Cluster code [redacted]: Use the format EA-NN."


def test_or_count_selected_constraint(env, tmp_path):
    three = {"needs": "food water other", "needs/other": "1", "needs_other": "soap"}
    result = run(
        env,
        tmp_path,
        {2: three, 3: {"needs": "none", "needs/food": "0", "needs/water": "0", "needs/none": "1"}},
    )
    p = only(result, "constraint")
    assert p.row == 3 and p.column == "needs" and "breaks the form's rule" in p.reason


def test_required_missing(env, tmp_path):
    p = only(run(env, tmp_path, {3: {"household/displaced": ""}}), "required")
    assert (
        p.row == 4
        and p.reason == "Displaced: no answer, but the question is required here (${consent} = 'yes')"
    )


def test_required_not_relevant_is_exempt(env, tmp_path):
    no_consent = {
        "consent": "no",
        "household/hh_size": "",
        "household/children_u5": "",
        "household/displaced": "",
        "needs": "",
        "needs/food": "",
        "needs/water": "",
        "needs/other": "",
        "needs/none": "",
    }
    assert run(env, tmp_path, {1: no_consent}).problems == []


def test_required_when_relevant(env, tmp_path):
    result = run(
        env,
        tmp_path,
        {
            1: {"household/displaced": "yes"},  # months required, missing
            2: {"household/displaced": "yes", "household/months": "4"},
            3: {"needs": "food other", "needs/water": "0", "needs/other": "1"},
        },
    )
    rows = {(p.row, p.kind) for p in result.problems}
    assert rows == {(2, "required"), (4, "required")}
    assert next(p for p in result.problems if p.row == 4).column == "needs_other"


def test_select_one_unknown_code(env, tmp_path):
    p = only(run(env, tmp_path, {2: {"household/displaced": "maybe"}}), "choice")
    assert p.row == 3 and p.reason == "Displaced maybe: not a code of the choice list 'yes_no'"


def test_select_multiple_unknown_token_and_consistency_warning(env, tmp_path):
    result = run(env, tmp_path, {2: {"needs": "food soap"}})
    choice = only(result, "choice")
    assert choice.row == 3 and "'soap' is not in the choice list 'needs'" in choice.reason
    warn = only(result, "consistency")
    assert warn.action == "warn" and warn.row == 3
    assert warn.reason == (
        "Priority needs: the answer column says food soap but the option columns say food water; "
        "the option columns were used"
    )


def test_consistency_only_warns(env, tmp_path):
    result = run(env, tmp_path, {1: {"needs": "water food"}, 2: {"needs": "food"}})  # order does not matter
    assert [(p.row, p.kind, p.action) for p in result.problems] == [(3, "consistency", "warn")]
    assert result.quarantined_rows() == set()


def test_duplicate_submission_id_quarantines_later_copy(env, tmp_path):
    dup = good_row(2)
    result = run(env, tmp_path, extra_rows=[dup])
    p = only(result, "unique")
    assert p.row == 6 and p.submission_id == "uuid-0002" and "appears earlier" in p.reason


def test_missing_submission_id(env, tmp_path):
    p = only(run(env, tmp_path, {3: {"_uuid": ""}}), "unique")
    assert p.row == 4 and p.expectation == "expect_column_values_to_not_be_null"


def test_window(env, tmp_path):
    result = run(env, tmp_path, {4: {"_submission_time": "2026-10-28T10:00:00"}})
    p = only(result, "window")
    assert p.row == 5 and p.reason == (
        "submitted 2026-10-28T10:00:00, outside the collection window 2026-11-01 to 2026-11-30"
    )
    assert (
        run(env, tmp_path / "b", {4: {"_submission_time": "2026-10-28T10:00:00"}}, window=None).problems == []
    )


def test_window_falls_back_to_start(env, tmp_path):
    from _forms import HEADER

    form_dir, form = env
    header = [h for h in HEADER if h != "_submission_time"]
    rows = [good_row(1), {**good_row(2), "start": "2026-12-02T08:00:00.000+01:00"}]
    staged = stage(tmp_path, form, rows, header=header)
    result = validate(staged, form, make_settings(tmp_path, form_dir / "form.xlsx"), workdir=tmp_path / "w")
    assert [(p.row, p.kind) for p in result.problems] == [(3, "window")]


def test_region_code_and_choice_filter(env, tmp_path):
    result = run(
        env, tmp_path, {1: {"location/admin1": "R9", "location/admin2": ""}, 3: {"location/admin2": "D21"}}
    )
    assert {(p.row, p.kind) for p in result.problems} == {(2, "region"), (2, "required"), (4, "region")}
    r1 = next(p for p in result.problems if p.row == 2 and p.kind == "region")
    assert r1.reason == "Region R9: not a code of the choice list 'admin1' (not a known region)"
    r3 = next(p for p in result.problems if p.row == 4)
    assert r3.reason == "District D21 is not inside Region R1"
    assert r3.expectation == "expect_column_pair_values_to_be_in_set"


def test_custom_expectation_from_settings(env, tmp_path):
    spec = {
        "type": "expect_column_pair_values_a_to_be_greater_than_b",
        "column_A": "hh_size",
        "column_B": "children_u5",
        "or_equal": True,
        "reason": "children under 5 cannot exceed household size",
    }
    # 10 > 9 must pass: the comparison is numeric, not text
    result = run(
        env,
        tmp_path,
        {
            1: {"household/hh_size": "10", "household/children_u5": "9"},
            3: {"household/hh_size": "2", "household/children_u5": "3"},
        },
        expectations=[spec],
        policy={"constraint": "warn"},
    )
    p = only(result, "custom")
    assert p.row == 4 and p.expectation == "expect_column_pair_values_a_to_be_greater_than_b"
    assert p.reason == (
        "household/hh_size 2, household/children_u5 3: children under 5 cannot exceed household size"
    )
    assert result.quarantined_rows() == {4}


def test_unknown_custom_expectation_is_not_checked(env, tmp_path):
    result = run(env, tmp_path, expectations=[{"type": "expect_the_moon", "column": "hh_size"}])
    assert "custom rule expect_the_moon: not a Great Expectations expectation type" in result.not_checked


def test_policy_warn_versus_quarantine(env, tmp_path):
    bad = {2: {"household/hh_size": "99"}}
    assert run(env, tmp_path / "q", bad).quarantined_rows() == {3}
    warned = run(env, tmp_path / "w", bad, policy={"constraint": "warn"})
    assert [p.action for p in warned.problems] == ["warn"] and warned.quarantined_rows() == set()
    assert run(env, tmp_path / "all", bad, on_fail="warn").quarantined_rows() == set()


def test_all_failing_rows_are_listed_not_just_twenty(env, tmp_path):
    # 45 of 50 would be "probably a form problem" by default: the written policy keeps them quarantined
    result = run(
        env,
        tmp_path,
        {i: {"household/hh_size": "0"} for i in range(1, 46)},
        n=50,
        policy={"constraint": "quarantine"},
    )
    assert result.quarantined_rows() == set(range(2, 47))
    assert result.suspect_rules == []


def test_pandas_route_matches_sql_route(env, tmp_path):
    changes = {
        1: {"household/hh_size": "99"},
        2: {"location/admin2": "D21"},
        3: {"needs": "food soap"},
        4: {"_submission_time": "2026-12-24"},
        5: {"household/displaced": "yes"},
    }
    found = {}
    for route in ("sql", "pandas"):
        result = run(env, tmp_path / route, changes, n=6, route=route)
        found[route] = sorted((p.row, p.kind, p.reason, p.action) for p in result.problems)
    assert found["sql"] == found["pandas"] and len(found["sql"]) == 6


@pytest.mark.parametrize("route", ["sql", "pandas"])
def test_validation_makes_no_gx_docs_site(env, tmp_path, route, caplog):
    """GX's default ephemeral context made a temporary docs folder per file and logged it at INFO."""
    import logging

    with caplog.at_level(logging.INFO):
        result = run(env, tmp_path, {2: {"household/hh_size": "99"}}, route=route)
    assert only(result, "constraint").row == 3  # results as before (data row index 2 is spreadsheet row 3)
    assert not [r for r in caplog.records if "docs site" in r.getMessage()]


def test_rules_carry_meta_for_every_expectation(env, tmp_path):
    form_dir, form = env
    staged = stage(tmp_path, form, [good_row(1)])
    rules, _ = build_rules(staged, form, make_settings(tmp_path, form_dir / "form.xlsx"))
    kinds = {r.kind for r in rules}
    assert {"required", "choice", "constraint", "unique", "window", "region", "consistency"} <= kinds


def test_gx_duckdb_persisted_connection_fix_still_works(tmp_path):
    """Fails when a GX upgrade removes or changes the private name the DuckDB route depends on."""
    import duckdb
    import great_expectations as gx
    import great_expectations.execution_engine.sqlalchemy_execution_engine as sae

    assert isinstance(sae._PERSISTED_CONNECTION_DIALECTS, tuple)
    assert enable_gx_duckdb()
    assert any(d == "duckdb" for d in sae._PERSISTED_CONNECTION_DIALECTS)
    assert sae._dialect_requires_persisted_connection(connection_string="duckdb:///x.duckdb")
    db = tmp_path / "probe.duckdb"
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE t AS SELECT i AS _row, CASE WHEN i % 10 = 0 THEN NULL ELSE 'x' END AS a "
        "FROM range(1, 101) r(i)"
    )
    con.close()
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_sql("probe", connection_string=f"duckdb:///{db}")
        .add_table_asset("t", table_name="t")
        .add_batch_definition_whole_table("all")
    )
    result = batch.get_batch().validate(gx.expectations.ExpectColumnValuesToNotBeNull(column="a"))
    assert result.result["element_count"] == 100 and result.result["unexpected_count"] == 10


def test_gx_receives_sql_with_colons_unchanged():
    """SQLAlchemy's text() (GX wraps UnexpectedRows queries in it) must give back our SQL byte for byte.

    An unescaped `(?:food|water)` became the bind parameter `:food`; the metric failed and GX re-ran every
    ready metric up to three times per failure (~25x the statements).
    """
    import sqlalchemy as sa

    from assess.validate.gx import gx_query_text

    dialect = sa.create_engine("duckdb:///:memory:").dialect
    for sql in [
        "regexp_full_match(m, '\\s*(?:food|water)(?:\\s+(?:food|water))*\\s*')",
        "t = '12:30:00' AND x::INTEGER > 1 AND y = ':abc:' AND z = 'a\\:b' AND w = ':a' AND v = '{x}'",
        "regexp_full_match(c, '^EA-[0-9]{2}$')",
    ]:
        compiled = sa.text(gx_query_text(sql).format(batch="data")).compile(dialect=dialect)
        assert str(compiled) == sql and not compiled.params, sql


def test_count_selected_rewrite_is_exact():
    import duckdb

    from assess.core.xpath import to_sql
    from assess.validate.sqlrewrite import cheap_token_counts

    sql = to_sql("count-selected(.)", lambda n: ('"m"', "select_multiple"), current="m")
    cheap = cheap_token_counts(sql)
    assert "regexp_split_to_array" in sql and cheap != sql
    values = [
        None,
        "",
        " ",
        "  ",
        "a",
        "a b",
        " a  b ",
        "\ta b",
        "a\tb ",
        "a\nb c",
        "a\x0bb",
        "a\x0cb c",
        "a\rb",
        "é ü  x",
        "a \t b",
        "it's (x)",
        "a b c d e",
    ]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (m VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in values])
    assert con.execute(f"SELECT list(({sql}) IS NOT DISTINCT FROM ({cheap})) FROM t").fetchone()[0] == [
        True
    ] * len(values)
    # untouched when the shape is not xpath's token count
    assert (
        cheap_token_counts("len(regexp_split_to_array(trim(x), ','))")
        == "len(regexp_split_to_array(trim(x), ','))"
    )


def test_gx_metric_errors_are_reported_not_hidden():
    from assess.validate.gx import exception_message

    class Info:
        exception_message = "Binder Error: no such column"

    assert exception_message({"MetricConfigurationID(...)": Info()}) == "Binder Error: no such column"
    assert exception_message({"raised_exception": True, "exception_message": "boom"}) == "boom"
    assert exception_message({"raised_exception": False, "exception_message": None}) is None


def test_statements_per_rule_stay_bounded(env, tmp_path):
    """GX runs two statements per UnexpectedRows rule (count, rows) and bundles the built-ins; a metric that
    fails makes GX retry whole batches, which shows here first."""
    import duckdb_engine

    counted = []
    execute = duckdb_engine.CursorWrapper.execute

    def counting(self, statement, parameters=None, context=None):
        # GX's catalog introspection (how often depends on what ran before in the process) is not per rule
        if not any(k in str(statement) for k in ("pg_catalog", "information_schema", "duckdb_", "PRAGMA")):
            counted.append(statement)
        return execute(self, statement, parameters, context)

    duckdb_engine.CursorWrapper.execute = counting
    try:
        timings: dict[str, float] = {}
        form_dir, form = env
        staged = stage(
            tmp_path, form, [good_row(i) for i in range(1, 5)] + [{**good_row(5), "needs": "food soap"}]
        )
        result = validate(
            staged,
            form,
            make_settings(tmp_path, form_dir / "form.xlsx"),
            workdir=tmp_path / "w",
            route="sql",
            timings=timings,
        )
    finally:
        duckdb_engine.CursorWrapper.execute = execute
    rules, _ = build_rules(staged, form, make_settings(tmp_path, form_dir / "form.xlsx"))
    sql_rules = sum(r.flag is not None for r in rules)
    assert {p.kind for p in result.problems} == {"choice", "consistency"}
    assert len(counted) <= 2 * sql_rules + 2 * (len(rules) - sql_rules) + 10, len(counted)
    assert timings["statements"] <= 4 and {"prepare", "gx", "rows"} <= set(timings)


def test_cheaper_choice_and_window_sql_is_exact():
    """The fast paths for select_multiple tokens and the window day give the same answer as the plain SQL."""
    import re

    import duckdb

    from assess.validate.sqlrewrite import all_tokens_in, first10_trimmed

    choices = ("food", "water", "other", "a.b")
    alt = "(?:" + "|".join(re.escape(c) for c in choices) + ")"
    plain_tokens = rf"regexp_full_match(v, '\s*{alt}(?:\s+{alt})*\s*')"
    values = [
        None,
        "",
        " ",
        "food",
        "food water",
        " food",
        "food ",
        "food  water",
        "food\twater",
        "\tfood",
        "foodwater",
        "food soap",
        "a.b",
        "axb",
        "food\x0bwater",
        "food\nwater",
        "other other",
        "FOOD",
        "2026-11-10T09:00:00",
        " 2026-11-10",
        "2026-11-10 ",
        "2026-11-1 x",
        "2026-11-1",
        "\t2026-11-10",
        "2026-11-10\t",
        "2026-02-30",
        "é2026-11-10",
    ]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in values])
    differ = con.execute(
        f"SELECT v FROM t WHERE ({all_tokens_in('v', choices)}) IS DISTINCT FROM ({plain_tokens}) "
        f"OR ({first10_trimmed('v')}) IS DISTINCT FROM left(trim(v), 10)"
    ).fetchall()
    assert differ == []
    assert "list_has_all" not in all_tokens_in("v", ("a b", "c"))  # a choice with a space: regex only


def test_cheaper_consistency_sql_is_exact():
    import duckdb

    from assess.validate.sqlrewrite import distinct_tokens, options_as_text, summary_disagrees

    options = {"food": "o_food", "water": "o_water", "other": "o_other"}
    plain = (
        f"list_sort(list_filter({distinct_tokens('m')}, lambda t: t <> '')) <> "
        f"list_sort(list_filter({distinct_tokens(options_as_text(options))}, lambda t: t <> ''))"
    )
    con = duckdb.connect()
    con.execute("CREATE TABLE t (m VARCHAR, o_food VARCHAR, o_water VARCHAR, o_other VARCHAR)")
    summaries = [
        None,
        "",
        " ",
        "food",
        "food water",
        "water food",
        "food food",
        " food",
        "food  water",
        "food\twater",
        "food soap",
        "foodwater",
        "food\x0bwater",
        "other",
        "water food ",
    ]
    columns = [
        ("1", "1", "0"),
        ("1", "0", "0"),
        (None, None, None),
        ("True", "yes", "FALSE"),
        ("0", "0", "0"),
        ("1", "", "0"),
    ]
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", [[m, *c] for m in summaries for c in columns])
    assert con.execute(
        f"SELECT count(*) FILTER (WHERE ({plain}) IS DISTINCT FROM ({summary_disagrees('m', options)})),"
        f" count(*) FILTER (WHERE {plain}) FROM t"
    ).fetchone() == (0, 68)
