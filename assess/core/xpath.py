"""XLSForm expressions (`relevant`, `constraint`) -> DuckDB SQL over the staged text columns.

A small XPath 1.0 subset: `${q}`, `.`, string and number literals, `and`/`or`, comparisons, arithmetic and
the functions forms use in practice (`selected`, `count-selected`, `not`, `regex`, `string-length`, ...);
inside repeat groups also `position(..)`, `count(${repeat})` and `indexed-repeat(${q}, ${repeat}, n)`, through
the caller's `RepeatContext`. Anything else raises `Untranslatable`, and the caller lists the rule as "not
checked" instead of guessing.
Answers are text (blank = NULL); empty answers compare like XPath's empty string.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

NUMERIC_QTYPES = ("integer", "decimal", "range")
DATE_QTYPES = ("date", "today")


class Untranslatable(ValueError):
    """The expression uses something this translator does not handle."""


# ------------------------------------------------------------------------------------------------ lexing

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<ref>\$\{\s*(?P<refname>[^}\s]+)\s*\})
    | (?P<str>'[^']*'|"[^"]*")
    | (?P<num>\d+(?:\.\d*)?|\.\d+)
    | (?P<op>!=|<=|>=|=|<|>|\+|-|\*|\(|\)|,|\.\.|\.|\||/)
    | (?P<name>[A-Za-z_][A-Za-z0-9_:\-]*(?<!-))
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Tok:
    kind: str  # ref | str | num | op | name
    text: str


def tokenize(expr: str) -> list[Tok]:
    pos, out = 0, []
    expr = expr.replace("\u2019", "'").replace("\u2018", "'")
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise Untranslatable(f"cannot read the expression near '{expr[pos : pos + 15]}'")
        pos = m.end()
        if m.group("ref"):
            out.append(Tok("ref", m.group("refname")))
        elif m.group("str") is not None:
            out.append(Tok("str", m.group("str")[1:-1]))
        elif m.group("num"):
            out.append(Tok("num", m.group("num")))
        elif m.group("op"):
            out.append(Tok("op", m.group("op")))
        else:
            out.append(Tok("name", m.group("name")))
    return out


# ------------------------------------------------------------------------------------------------ parsing
# AST: ("num", float) ("str", s) ("ref", name|None) ("bin", op, a, b) ("neg", a) ("call", fname, [args])

_BINARY_LEVELS: list[tuple[str, ...]] = [
    ("or",),
    ("and",),
    ("=", "!="),
    ("<", "<=", ">", ">="),
    ("+", "-"),
    ("*", "div", "mod"),
]


class _Parser:
    def __init__(self, tokens: list[Tok]) -> None:
        self.toks, self.i = tokens, 0

    def peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> Tok:
        tok = self.peek()
        if tok is None:
            raise Untranslatable("the expression ends too early")
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text:
            raise Untranslatable(f"expected '{text}', found '{tok.text}'")

    def parse(self) -> tuple:
        node = self.binary(0)
        if self.peek() is not None:
            raise Untranslatable(f"unexpected '{self.peek().text}'")  # type: ignore[union-attr]
        return node

    def binary(self, level: int) -> tuple:
        if level == len(_BINARY_LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while (
            (tok := self.peek()) is not None
            and tok.kind in ("op", "name")
            and tok.text in _BINARY_LEVELS[level]
        ):
            self.take()
            node = ("bin", tok.text, node, self.binary(level + 1))
        return node

    def unary(self) -> tuple:
        tok = self.peek()
        if tok is not None and tok.kind == "op" and tok.text == "-":
            self.take()
            return ("neg", self.unary())
        return self.primary()

    def primary(self) -> tuple:
        tok = self.take()
        if tok.kind == "num":
            return ("num", float(tok.text))
        if tok.kind == "str":
            return ("str", tok.text)
        if tok.kind == "ref":
            return ("ref", tok.text)
        if tok.kind == "op" and tok.text == ".":
            return ("ref", None)
        if tok.kind == "op" and tok.text == "..":
            return ("parent",)
        if tok.kind == "op" and tok.text == "(":
            node = self.binary(0)
            self.expect(")")
            return node
        if tok.kind == "name" and (nxt := self.peek()) is not None and nxt.text == "(":
            self.take()
            args: list[tuple] = []
            if (p := self.peek()) is not None and p.text == ")":
                self.take()
            else:
                while True:
                    args.append(self.binary(0))
                    sep = self.take()
                    if sep.text == ")":
                        break
                    if sep.text != ",":
                        raise Untranslatable(f"expected ',' or ')' in {tok.text}(), found '{sep.text}'")
            return ("call", tok.text, args)
        raise Untranslatable(
            f"'{tok.text}' is not supported here (XPath paths and node names are not translated)"
        )


def parse(expr: str) -> tuple:
    """Parse an XLSForm expression into a small AST (raises Untranslatable)."""
    if not expr.strip():
        raise Untranslatable("empty expression")
    return _Parser(tokenize(expr)).parse()


# ------------------------------------------------------------------------------------------------ SQL

Resolver = Callable[[str], tuple[str, str]]  # question name -> (SQL column expression, question type)


@dataclass(frozen=True)
class RepeatContext:
    """What the table being checked knows about repeat groups (each hook raises Untranslatable when it cannot).

    position: SQL of the current repeat instance's number (`position(..)`), None outside a repeat.
    count: repeat name -> SQL of its number of instances here (`count(${repeat})`).
    indexed: (question, repeat, SQL of n) -> (SQL, question type) of `indexed-repeat(${q}, ${repeat}, n)`.
    """

    position: str | None = None
    count: Callable[[str], str] | None = None
    indexed: Callable[[str, str, str], tuple[str, str]] | None = None


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _num_lit(v: float) -> str:
    return repr(int(v)) if float(v).is_integer() else repr(v)


@dataclass
class _V:
    sql: str
    kind: str  # num | str | bool | date | ref
    qtype: str = ""


class _Gen:
    def __init__(self, resolve: Resolver, current: str | None, repeats: RepeatContext | None = None) -> None:
        self.resolve, self.current = resolve, current
        self.repeats = repeats or RepeatContext()

    # conversions ------------------------------------------------------------------------------------
    def num(self, v: _V) -> str:
        if v.kind == "num":
            return v.sql
        if v.kind == "bool":
            return f"(CASE WHEN {v.sql} THEN 1 ELSE 0 END)"
        if v.kind == "date":
            return f"(date_diff('day', DATE '1970-01-01', {v.sql}))"
        return f"TRY_CAST({v.sql} AS DOUBLE)"

    def text(self, v: _V) -> str:
        if v.kind == "ref":
            return f"coalesce({v.sql}, '')"
        if v.kind == "str":
            return v.sql
        if v.kind == "bool":
            return f"(CASE WHEN {v.sql} THEN 'true' ELSE 'false' END)"
        if v.kind == "num":
            return f"regexp_replace(CAST({v.sql} AS VARCHAR), '\\.0$', '')"
        return f"CAST({v.sql} AS VARCHAR)"

    def boolean(self, v: _V) -> str:
        if v.kind == "bool":
            return v.sql
        if v.kind == "num":
            return f"({v.sql} <> 0)"
        if v.kind == "ref":
            return f"({v.sql} IS NOT NULL)"
        return f"(length({v.sql}) > 0)"

    def date(self, v: _V) -> str:
        if v.kind == "date":
            return v.sql
        return f"TRY_CAST(left({self.text(v)}, 10) AS DATE)"

    def split(self, v: _V) -> str:
        return f"regexp_split_to_array(trim({self.text(v)}), '\\s+')"

    # nodes ------------------------------------------------------------------------------------------
    def gen(self, node: tuple) -> _V:
        tag = node[0]
        if tag == "num":
            return _V(_num_lit(node[1]), "num")
        if tag == "str":
            return _V(sql_str(node[1]), "str")
        if tag == "ref":
            name = node[1] if node[1] is not None else self.current
            if name is None:
                raise Untranslatable("'.' used outside a question")
            sql, qtype = self.resolve(name)
            return _V(sql, "ref", qtype)
        if tag == "neg":
            return _V(f"(-{self.num(self.gen(node[1]))})", "num")
        if tag == "bin":
            return self.binop(node[1], self.gen(node[2]), self.gen(node[3]))
        if tag == "call":
            return self.call(node[1], node[2])
        if tag == "parent":
            raise Untranslatable("'..' is only translated inside position(..)")
        raise Untranslatable(f"unknown node {tag}")

    def binop(self, op: str, a: _V, b: _V) -> _V:
        if op in ("and", "or"):
            return _V(f"({self.boolean(a)} {op.upper()} {self.boolean(b)})", "bool")
        if op in ("+", "-", "*", "div", "mod"):
            sql_op = {"div": "/", "mod": "%"}.get(op, op)
            return _V(f"({self.num(a)} {sql_op} {self.num(b)})", "num")
        sql_op = "<>" if op == "!=" else op
        kinds = {a.kind, b.kind}
        qtypes = {a.qtype, b.qtype}
        if "date" in kinds or (kinds == {"ref"} and qtypes <= set(DATE_QTYPES) and op not in ("=", "!=")):
            return _V(f"({self.date(a)} {sql_op} {self.date(b)})", "bool")
        if "bool" in kinds and op in ("=", "!="):
            return _V(f"({self.boolean(a)} {sql_op} {self.boolean(b)})", "bool")
        numeric = (
            op not in ("=", "!=") or "num" in kinds or (kinds == {"ref"} and qtypes <= set(NUMERIC_QTYPES))
        )
        if numeric:
            return _V(f"({self.num(a)} {sql_op} {self.num(b)})", "bool")
        return _V(f"({self.text(a)} {sql_op} {self.text(b)})", "bool")

    def repeat_call(self, fname: str, args: list[tuple]) -> _V | None:
        """position(..), count(${repeat}), indexed-repeat(${q}, ${repeat}, n); None for any other function."""
        if fname == "position":
            if args != [("parent",)]:
                raise Untranslatable("position() is translated as position(..) only")
            if self.repeats.position is None:
                raise Untranslatable("position(..) outside a repeat group")
            return _V(self.repeats.position, "num")
        if fname == "count":
            if len(args) != 1 or args[0][0] != "ref" or args[0][1] is None:
                raise Untranslatable("count() is translated for count(${repeat}) only")
            if self.repeats.count is None:
                raise Untranslatable("count() of a repeat group is not known here")
            return _V(self.repeats.count(args[0][1]), "num")
        if fname == "indexed-repeat":
            if (
                len(args) != 3
                or args[0][0] != "ref"
                or args[1][0] != "ref"
                or None in (args[0][1], args[1][1])
            ):
                raise Untranslatable("indexed-repeat() is translated with one repeat level only")
            if self.repeats.indexed is None:
                raise Untranslatable("indexed-repeat() is not known here")
            sql, qtype = self.repeats.indexed(args[0][1], args[1][1], self.num(self.gen(args[2])))
            return _V(sql, "ref", qtype)
        return None

    def call(self, fname: str, args: list[tuple]) -> _V:
        special = self.repeat_call(fname, args)
        if special is not None:
            return special
        vals = [self.gen(a) for a in args]
        n = len(vals)

        def need(k: int | tuple[int, ...]) -> None:
            allowed = (k,) if isinstance(k, int) else k
            if n not in allowed:
                raise Untranslatable(f"{fname}() with {n} argument(s)")

        if fname == "selected":
            need(2)
            return _V(f"list_contains({self.split(vals[0])}, {self.text(vals[1])})", "bool")
        if fname == "count-selected":
            need(1)
            t = self.text(vals[0])
            return _V(f"(CASE WHEN trim({t}) = '' THEN 0 ELSE len({self.split(vals[0])}) END)", "num")
        if fname == "selected-at":
            need(2)
            return _V(
                f"coalesce(list_extract({self.split(vals[0])}, CAST({self.num(vals[1])} AS BIGINT) + 1), '')",
                "str",
            )
        if fname == "not":
            need(1)
            return _V(f"(NOT {self.boolean(vals[0])})", "bool")
        if fname in ("true", "false"):
            need(0)
            return _V(fname, "bool")
        if fname == "boolean":
            need(1)
            return _V(self.boolean(vals[0]), "bool")
        if fname == "boolean-from-string":
            need(1)
            return _V(f"(lower({self.text(vals[0])}) IN ('true', '1'))", "bool")
        if fname == "string-length":
            need(1)
            return _V(f"length({self.text(vals[0])})", "num")
        if fname == "regex":
            need(2)
            if vals[1].kind != "str":
                raise Untranslatable("regex() with a pattern that is not a literal")
            return _V(f"regexp_full_match({self.text(vals[0])}, {vals[1].sql})", "bool")
        if fname == "contains":
            need(2)
            return _V(f"contains({self.text(vals[0])}, {self.text(vals[1])})", "bool")
        if fname == "starts-with":
            need(2)
            return _V(f"starts_with({self.text(vals[0])}, {self.text(vals[1])})", "bool")
        if fname == "ends-with":
            need(2)
            return _V(f"suffix({self.text(vals[0])}, {self.text(vals[1])})", "bool")
        if fname == "concat":
            return _V("concat(" + ", ".join(self.text(v) for v in vals) + ")" if vals else "''", "str")
        if fname in ("substr", "substring"):
            need((2, 3))
            start = f"CAST({self.num(vals[1])} AS BIGINT) + {1 if fname == 'substr' else 0}"
            if n == 3:
                length = (
                    f"CAST({self.num(vals[2])} AS BIGINT) - CAST({self.num(vals[1])} AS BIGINT)"
                    if fname == "substr"
                    else f"CAST({self.num(vals[2])} AS BIGINT)"
                )
                return _V(f"substring({self.text(vals[0])}, {start}, {length})", "str")
            return _V(f"substring({self.text(vals[0])}, {start})", "str")
        if fname == "normalize-space":
            need(1)
            return _V(f"trim(regexp_replace({self.text(vals[0])}, '\\s+', ' ', 'g'))", "str")
        if fname == "string":
            need(1)
            return _V(self.text(vals[0]), "str")
        if fname == "number":
            need(1)
            return _V(self.num(vals[0]), "num")
        if fname == "int":
            need(1)
            return _V(f"trunc({self.num(vals[0])})", "num")
        if fname in ("floor", "ceiling", "abs"):
            need(1)
            return _V(f"{'ceil' if fname == 'ceiling' else fname}({self.num(vals[0])})", "num")
        if fname == "round":
            need((1, 2))
            digits = f", CAST({self.num(vals[1])} AS INTEGER)" if n == 2 else ""
            return _V(f"round({self.num(vals[0])}{digits})", "num")
        if fname == "pow":
            need(2)
            return _V(f"pow({self.num(vals[0])}, {self.num(vals[1])})", "num")
        if fname in ("min", "max") and n >= 1:
            return _V(
                f"{'least' if fname == 'min' else 'greatest'}(" + ", ".join(self.num(v) for v in vals) + ")",
                "num",
            )
        if fname == "if":
            need(3)
            kind = vals[1].kind if vals[1].kind == vals[2].kind and vals[1].kind != "ref" else "str"
            conv = {"num": self.num, "bool": self.boolean, "date": self.date}.get(kind, self.text)
            return _V(
                f"(CASE WHEN {self.boolean(vals[0])} THEN {conv(vals[1])} ELSE {conv(vals[2])} END)", kind
            )
        if fname == "coalesce":
            need(2)
            return _V(f"coalesce(NULLIF({self.text(vals[0])}, ''), {self.text(vals[1])})", "str")
        if fname == "today":
            need(0)
            return _V("current_date", "date")
        if fname in ("date", "decimal-date"):
            need(1)
            if vals[0].kind == "num":
                return _V(f"(DATE '1970-01-01' + CAST({vals[0].sql} AS INTEGER))", "date")
            return _V(self.date(vals[0]), "date")
        raise Untranslatable(f"the function {fname}() is not translated")


def to_sql(
    expr: str, resolve: Resolver, *, current: str | None = None, repeats: RepeatContext | None = None
) -> str:
    """SQL for an XLSForm boolean expression; NULL where XPath would compare against a missing number."""
    gen = _Gen(resolve, current, repeats)
    return gen.boolean(gen.gen(parse(expr)))


def to_sql_number(expr: str, resolve: Resolver, *, repeats: RepeatContext | None = None) -> str:
    """SQL for an XLSForm expression read as a number (e.g. a `repeat_count`); NULL when it is not one."""
    gen = _Gen(resolve, None, repeats)
    return gen.num(gen.gen(parse(expr)))


def references(expr: str) -> set[str]:
    """Question names referenced with `${...}` (raises Untranslatable when the expression cannot be read)."""
    return {t.text for t in tokenize(expr) if t.kind == "ref"}


@dataclass(frozen=True)
class Range:
    min_value: float | None = None
    max_value: float | None = None
    strict_min: bool = False
    strict_max: bool = False


def simple_range(expr: str) -> Range | None:
    """`. >= 1 and . <= 30` (or one bound) -> Range; None when the constraint has any other shape."""
    try:
        node = parse(expr)
    except Untranslatable:
        return None
    parts = [node]
    if node[0] == "bin" and node[1] == "and":
        parts = [node[2], node[3]]
    lo: tuple[float, bool] | None = None
    hi: tuple[float, bool] | None = None
    for p in parts:
        if p[0] != "bin" or p[1] not in ("<", "<=", ">", ">="):
            return None
        op, a, b = p[1], p[2], p[3]
        if a == ("ref", None) and b[0] == "num":
            value = b[1]
        elif b == ("ref", None) and a[0] == "num":
            value = a[1]
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
        elif a == ("ref", None) and b[0] == "neg" and b[1][0] == "num":
            value = -b[1][1]
        else:
            return None
        if op in (">", ">="):
            if lo is not None:
                return None
            lo = (value, op == ">")
        else:
            if hi is not None:
                return None
            hi = (value, op == "<")
    return Range(lo[0] if lo else None, hi[0] if hi else None, bool(lo and lo[1]), bool(hi and hi[1]))
