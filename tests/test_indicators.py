"""Composite indicators (FCS, severity), trends between rounds and needs ranking."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from assess.core.settings import ConfigError, Settings, indicator_specs
from assess.core.sqlutil import named_query
from assess.core.xlsform import Question, XLSForm
from assess.estimate.indicators import add_indicator_values
from assess.estimate.run import check_config_against_form, submission_columns
from assess.estimate.trends import compute_ranking, compute_trends
from assess.store.load import sql

FCS = ["c", "p", "v", "f", "m", "d", "s", "o"]


def make_form() -> XLSForm:
    qs = {n: Question(name=n, type="integer", list_name=None, labels={}) for n in FCS}
    qs["water"] = Question(name="water", type="select_one", list_name="water", labels={})
    qs["enough"] = Question(name="enough", type="select_one", list_name="yn", labels={})
    return XLSForm(
        path=Path("f.xlsx"),
        title="t",
        form_id="f",
        version="",
        languages=[""],
        default_language=None,
        questions=qs,
        choices={},
    )


def settings(**indicators) -> Settings:
    return Settings(
        config_path=Path("/x/assessment.toml"),
        root=Path("/x"),
        xlsform=Path("f.xlsx"),
        round="r1",
        indicators=indicator_specs(indicators, Path("/x/assessment.toml")),
    )


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute(sql("schema"))
    c.execute("ALTER TABLE submissions ADD COLUMN water VARCHAR")
    c.execute("ALTER TABLE submissions ADD COLUMN enough VARCHAR")
    for n in FCS:
        c.execute(f"ALTER TABLE submissions ADD COLUMN {n} BIGINT")
    rows = [  # id, days per group, water, enough
        ("h1", [7, 0, 0, 0, 0, 0, 0, 0], "river", "yes"),  # FCS 14 -> poor
        ("h2", [7, 2, 3, 1, 1, 1, 7, 7], "tap", "no"),  # 14+6+3+1+4+4+3.5+3.5 = 39 -> acceptable
        ("h3", [7, 3, 2, 0, 0, 0, 2, 2], "tap", "yes"),  # 14+9+2+0+0+0+1+1 = 27 -> borderline
        ("h4", [None] * 8, None, None),  # nothing answered -> missing
    ]
    for sid, days, water, enough in rows:
        c.execute(
            f"INSERT INTO submissions (round, submission_id, source_file, source_sha256, source_row, loaded_at, "
            f"water, enough, {', '.join(FCS)}) VALUES ('r1', ?, 'f', 's', 1, now(), ?, ?, "
            f"{', '.join('?' * 8)})",
            [sid, water, enough, *days],
        )
    c.execute(
        "CREATE TEMP TABLE est_units AS SELECT row_number() OVER (ORDER BY submission_id) AS _rid, "
        "submission_id, 'household' AS _unit FROM submissions"
    )
    c.execute(
        "CREATE TEMP TABLE est_values (_rid BIGINT, indicator VARCHAR, option VARCHAR, kind VARCHAR, y DOUBLE)"
    )
    return c


def values(con, indicator):
    return dict(
        con.execute(
            "SELECT u.submission_id || ':' || v.option, v.y FROM est_values v JOIN est_units u USING (_rid) "
            "WHERE indicator = ?",
            [indicator],
        ).fetchall()
    )


def test_food_consumption_score_and_categories(con):
    s = settings(fcs={"groups": FCS})
    add_indicator_values(con, s, make_form(), submission_columns(con))
    assert values(con, "fcs_score") == {"h1:": 14.0, "h2:": 39.0, "h3:": 27.0, "h4:": None}
    cats = values(con, "fcs_category")
    assert cats["h1:poor"] == 1 and cats["h3:borderline"] == 1 and cats["h2:acceptable"] == 1
    assert cats["h2:poor"] == 0 and cats["h4:poor"] is None


def test_severity_worst_rule_wins_and_unanswered_is_missing(con):
    s = settings(
        severity=[
            {
                "sector": "wash",
                "rules": [
                    {"level": 4, "when": "${water} = 'river'"},
                    {"level": 3, "when": "${enough} = 'no'"},
                ],
            },
            {"sector": "food", "rules": [{"level": 3, "when": "${c} * 2 + ${p} * 3 <= 14"}]},
        ]
    )
    add_indicator_values(con, s, make_form(), submission_columns(con))
    wash, overall = values(con, "severity_wash"), values(con, "severity_overall")
    assert wash["h1:4"] == 1 and wash["h1:4+"] == 1 and wash["h1:3+"] == 1
    assert wash["h2:3"] == 1 and wash["h2:4+"] == 0
    assert wash["h3:1"] == 1 and wash["h3:3+"] == 0
    assert wash["h4:1"] is None
    assert overall["h3:1"] == 1 and overall["h1:4"] == 1  # food 3 for h1 (14 <= 14) but wash 4 is worse


def test_bad_severity_config_names_the_rule(con):
    with pytest.raises(ConfigError, match="rule 1: level must be a whole number from 1 to 5"):
        settings(severity=[{"sector": "wash", "rules": [{"level": 7, "when": "${water} = 'x'"}]}])
    s = settings(severity=[{"sector": "wash", "rules": [{"level": 3, "when": "${nope} = 'x'"}]}])
    with pytest.raises(ConfigError, match="nope"):
        add_indicator_values(con, s, make_form(), submission_columns(con))


@pytest.mark.parametrize(
    "indicators,match",
    [
        (
            {
                "severity": [
                    {
                        "sector": "wash",
                        "rules": [
                            {"level": 3, "when": "${enough} = 'no'"},
                            {"level": 4, "when": "${water} = 'river' or ${nope} = 1"},
                        ],
                    }
                ]
            },
            r"/x/assessment\.toml: \[\[indicators\.severity\]\] entry 1 \(sector 'wash'\), rule 2: '\$\{nope\}' is not a "
            r"question of the form f\.xlsx",
        ),
        (
            {
                "severity": [
                    {"sector": "wash", "rules": [{"level": 3, "when": "jr:choice-name(${water}, 'w') = 'x'"}]}
                ]
            },
            r"entry 1 \(sector 'wash'\), rule 1: the condition .* cannot be used \(the function jr:choice-name\(\) is not "
            r"translated\)",
        ),
        (
            {"fcs": {"groups": [*FCS[:7], "cereal"]}},
            r"\[indicators\.fcs\] groups: 'cereal' is not a question of the form "
            r"f\.xlsx",
        ),
    ],
)
def test_indicator_questions_are_checked_against_the_form_at_start_up(indicators, match):
    with pytest.raises(ConfigError, match=match):
        check_config_against_form(settings(**indicators), make_form())


def test_indicators_that_fit_the_form_pass_the_start_up_check():
    s = settings(
        fcs={"groups": FCS}, severity=[{"sector": "food", "rules": [{"level": 3, "when": "${c} < 3"}]}]
    )
    assert check_config_against_form(s, make_form()) == []


def _estimates(con, round_, rows):
    con.execute(named_query("assess.estimate", "estimates_table"))  # as the store's migrations create it
    for option, est, se, suppressed in rows:
        con.execute(
            "INSERT INTO estimates (round, level, area, indicator, option, estimate, ci_low, ci_high, n, "
            "n_option, se, weighted_n, df, suppressed, unit, n_households) "
            "VALUES (?, 'national', 'all', 'needs', ?, ?, ?, ?, 100, 10, ?, 100, 99, ?, 'household', 100)",
            [round_, option, est, est - 1.98 * se, est + 1.98 * se, se, suppressed],
        )


def test_trends_flag_real_changes_and_skip_suppressed(con):
    con.execute(
        "INSERT INTO submissions (round, submission_id, source_file, source_sha256, source_row, loaded_at) "
        "VALUES ('r0', 'old', 'f', 's', 1, TIMESTAMP '2020-01-01')"
    )
    _estimates(
        con, "r0", [("food", 0.30, 0.02, False), ("water", 0.40, 0.05, False), ("cash", 0.1, 0.01, True)]
    )
    _estimates(
        con, "r1", [("food", 0.45, 0.02, False), ("water", 0.42, 0.05, False), ("cash", 0.2, 0.01, False)]
    )
    assert compute_trends(con, "r1") == 2
    rows = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT option, round(change, 6), significant, ci_overlap, previous_round FROM trends"
        ).fetchall()
    }
    assert rows["food"] == (0.15, True, False, "r0")
    assert rows["water"] == (0.02, False, True, "r0")
    assert compute_trends(con, "r0") == 0  # the first round has nothing to compare with


def test_ranking_explains_ties_by_ci_overlap(con):
    _estimates(
        con,
        "r1",
        [
            ("food", 0.50, 0.02, False),
            ("water", 0.48, 0.02, False),
            ("cash", 0.20, 0.02, False),
            ("rare", 0.9, 0.01, True),
        ],
    )
    compute_ranking(con, "r1")
    got = con.execute("SELECT option, rank, tied_with_above FROM ranking ORDER BY rank").fetchall()
    assert got == [("food", 1, False), ("water", 2, True), ("cash", 3, False)]
