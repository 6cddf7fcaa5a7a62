"""XLSForm expressions -> DuckDB SQL, evaluated on a tiny in-memory table."""

from __future__ import annotations

import duckdb
import pytest

from assess.core.xpath import Range, Untranslatable, simple_range, to_sql

TYPES = {
    "consent": "select_one",
    "hh_size": "integer",
    "kids": "integer",
    "needs": "select_multiple",
    "name": "text",
    "dob": "date",
}
ROWS = [  # consent, hh_size, kids, needs, name, dob
    ("yes", "5", "1", "food water", "Ann", "2020-01-02"),
    ("no", None, None, None, None, None),
    ("yes", "12", "13", "other", "Bob Lee", "2030-01-01"),
]


def evaluate(expr: str, current: str = "hh_size") -> list[bool | None]:
    con = duckdb.connect(":memory:")
    con.execute(
        "CREATE TABLE t (consent VARCHAR, hh_size VARCHAR, kids VARCHAR, needs VARCHAR, name VARCHAR, "
        "dob VARCHAR)"
    )
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", ROWS)

    def resolve(n: str) -> tuple[str, str]:
        if n not in TYPES:
            raise Untranslatable(f"${{{n}}} unknown")
        return f'"{n}"', TYPES[n]

    return [r[0] for r in con.execute(f"SELECT {to_sql(expr, resolve, current=current)} FROM t").fetchall()]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("${consent} = 'yes'", [True, False, True]),
        ("${consent} != 'yes'", [False, True, False]),
        ("selected(${needs}, 'water')", [True, False, False]),
        ("not(selected(${needs}, 'water'))", [False, True, True]),
        ("${hh_size} > 10", [False, None, True]),
        ("${hh_size} >= 5 and ${consent} = 'yes'", [True, False, True]),
        ("${hh_size} > 10 or ${consent} = 'no'", [False, True, True]),
        ("count-selected(${needs}) >= 2", [True, False, False]),
        ("string-length(${name}) > 3", [False, False, True]),
        ("${name} = ''", [False, True, False]),
        (". <= 30 and . >= 1", [True, None, True]),
        (". >= ${kids}", [True, None, False]),
        ("regex(${name}, '^[A-Z][a-z]+( [A-Z][a-z]+)?$')", [True, False, True]),
        ("${dob} < today()", [True, None, False]),
        ("if(${consent} = 'yes', 1, 0) = 1", [True, False, True]),
        ("(${hh_size} - ${kids}) mod 2 = 0", [True, None, False]),
    ],
)
def test_translations(expr, expected):
    assert evaluate(expr) == expected


@pytest.mark.parametrize(
    "expr",
    [
        "jr:choice-name(., 'x')",
        "/data/hh_size > 1",
        "${missing} = 'x'",
        "position(..) = 1",
        "${consent} = ",
        "once(uuid())",
    ],
)
def test_untranslatable(expr):
    with pytest.raises(Untranslatable):
        evaluate(expr)


def test_simple_range():
    assert simple_range(". >= 1 and . <= 30") == Range(1, 30)
    assert simple_range("30 >= .") == Range(None, 30)
    assert simple_range(". > 0") == Range(0, None, strict_min=True)
    assert simple_range(". >= -5 and . < 5") == Range(-5, 5, strict_max=True)
    assert simple_range(". >= 0 and . <= ${hh_size}") is None
    assert simple_range(". >= 1 or . = -1") is None
