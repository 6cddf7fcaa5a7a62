"""Validation: each rule kind passes a clean file and quarantines exactly the bad row with the right reason."""

from __future__ import annotations

import pytest
from _forms import good_row, load_form, make_settings, stage

from assess.validation import build_rules, enable_gx_duckdb, validate


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("form")
    return tmp, load_form(tmp)


def run(env, tmp_path, changes: dict[int, dict[str, str]] | None = None, n: int = 4, route: str = "sql",
        extra_rows: list[dict[str, str]] | None = None, **settings):
    form_dir, form = env
    rows = [good_row(i) for i in range(1, n + 1)]
    for index, change in (changes or {}).items():
        rows[index - 1].update(change)
    rows += extra_rows or []
    staged = stage(tmp_path, form, rows)
    return validate(staged, form, make_settings(tmp_path, form_dir / "form.xlsx", **settings),
                    workdir=tmp_path / "work", route=route)


def only(result, kind: str):
    found = [p for p in result.problems if p.kind == kind]
    assert len(found) == 1, result.problems
    return found[0]


@pytest.mark.parametrize("route", ["sql", "pandas"])
def test_clean_file_passes(env, tmp_path, route):
    result = run(env, tmp_path, route=route)
    assert result.problems == []
    assert result.rules > 20
    assert result.not_checked == ["constraint of odd: jr:choice-name(., 'x') = 'y' "
                                  "(the function jr:choice-name() is not translated)"]
    assert "expect_column_values_to_be_between" in open(result.docs_path).read()


def test_range_constraint(env, tmp_path):
    p = only(run(env, tmp_path, {2: {"household/hh_size": "99"}}), "constraint")
    assert (p.row, p.value, p.column, p.submission_id) == (2, "99", "household/hh_size", "uuid-0002")
    assert p.reason == "Household size 99: Household size must be between 1 and 30."
    assert p.expectation == "expect_column_values_to_be_between" and p.action == "quarantine"


def test_integer_must_parse_but_6_0_is_fine(env, tmp_path):
    result = run(env, tmp_path, {1: {"household/hh_size": "6.0"}, 3: {"household/hh_size": "five"}})
    p = only(result, "constraint")
    assert p.row == 3 and p.reason == "Household size five: not a whole number"
    assert result.quarantined_rows() == {3}


def test_constraint_referencing_other_question(env, tmp_path):
    p = only(run(env, tmp_path, {4: {"household/children_u5": "7"}}), "constraint")
    assert p.row == 4 and p.reason.startswith("Children under 5 7: breaks the form's rule")
    assert "hh_size 5" in p.reason


def test_regex_constraint_and_free_text_redaction(env, tmp_path):
    p = only(run(env, tmp_path, {1: {"location/cluster_id": "EA-1"}}), "constraint")
    assert p.row == 1 and p.value == "[redacted]"
    assert p.reason == "Cluster code [redacted]: Use the format EA-NN."


def test_or_count_selected_constraint(env, tmp_path):
    three = {"needs": "food water other", "needs/other": "1", "needs_other": "soap"}
    result = run(env, tmp_path, {2: three, 3: {"needs": "none", "needs/food": "0", "needs/water": "0",
                                              "needs/none": "1"}})
    p = only(result, "constraint")
    assert p.row == 2 and p.column == "needs" and "breaks the form's rule" in p.reason


def test_required_missing(env, tmp_path):
    p = only(run(env, tmp_path, {3: {"household/displaced": ""}}), "required")
    assert p.row == 3 and p.reason == "Displaced: no answer, but the question is required here (${consent} = 'yes')"


def test_required_not_relevant_is_exempt(env, tmp_path):
    no_consent = {"consent": "no", "household/hh_size": "", "household/children_u5": "", "household/displaced": "",
                  "needs": "", "needs/food": "", "needs/water": "", "needs/other": "", "needs/none": ""}
    assert run(env, tmp_path, {1: no_consent}).problems == []


def test_required_when_relevant(env, tmp_path):
    result = run(env, tmp_path, {1: {"household/displaced": "yes"},  # months required, missing
                                 2: {"household/displaced": "yes", "household/months": "4"},
                                 3: {"needs": "food other", "needs/water": "0", "needs/other": "1"}})
    rows = {(p.row, p.kind) for p in result.problems}
    assert rows == {(1, "required"), (3, "required")}
    assert next(p for p in result.problems if p.row == 3).column == "needs_other"


def test_select_one_unknown_code(env, tmp_path):
    p = only(run(env, tmp_path, {2: {"household/displaced": "maybe"}}), "choice")
    assert p.row == 2 and p.reason == "Displaced maybe: not a code of the choice list 'yes_no'"


def test_select_multiple_unknown_token_and_consistency_warning(env, tmp_path):
    result = run(env, tmp_path, {2: {"needs": "food soap"}})
    choice = only(result, "choice")
    assert choice.row == 2 and "'soap' is not in the choice list 'needs'" in choice.reason
    warn = only(result, "consistency")
    assert warn.action == "warn" and warn.row == 2
    assert warn.reason == ("Priority needs: the answer column says food soap but the option columns say food water; "
                           "the option columns were used")


def test_consistency_only_warns(env, tmp_path):
    result = run(env, tmp_path, {1: {"needs": "water food"}, 2: {"needs": "food"}})  # order does not matter
    assert [(p.row, p.kind, p.action) for p in result.problems] == [(2, "consistency", "warn")]
    assert result.quarantined_rows() == set()


def test_duplicate_submission_id_quarantines_later_copy(env, tmp_path):
    dup = good_row(2)
    result = run(env, tmp_path, extra_rows=[dup])
    p = only(result, "unique")
    assert p.row == 5 and p.submission_id == "uuid-0002" and "appears earlier" in p.reason


def test_missing_submission_id(env, tmp_path):
    p = only(run(env, tmp_path, {3: {"_uuid": ""}}), "unique")
    assert p.row == 3 and p.expectation == "expect_column_values_to_not_be_null"


def test_window(env, tmp_path):
    result = run(env, tmp_path, {4: {"_submission_time": "2026-10-28T10:00:00"}})
    p = only(result, "window")
    assert p.row == 4 and p.reason == ("submitted 2026-10-28T10:00:00, outside the collection window "
                                       "2026-11-01 to 2026-11-30")
    assert run(env, tmp_path / "b", {4: {"_submission_time": "2026-10-28T10:00:00"}}, window=None).problems == []


def test_window_falls_back_to_start(env, tmp_path):
    from _forms import HEADER
    form_dir, form = env
    header = [h for h in HEADER if h != "_submission_time"]
    rows = [good_row(1), {**good_row(2), "start": "2026-12-02T08:00:00.000+01:00"}]
    staged = stage(tmp_path, form, rows, header=header)
    result = validate(staged, form, make_settings(tmp_path, form_dir / "form.xlsx"), workdir=tmp_path / "w")
    assert [(p.row, p.kind) for p in result.problems] == [(2, "window")]


def test_region_code_and_choice_filter(env, tmp_path):
    result = run(env, tmp_path, {1: {"location/admin1": "R9", "location/admin2": ""},
                                 3: {"location/admin2": "D21"}})
    assert {(p.row, p.kind) for p in result.problems} == {(1, "region"), (1, "required"), (3, "region")}
    r1 = next(p for p in result.problems if p.row == 1 and p.kind == "region")
    assert r1.reason == "Region R9: not a code of the choice list 'admin1' (not a known region)"
    r3 = next(p for p in result.problems if p.row == 3)
    assert r3.reason == "District D21 is not inside Region R1"
    assert r3.expectation == "expect_column_pair_values_to_be_in_set"


def test_custom_expectation_from_settings(env, tmp_path):
    spec = {"type": "expect_column_pair_values_a_to_be_greater_than_b", "column_A": "hh_size",
            "column_B": "children_u5", "or_equal": True, "reason": "children under 5 cannot exceed household size"}
    # 10 > 9 must pass: the comparison is numeric, not text
    result = run(env, tmp_path, {1: {"household/hh_size": "10", "household/children_u5": "9"},
                                 3: {"household/hh_size": "2", "household/children_u5": "3"}},
                 expectations=[spec], policy={"constraint": "warn"})
    p = only(result, "custom")
    assert p.row == 3 and p.expectation == "expect_column_pair_values_a_to_be_greater_than_b"
    assert p.reason == ("household/hh_size 2, household/children_u5 3: children under 5 cannot exceed "
                        "household size")
    assert result.quarantined_rows() == {3}


def test_unknown_custom_expectation_is_not_checked(env, tmp_path):
    result = run(env, tmp_path, expectations=[{"type": "expect_the_moon", "column": "hh_size"}])
    assert "custom rule expect_the_moon: not a Great Expectations expectation type" in result.not_checked


def test_policy_warn_versus_quarantine(env, tmp_path):
    bad = {2: {"household/hh_size": "99"}}
    assert run(env, tmp_path / "q", bad).quarantined_rows() == {2}
    warned = run(env, tmp_path / "w", bad, policy={"constraint": "warn"})
    assert [p.action for p in warned.problems] == ["warn"] and warned.quarantined_rows() == set()
    assert run(env, tmp_path / "all", bad, on_fail="warn").quarantined_rows() == set()


def test_all_failing_rows_are_listed_not_just_twenty(env, tmp_path):
    result = run(env, tmp_path, {i: {"household/hh_size": "0"} for i in range(1, 46)}, n=50)
    assert result.quarantined_rows() == set(range(1, 46))


def test_pandas_route_matches_sql_route(env, tmp_path):
    changes = {1: {"household/hh_size": "99"}, 2: {"location/admin2": "D21"}, 3: {"needs": "food soap"},
               4: {"_submission_time": "2026-12-24"}, 5: {"household/displaced": "yes"}}
    found = {}
    for route in ("sql", "pandas"):
        result = run(env, tmp_path / route, changes, n=6, route=route)
        found[route] = sorted((p.row, p.kind, p.reason, p.action) for p in result.problems)
    assert found["sql"] == found["pandas"] and len(found["sql"]) == 6


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
    con.execute("CREATE TABLE t AS SELECT i AS _row, CASE WHEN i % 10 = 0 THEN NULL ELSE 'x' END AS a "
                "FROM range(1, 101) r(i)")
    con.close()
    context = gx.get_context(mode="ephemeral")
    batch = (context.data_sources.add_sql("probe", connection_string=f"duckdb:///{db}")
             .add_table_asset("t", table_name="t").add_batch_definition_whole_table("all"))
    result = batch.get_batch().validate(gx.expectations.ExpectColumnValuesToNotBeNull(column="a"))
    assert result.result["element_count"] == 100 and result.result["unexpected_count"] == 10
