"""Row-level validation: a Great Expectations suite generated from the XLSForm, run on DuckDB.

Each rule (required answer where relevant, choice codes, number parsing, constraints, submission id,
collection window, region codes, rules from `[[validation.expect]]`) becomes one real GX expectation whose
`meta` says which rule it is. GX runs against a DuckDB file in the staging workdir through its SQL data
source (the fast route); a pandas route remains for when that is unavailable. GX decides which rules
fail and how often; every failing row is then read back with the expectation's own SQL (the rule's flag, or
the unexpected-index query GX returns for a built-in), in one statement for all failed rules, so a file
with 5,000 bad rows quarantines 5,000 rows, not the 20 GX lists.

Speed (benchmarks/bench_validation.py): GX runs two statements per UnexpectedRowsExpectation (row count and
rows) and one bundled query for the built-ins; result_format BASIC, no result store. Flags are written to
be cheap on DuckDB (no per-row lists where a string test gives the same answer), and must reach GX intact
through SQLAlchemy's text() (see _gx_query_text): a failing metric makes GX re-run whole metric batches.
Big files are read through a view over the staged Parquet (materialising 1M rows costs more than all the
checks); small ones are copied into a table.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from ..core.privacy import PERSONAL_METADATA, REDACTED, is_private_column, private_questions
from ..core.problems import Problem, ValidationResult
from ..core.settings import Settings
from ..core.xlsform import Question, XLSForm
from ..core.xpath import Untranslatable, references, simple_range, sql_str, to_sql
from ..read.export import Staged, truthy_sql

log = logging.getLogger(__name__)

TABLE = "data"
NUM_SUFFIX = "__num"
WINDOW_COLUMNS = ("_submission_time", "SubmissionDate", "start")
# Types whose answers are not typed by the respondent (or are files): `required` is not checked for them.
NO_REQUIRED_TYPES = {"calculate", "hidden", "start", "end", "today", "deviceid", "username", "simserial",
                     "subscriberid", "phonenumber", "email", "audit", "image", "audio", "video", "file",
                     "background-audio", "xml-external", "csv-external", "note"}
FREE_TEXT_TYPES = {"text"}
_CHOICE_FILTER = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*=\s*\$\{\s*([^}\s]+)\s*\}\s*$")
_CHOICE_FILTER_REV = re.compile(r"^\s*\$\{\s*([^}\s]+)\s*\}\s*=\s*([A-Za-z_][\w.\-]*)\s*$")


def q(name: str) -> str:
    """Quote an identifier (from the form or export headers, never from answers)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Rule:
    """One rule = one GX expectation; `flag` is SQL true on a failing row (for UnexpectedRows/pandas)."""

    kind: str
    gx_type: str
    kwargs: dict[str, Any]
    describe: str  # the rule in plain language (Data Docs, receipts)
    template: str  # reason for one row: {label} {value} {a} {b} {tokens} placeholders
    question: str | None = None
    column: str | None = None  # staged column whose value the problem shows
    value_columns: tuple[str, ...] = ()
    flag: str | None = None
    choices: tuple[str, ...] = ()
    action: str = "quarantine"

    @property
    def row_level(self) -> bool:
        return self.flag is not None or "column" in self.kwargs or "column_A" in self.kwargs \
            or "column_list" in self.kwargs


@dataclass
class RuleOutcome:
    success: bool
    unexpected: int = 0
    rows: list[int] | None = None  # complete list when known
    index_query: str | None = None
    error: str | None = None


@dataclass
class _Ctx:
    staged: Staged
    form: XLSForm
    settings: Settings
    language: str
    private: set[str]
    cols: dict[str, str]  # question -> staged column (summary column)
    headers: dict[str, str]  # staged column -> export header
    num_cols: dict[str, str] = field(default_factory=dict)  # staged column -> typed helper column
    not_checked: list[str] = field(default_factory=list)
    private_cols: dict[str, bool] = field(default_factory=dict)  # staged column -> shown redacted
    statements: int = 0  # SQL statements this module ran on DuckDB itself (GX's own are not counted here)

    def label(self, question: str) -> str:
        text = " ".join(self.form.label(question, self.language).split())
        return text if len(text) <= 70 else text[:67].rstrip() + "..."

    def action(self, kind: str) -> str:
        default = "warn" if kind == "consistency" else self.settings.on_fail
        return self.settings.policy.get(kind, default)

    def resolve(self, name: str) -> tuple[str, str]:
        question = self.form.questions.get(name)
        if question is None:
            raise Untranslatable(f"${{{name}}} is not a question of the form")
        if name in self.cols:
            return q(self.cols[name]), question.type
        options = self.staged.option_columns(name)
        if options:
            return _options_as_text(options), question.type
        raise Untranslatable(f"${{{name}}} is not a column of this file")


def _options_as_text(options: dict[str, str]) -> str:
    parts = ", ".join(f"CASE WHEN {truthy_sql(q(col))} THEN {sql_str(opt)} END" for opt, col in options.items())
    return f"NULLIF(concat_ws(' ', {parts}), '')"


def _tokens(expr: str) -> str:
    return f"list_distinct(regexp_split_to_array(trim(coalesce({expr}, '')), '\\s+'))"


_SPLIT_COUNT = "len(regexp_split_to_array(trim("
_SPLIT_COUNT_END = r", '\s+'))"


def _closing_paren(sql: str, start: int) -> int | None:
    """Index of the ")" closing the group that starts at `start` (just after its "("), quotes respected."""
    depth, i = 1, start
    while i < len(sql):
        ch = sql[i]
        if ch in "'\"":
            end = sql.find(ch, i + 1)
            while end != -1 and sql[end + 1:end + 2] == ch:  # doubled quote inside the literal
                end = sql.find(ch, end + 2)
            if end == -1:
                return None
            i = end
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _cheap_token_counts(sql: str) -> str:
    r"""Rewrite xpath's count-selected token count, `len(regexp_split_to_array(trim(X), '\s+'))`, to an equal
    expression that avoids building a list per row (~8x cheaper on 1M rows).

    When the trimmed text has no tab, newline, form feed, carriage return (the other characters of RE2's \s)
    and no double space, its tokens are separated by single spaces: count = 1 + number of spaces. Any other
    text keeps the original split, so the result is the same for every value (NULL stays NULL).
    """
    out, pos = [], 0
    while (found := sql.find(_SPLIT_COUNT, pos)) != -1:
        inner = found + len(_SPLIT_COUNT)
        close = _closing_paren(sql, inner)
        if close is None or not sql.startswith(_SPLIT_COUNT_END, close + 1):
            out.append(sql[pos:inner])
            pos = inner
            continue
        text = f"trim({sql[inner:close]})"
        special = " OR ".join([f"contains({text}, '  ')"] + [f"contains({text}, chr({c}))" for c in (9, 10, 12, 13)])
        out.append(sql[pos:found])
        out.append(f"(CASE WHEN {special} THEN len(regexp_split_to_array({text}, '\\s+')) "
                   f"ELSE 1 + length({text}) - length(replace({text}, ' ', '')) END)")
        pos = close + 1 + len(_SPLIT_COUNT_END)
    out.append(sql[pos:])
    return "".join(out)


def _single_spaced(text: str) -> str:
    """SQL true when `text` is tokens separated by single spaces: no RE2 \\s other than ' ' (tab, newline,
    form feed, carriage return), no double space, no space at either end."""
    return (f"NOT (contains({text}, '  ') OR starts_with({text}, ' ') OR ends_with({text}, ' ') OR "
            + " OR ".join(f"contains({text}, chr({c}))" for c in (9, 10, 12, 13)) + ")")


def _all_tokens_in(text: str, choices: tuple[str, ...]) -> str:
    """SQL true when `text` is one or more whitespace-separated tokens, each one of `choices`.

    The rule is the RE2 full match `\\s*C(\\s+C)*\\s*` (C: the choices); single-spaced text, the usual
    shape, is checked by splitting on ' ' instead (~10x cheaper than the regex on 1M rows, the same answer
    when no choice contains whitespace); any other text still goes through the regex.
    """
    alt = "(?:" + "|".join(re.escape(c) for c in choices) + ")"
    pattern = sql_str(rf"\s*{alt}(?:\s+{alt})*\s*")
    regex = f"regexp_full_match({text}, {pattern})"
    if any(re.search(r"[\t\n\f\r ]", c) or c == "" for c in choices):
        return regex
    listed = "[" + ", ".join(sql_str(c) for c in choices) + "]"
    return f"(CASE WHEN {_single_spaced(text)} THEN list_has_all({listed}, string_split({text}, ' ')) ELSE {regex} END)"


def _summary_disagrees(expr: str, options: dict[str, str]) -> str:
    """SQL true when the select_multiple summary column and its option columns name different options.

    The rule: the sorted distinct tokens of the summary differ from the sorted names of the options whose
    column is true. For single-spaced summary text (the usual shape) and option names without whitespace it is
    evaluated without lists: every token is an option name, and each option is a token exactly when its
    column is true (~10x cheaper on 1M rows); any other text takes the list comparison.
    """
    summary = f"list_sort(list_filter({_tokens(expr)}, lambda t: t <> ''))"
    picked = f"list_sort(list_filter({_tokens(_options_as_text(options))}, lambda t: t <> ''))"
    lists = f"({summary} <> {picked})"
    if any(re.search(r"[\t\n\f\r ]", o) or o == "" for o in options):
        return lists
    text = f"coalesce({expr}, '')"
    listed = "[" + ", ".join(sql_str(o) for o in options) + "]"
    same = [f"({text} = '' OR list_has_all({listed}, string_split({text}, ' ')))"]
    same += [f"(contains(' ' || {text} || ' ', {sql_str(' ' + o + ' ')}) = coalesce({truthy_sql(q(col))}, false))"
             for o, col in options.items()]
    return f"(CASE WHEN {_single_spaced(text)} THEN NOT ({' AND '.join(same)}) ELSE {lists} END)"


def _esc(text: str) -> str:
    """Form text placed inside a reason template (labels, messages, expressions carry braces)."""
    return text.replace("{", "{{").replace("}", "}}")


def _num(v: float | None) -> str:
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else str(v)


# ------------------------------------------------------------------------------------------------ rules


def build_rules(staged: Staged, form: XLSForm, settings: Settings) -> tuple[list[Rule], _Ctx]:
    """The rules for one staged file (pure: no GX, no data read)."""
    language = form.language.column
    headers = {c.name: c.header.strip() for c in staged.columns}
    ctx = _Ctx(staged=staged, form=form, settings=settings, language=language,
               private=private_questions(form, settings), cols=staged.question_columns, headers=headers)
    used = set(headers) | {"_row", "_sid"}
    for question in form.answer_questions:
        col = ctx.cols.get(question.name)
        if col and question.is_numeric:
            helper = col + NUM_SUFFIX
            while helper in used:
                helper += "_"
            used.add(helper)
            ctx.num_cols[col] = helper

    rules: list[Rule] = [
        Rule(kind="unique", gx_type="expect_column_values_to_not_be_null", kwargs={"column": "_sid"},
             describe="every row has a submission id", column="_sid",
             template="the submission id is empty: the row cannot be matched to a submission"),
        Rule(kind="unique", gx_type="unexpected_rows_expectation", kwargs={},
             describe="each submission id appears once in the file", column="_sid",
             flag="_sid IS NOT NULL AND row_number() OVER (PARTITION BY _sid ORDER BY _row) > 1",
             template="submission id {value} appears earlier in this file: this later copy is kept aside"),
    ]
    for question in form.answer_questions:
        rules += _question_rules(ctx, question)
    rules += _window_rules(ctx)
    rules += _custom_rules(ctx)
    for rule in rules:
        rule.action = ctx.action(rule.kind)
    return rules, ctx


def _relevance(ctx: _Ctx, question: Question) -> str | None:
    conditions = [*question.group_relevant, question.relevant]
    sqls = [f"coalesce({_cheap_token_counts(to_sql(c, ctx.resolve))}, false)" for c in conditions if c]
    return " AND ".join(sqls) if sqls else None


def _question_rules(ctx: _Ctx, question: Question) -> list[Rule]:
    name, label = question.name, ctx.label(question.name)
    col = ctx.cols.get(name)
    options = ctx.staged.option_columns(name)
    value_sql = q(col) if col else (_options_as_text(options) if options else None)
    out: list[Rule] = []
    if value_sql is None:
        if question.required and question.type not in NO_REQUIRED_TYPES:
            ctx.not_checked.append(f"required of {name}: the column is not in this file")
        return out

    if question.required and question.type not in NO_REQUIRED_TYPES:
        try:
            rel = _relevance(ctx, question)
        except Untranslatable as exc:
            conds = " and ".join(c for c in (*question.group_relevant, question.relevant) if c)
            ctx.not_checked.append(f"required of {name}: relevant {conds} ({exc})")
        else:
            if rel is None and col:
                out.append(Rule(kind="required", gx_type="expect_column_values_to_not_be_null",
                                kwargs={"column": col}, describe=f"{label}: an answer is required",
                                template="{label}: no answer, but the question is required",
                                question=name, column=col))
            else:
                when = " and ".join(c for c in (*question.group_relevant, question.relevant) if c)
                out.append(Rule(kind="required", gx_type="unexpected_rows_expectation", kwargs={},
                                describe=f"{label}: an answer is required" + (f" when {when}" if when else ""),
                                template="{label}: no answer, but the question is required"
                                + (f" here ({_esc(when)})" if when else ""),
                                question=name, column=col,
                                flag=f"{value_sql} IS NULL" + (f" AND {rel}" if rel else "")))

    region = name in ctx.settings.region_levels
    kind = "region" if region else "choice"
    choices = tuple(ctx.form.choice_names(name)) if question.is_select else ()
    if question.type == "select_one" and choices and col:
        out.append(Rule(kind=kind, gx_type="expect_column_values_to_be_in_set",
                        kwargs={"column": col, "value_set": list(choices)},
                        describe=f"{label}: a code of the choice list '{question.list_name}'",
                        template="{label} {value}: not a code of the choice list '" + _esc(question.list_name or "")
                        + "'" + (" (not a known region)" if region else ""),
                        question=name, column=col, choices=choices))
        if question.choice_filter:
            out += _choice_filter_rule(ctx, question, col, kind)
    if question.type == "select_multiple" and choices:
        if col:
            out.append(Rule(kind=kind, gx_type="unexpected_rows_expectation", kwargs={},
                            describe=f"{label}: every option is in the choice list '{question.list_name}'",
                            template="{label} {value}: {tokens} not in the choice list '"
                            + _esc(question.list_name or "") + "'",
                            question=name, column=col, choices=choices,
                            flag=f"{q(col)} IS NOT NULL AND NOT {_all_tokens_in(q(col), choices)}"))
        if col and options:
            out.append(Rule(kind="consistency", gx_type="unexpected_rows_expectation", kwargs={},
                            describe=f"{label}: the summary column agrees with the option columns",
                            template="{label}: the answer column says {value} but the option columns say {b}; "
                                     "the option columns were used",
                            question=name, column=col, value_columns=(col, "__options__"),
                            flag=_summary_disagrees(q(col), options)))

    if question.is_numeric and col:
        helper = ctx.num_cols[col]
        integer = question.type == "integer"
        bad = f"{q(col)} IS NOT NULL AND ({q(helper)} IS NULL" + (
            f" OR {q(helper)} <> floor({q(helper)}))" if integer else ")")
        out.append(Rule(kind="constraint", gx_type="unexpected_rows_expectation", kwargs={},
                        describe=f"{label}: a {'whole ' if integer else ''}number",
                        template="{label} {value}: not a %s" % ("whole number" if integer else "number"),
                        question=name, column=col, flag=bad))

    if question.constraint:
        out += _constraint_rules(ctx, question, col, value_sql)
    return out


def _choice_filter_rule(ctx: _Ctx, question: Question, col: str, kind: str) -> list[Rule]:
    m = _CHOICE_FILTER.match(question.choice_filter)
    filt, parent = (m.group(1), m.group(2)) if m else (None, None)
    if not m and (m2 := _CHOICE_FILTER_REV.match(question.choice_filter)):
        parent, filt = m2.group(1), m2.group(2)
    parent_q = ctx.form.questions.get(parent or "")
    parent_col = ctx.cols.get(parent or "")
    choices = ctx.form.choices.get(question.list_name or "", [])
    if not filt or parent_q is None or parent_col is None or not any(filt in c.extra for c in choices):
        ctx.not_checked.append(f"choice filter of {question.name}: {question.choice_filter}")
        return []
    pairs = [[c.extra[filt], c.name] for c in choices if c.extra.get(filt)]
    plabel = ctx.label(parent_q.name)
    return [Rule(kind=kind, gx_type="expect_column_pair_values_to_be_in_set",
                 kwargs={"column_A": parent_col, "column_B": col, "value_pairs_set": pairs,
                         "ignore_row_if": "either_value_is_missing"},
                 describe=f"{ctx.label(question.name)} lies inside the chosen {plabel}",
                 template=_esc(ctx.label(question.name)) + " {b} is not inside " + _esc(plabel) + " {a}",
                 question=question.name, column=col, value_columns=(parent_col, col))]


def _constraint_rules(ctx: _Ctx, question: Question, col: str | None, value_sql: str) -> list[Rule]:
    name, expr = question.name, question.constraint
    label = ctx.label(name)
    message = question.constraint_message.strip()
    rng = simple_range(expr) if question.is_numeric and col else None
    if rng is not None and col:
        lo, hi = _num(rng.min_value), _num(rng.max_value)
        if lo and hi:
            plain = f"must be between {lo} and {hi}"
        elif lo:
            plain = f"must be {'more than' if rng.strict_min else 'at least'} {lo}"
        else:
            plain = f"must be {'less than' if rng.strict_max else 'at most'} {hi}"
        kwargs: dict[str, Any] = {"column": ctx.num_cols[col], "min_value": rng.min_value,
                                  "max_value": rng.max_value}
        if rng.strict_min:
            kwargs["strict_min"] = True
        if rng.strict_max:
            kwargs["strict_max"] = True
        return [Rule(kind="constraint", gx_type="expect_column_values_to_be_between", kwargs=kwargs,
                     describe=f"{label}: {plain}", template="{label} {value}: " + _esc(message or plain),
                     question=name, column=col)]
    try:
        sql = _cheap_token_counts(to_sql(expr, ctx.resolve, current=name))
    except Untranslatable as exc:
        ctx.not_checked.append(f"constraint of {name}: {expr} ({exc})")
        return []
    others = sorted(r for r in references(expr) if r != name and r in ctx.cols)
    return [Rule(kind="constraint", gx_type="unexpected_rows_expectation", kwargs={},
                 describe=f"{label}: {expr}",
                 template="{label} {value}: " + _esc(message or f"breaks the form's rule {expr}")
                 + ("" if not others else " ({others})"),
                 question=name, column=col, value_columns=(col or "", *[ctx.cols[o] for o in others]),
                 flag=f"{value_sql} IS NOT NULL AND NOT coalesce({sql}, true)")]


def _window_rules(ctx: _Ctx) -> list[Rule]:
    window = ctx.settings.window
    if not window:
        return []
    try:
        start, end = (date.fromisoformat(w.strip()[:10]) for w in window)
    except ValueError:
        ctx.not_checked.append(f"collection window {window[0]} to {window[1]}: not two dates (YYYY-MM-DD)")
        return []
    col = None
    for wanted in WINDOW_COLUMNS:
        col = next((c.name for c in ctx.staged.columns if wanted in (c.name, c.header.strip())), None)
        if col:
            break
    if col is None:
        ctx.not_checked.append("collection window: the file has no _submission_time, SubmissionDate or start column")
        return []
    day = f"TRY_CAST({_first10_trimmed(q(col))} AS DATE)"
    return [Rule(kind="window", gx_type="unexpected_rows_expectation", kwargs={},
                 describe=f"submitted between {start} and {end} ({ctx.headers[col]})",
                 template=f"submitted {{value}}, outside the collection window {start} to {end}",
                 column=col,
                 flag=f"{q(col)} IS NOT NULL AND ({day} IS NULL OR {day} NOT BETWEEN DATE '{start}' AND DATE '{end}')")]


def _first10_trimmed(text: str) -> str:
    """`left(trim(text), 10)`, skipping the trim (half the cost on 1M rows) when it cannot change those 10
    characters: no leading space and a 10th character that is not a space."""
    return (f"left(CASE WHEN starts_with({text}, ' ') OR substr({text}, 10, 1) IN ('', ' ') THEN trim({text}) "
            f"ELSE {text} END, 10)")


_COLUMN_KEYS = ("column", "column_A", "column_B")


def _custom_rules(ctx: _Ctx) -> list[Rule]:
    out: list[Rule] = []
    for spec in ctx.settings.expectations:
        kwargs = dict(spec.kwargs)
        reason = str(kwargs.pop("reason", "") or "")
        if not _known_expectation(spec.type):
            ctx.not_checked.append(f"custom rule {spec.type}: not a Great Expectations expectation type")
            continue
        missing, shown = [], []
        for key in _COLUMN_KEYS:
            if key in kwargs:
                col = _custom_column(ctx, str(kwargs[key]))
                if col is None:
                    missing.append(str(kwargs[key]))
                else:
                    shown.append((str(kwargs[key]), col))
                    kwargs[key] = ctx.num_cols.get(col, col)
        if "column_list" in kwargs:
            mapped = []
            for name in kwargs["column_list"]:
                col = _custom_column(ctx, str(name))
                if col is None:
                    missing.append(str(name))
                else:
                    shown.append((str(name), col))
                    mapped.append(ctx.num_cols.get(col, col))
            kwargs["column_list"] = mapped
        if missing:
            ctx.not_checked.append(f"custom rule {spec.type}: column(s) {', '.join(missing)} not in this file")
            continue
        names = ", ".join(n for n, _ in shown)
        plain = reason or spec.type.removeprefix("expect_").replace("_", " ")
        out.append(Rule(kind=spec.kind, gx_type=spec.type, kwargs=kwargs,
                        describe=f"{names}: {plain}" if names else plain,
                        template="{values}: " + _esc(plain), column=shown[0][1] if shown else None,
                        value_columns=tuple(c for _, c in shown)))
    return out


def _custom_column(ctx: _Ctx, name: str) -> str | None:
    if name in ctx.cols:
        return ctx.cols[name]
    return next((c.name for c in ctx.staged.columns if name in (c.name, c.header.strip())), None)


def _known_expectation(type_: str) -> bool:
    from great_expectations.expectations.registry import get_expectation_impl

    try:
        get_expectation_impl(type_)
    except Exception:  # GX raises its own error types for unknown names
        return False
    return True


# ------------------------------------------------------------------------------------------------ DuckDB


def prepare_duckdb(staged: Staged, ctx: _Ctx, db_path: Path, *, materialize: bool = False) -> None:
    """A DuckDB file with a `data` view (or table) over the staged Parquet plus typed number helpers."""
    if db_path.exists():
        db_path.unlink()
    src = str(staged.path).replace("'", "''")
    helpers = "".join(f", TRY_CAST({q(col)} AS DOUBLE) AS {q(h)}" for col, h in ctx.num_cols.items())
    kind = "TABLE" if materialize else "VIEW"
    con = duckdb.connect(str(db_path))
    try:
        con.execute(f"CREATE {kind} {TABLE} AS SELECT *{helpers} FROM read_parquet('{src}')")
        ctx.statements += 1
    finally:
        con.close()


# one row is enough to compile every expression (a window flag over the whole table would sort it all)
_ONE_ROW = f"(SELECT * FROM {TABLE} LIMIT 1) AS {TABLE}"


def _check_flags(con: duckdb.DuckDBPyConnection, rules: list[Rule], ctx: _Ctx) -> list[Rule]:
    """Drop rules whose SQL DuckDB rejects (e.g. a regex RE2 cannot compile) into not_checked.

    All flags are tried in one statement first; only when that fails is each tried alone to find the culprits.
    """
    flags = [r.flag for r in rules if r.flag is not None]
    if flags:
        try:
            ctx.statements += 1
            con.execute(f"SELECT {', '.join(f'({f})' for f in flags)} FROM {_ONE_ROW}").fetchall()
            return rules
        except duckdb.Error:
            pass
    kept = []
    for rule in rules:
        if rule.flag is None:
            kept.append(rule)
            continue
        try:
            ctx.statements += 1
            con.execute(f"SELECT ({rule.flag}) FROM {_ONE_ROW}").fetchall()
            kept.append(rule)
        except duckdb.Error as exc:
            what = f"{rule.kind} of {rule.question}" if rule.question else rule.kind
            ctx.not_checked.append(f"{what}: {rule.describe} ({str(exc).splitlines()[0][:120]})")
    return kept


# ------------------------------------------------------------------------------------------------ GX


class _DuckDBDialect(str):
    """Stands in for a GXSqlDialect member: equal to 'duckdb' and with the `.value` GX reads."""

    value = "duckdb"


def enable_gx_duckdb() -> bool:
    """Make GX keep one DuckDB connection per engine (else metric results come back empty).

    Touches a private GX name (see STACK-NOTES); returns False when this GX version lacks it, and the
    caller falls back to pandas. tests/test_validation.py fails when a GX upgrade breaks this.
    """
    try:
        import great_expectations.execution_engine.sqlalchemy_execution_engine as sae
    except ImportError:
        return False
    dialects = getattr(sae, "_PERSISTED_CONNECTION_DIALECTS", None)
    if not isinstance(dialects, tuple):
        return False
    if not any(d == "duckdb" for d in dialects):
        sae._PERSISTED_CONNECTION_DIALECTS = (*dialects, _DuckDBDialect("duckdb"))
    return True


def sql_route_available() -> bool:
    try:
        import duckdb_engine  # noqa: F401
    except ImportError:
        return False
    return enable_gx_duckdb()


def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def _expectation(rule: Rule, index: int, query_flag: bool):
    from great_expectations.expectations.registry import get_expectation_impl

    meta = {"rule": index, "kind": rule.kind, "question": rule.question, "template": rule.template}
    if rule.flag is not None and query_flag:
        flag = _gx_query_text(rule.flag)
        cls = get_expectation_impl("unexpected_rows_expectation")
        return cls(unexpected_rows_query=f"SELECT _row FROM (SELECT _row, ({flag}) AS _fail FROM {{batch}}) AS t "
                                         "WHERE _fail", description=rule.describe, meta=meta)
    if rule.flag is not None:  # pandas route: the flag is a helper column
        cls = get_expectation_impl("expect_column_values_to_be_in_set")
        return cls(column=f"__rule_{index}", value_set=[False], description=rule.describe, meta=meta)
    cls = get_expectation_impl(rule.gx_type)
    return cls(**rule.kwargs, meta=meta)


# SQLAlchemy's text() (GX wraps every UnexpectedRows query in it) reads ":name" as a bind parameter and turns
# "\\:name" back into ":name"; these are its own patterns (SQLAlchemy 2.x), pinned by a test.
_SA_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?![:\w])")
_SA_BIND_ESCAPED = re.compile(r"\\(:\w*)(?![:\w])")


def _gx_query_text(sql: str) -> str:
    """Our SQL as GX must receive it: braces doubled (GX formats {batch}) and colons SQLAlchemy would bind escaped.

    Unescaped, a regex like `(?:food|water)` in a select_multiple rule becomes the bind parameter `:food`: the
    metric fails, and GX then re-runs every ready metric of the batch up to three times per failing metric
    (validation_graph._resolve retries), which multiplied the statement count ~25x.
    """
    sql = _SA_BIND_ESCAPED.sub(lambda m: "\\\\" + m.group(1), sql)  # keep a literal "\\:x" as it is
    sql = _SA_BIND.sub(lambda m: "\\:" + m.group(1), sql)
    return sql.replace("{", "{{").replace("}", "}}")


# SQL route: BASIC gives pass/fail, the unexpected count and (for built-ins) GX's own query for the failing
# rows, which is all we need: the rows are then read with that query (or the rule's flag) in one pass.
# COMPLETE would also fetch index lists and value counts per expectation, and costs more in graph building.
_RESULT_FORMAT_SQL = {"result_format": "BASIC", "unexpected_index_column_names": ["_row"],
                      "return_unexpected_index_query": True, "partial_unexpected_count": 0}
# pandas route: GX has no row query there, so the complete index lists are needed
_RESULT_FORMAT_PANDAS = {"result_format": "COMPLETE", "unexpected_index_column_names": ["_row"],
                         "return_unexpected_index_query": True, "partial_unexpected_count": 20}


def _run_suite(batch_definition, rules: list[Rule], *, sql: bool, batch_parameters=None):
    """Validate the generated suite on the batch with GX's validator (no result store: nothing reads it)."""
    import great_expectations as gx
    from great_expectations.validator.v1_validator import Validator

    suite = gx.ExpectationSuite(name="form_rules",
                                expectations=[_expectation(rule, i, sql) for i, rule in enumerate(rules)])
    validator = Validator(batch_definition=batch_definition, batch_parameters=batch_parameters,
                          result_format=_RESULT_FORMAT_SQL if sql else _RESULT_FORMAT_PANDAS)
    return validator.validate_expectation_suite(suite)


def _exception_message(info) -> str | None:
    """GX reports an expectation's own error flat, a failed metric as {metric id: ExceptionInfo}."""
    if not info:
        return None
    if isinstance(info, dict) and ("exception_message" in info or "raised_exception" in info):
        return info.get("exception_message") if info.get("raised_exception", True) else None
    items = info.values() if isinstance(info, dict) else [info]
    for item in items:
        message = item.get("exception_message") if isinstance(item, dict) else getattr(item, "exception_message", None)
        if message:
            return str(message)
    return None


def _outcomes(results, *, sql: bool) -> dict[int, RuleOutcome]:
    out: dict[int, RuleOutcome] = {}
    for res in results.results:
        index = int(res.expectation_config.meta["rule"])
        r = res.result or {}
        err = _exception_message(res.exception_info) if not res.success else None
        if res.expectation_config.type == "unexpected_rows_expectation":
            count = int(r.get("observed_value") or 0)
            rows = None
        else:
            count = int(r.get("unexpected_count") or 0)
            idx = r.get("unexpected_index_list")
            rows = [int(x["_row"]) for x in idx] if isinstance(idx, list) and len(idx) == count else None
        query = r.get("unexpected_index_query") if sql and isinstance(r.get("unexpected_index_query"), str) else None
        out[index] = RuleOutcome(success=bool(res.success), unexpected=count, rows=rows, index_query=query,
                                 error=err if err and not count else None)
    return out


def run_sql_route(rules: list[Rule], db_path: Path, timings: dict[str, float] | None = None) -> dict[int, RuleOutcome]:
    started = time.perf_counter()
    context = _context()
    source = context.data_sources.add_sql(name="staging", connection_string=f"duckdb:///{db_path}")
    asset = source.add_table_asset(name="rows", table_name=TABLE)
    batch = asset.add_batch_definition_whole_table("file")
    if timings is not None:
        timings["gx_setup"] = time.perf_counter() - started
    try:
        return _outcomes(_run_suite(batch, rules, sql=True), sql=True)
    finally:
        _close_engine(source)


def _close_engine(source) -> None:
    """Release GX's DuckDB connections (its engine and the data source's own) so the file can be reopened."""
    for close in (lambda: source.get_execution_engine().close(), lambda: source.get_engine().dispose()):
        try:
            close()
        except Exception:  # best effort: a connection GX already closed raises here
            log.debug("closing a GX connection failed", exc_info=True)


def run_pandas_route(rules: list[Rule], db_path: Path) -> dict[int, RuleOutcome]:
    con = duckdb.connect(str(db_path))
    try:
        flags = "".join(f", coalesce(({r.flag}), false) AS __rule_{i}" for i, r in enumerate(rules) if r.flag)
        frame = con.execute(f"SELECT *{flags} FROM {TABLE}").df()
    finally:
        con.close()
    context = _context()
    asset = context.data_sources.add_pandas(name="staging").add_dataframe_asset(name="rows")
    batch = asset.add_batch_definition_whole_dataframe("file")
    return _outcomes(_run_suite(batch, rules, sql=False, batch_parameters={"dataframe": frame}),
                     sql=False)


# ------------------------------------------------------------------------------------------------ rows


def _failing_rows_sql(rule: Rule, outcome: RuleOutcome) -> str | None:
    if rule.flag is not None:
        return f"SELECT _row FROM (SELECT _row, ({rule.flag}) AS _fail FROM {TABLE}) AS t WHERE _fail"
    if outcome.index_query:
        return f"SELECT _row FROM ({outcome.index_query.strip().rstrip(';')}) AS t"
    return None


def _show(ctx: _Ctx, col: str | None, value: Any) -> str:
    if value is None or value == "":
        return "(blank)"
    if col is not None and _is_private(ctx, col):
        return REDACTED
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_private(ctx: _Ctx, col: str) -> bool:
    if col not in ctx.private_cols:
        ctx.private_cols[col] = _is_private_column(ctx, col)
    return ctx.private_cols[col]


def _is_private_column(ctx: _Ctx, col: str) -> bool:
    owner = next((c.question for c in ctx.staged.columns if c.name == col), None)
    header = ctx.headers.get(col, col)
    qtype = ctx.form.questions[owner].type if owner in ctx.form.questions else None
    return (is_private_column(col, owner, ctx.private) or header in ctx.private or header in PERSONAL_METADATA
            or qtype in FREE_TEXT_TYPES)


def _value_columns(rule: Rule) -> list[str]:
    return [c for c in (rule.value_columns or ((rule.column,) if rule.column else ())) if c]


def _value_sql(ctx: _Ctx, rule: Rule, col: str) -> str:
    if col == "__options__":
        return _options_as_text(ctx.staged.option_columns(rule.question or ""))
    return q(col)


def _rows_query(rule: Rule, outcome: RuleOutcome) -> str | None:
    query = _failing_rows_sql(rule, outcome)
    if query is None and outcome.rows is not None:
        query = "SELECT unnest([" + ", ".join(str(int(r)) for r in outcome.rows) + "]::BIGINT[]) AS _row"
    return query


def _file_level_problem(rule: Rule, outcome: RuleOutcome) -> Problem:
    if not rule.row_level:
        return Problem(expectation=rule.gx_type, kind=rule.kind, action=rule.action,
                       reason=f"{rule.describe}: the check failed for the file as a whole")
    return Problem(expectation=rule.gx_type, kind=rule.kind, action=rule.action,
                   reason=f"{rule.describe}: {outcome.unexpected} row(s) fail; rows could not be listed")


def _failing_rows(con: duckdb.DuckDBPyConnection, failed: list[tuple[int, Rule, RuleOutcome]],
                  ctx: _Ctx) -> dict[int, list[tuple]]:
    """(row, sid, *values) of every failing row of every failed rule, in one statement.

    The flags of the failed UnexpectedRows rules are evaluated together in one pass over the table; the
    built-ins contribute GX's own unexpected-index query; then one join fetches ids and values.
    """
    if not failed:
        return {}
    flagged = [(i, rule) for i, rule, _ in failed if rule.flag is not None]
    branches = []
    if flagged:
        cols = ", ".join(f"({rule.flag}) AS __f{i}" for i, rule in flagged)
        hits = ", ".join(f"CASE WHEN __f{i} THEN {i} END" for i, _ in flagged)
        where = " OR ".join(f"__f{i}" for i, _ in flagged)
        branches.append(f"SELECT unnest(list_filter([{hits}], lambda x: x IS NOT NULL)) AS __rule, _row "
                        f"FROM (SELECT _row, {cols} FROM {TABLE}) AS t WHERE {where}")
    for i, rule, outcome in failed:
        if rule.flag is None:
            branches.append(f"SELECT {i} AS __rule, _row FROM ({_rows_query(rule, outcome)}) AS t")
    values = " ".join(
        f"WHEN {i} THEN [{', '.join(f'CAST({_value_sql(ctx, rule, c)} AS VARCHAR)' for c in _value_columns(rule))}"
        "]::VARCHAR[]" for i, rule, _ in failed)
    sql = (f"WITH h AS (SELECT DISTINCT __rule, _row FROM ({' UNION ALL '.join(branches)}) AS b) "
           f"SELECT h.__rule, d._row, d._sid, CASE h.__rule {values} END "
           f"FROM h JOIN {TABLE} d ON d._row = h._row ORDER BY h.__rule, d._row")
    ctx.statements += 1
    out: dict[int, list[tuple]] = {i: [] for i, _, _ in failed}
    for i, row, sid, vals in con.execute(sql).fetchall():
        out[i].append((row, sid, *vals))
    return out


def _failing_rows_one(con: duckdb.DuckDBPyConnection, rule: Rule, outcome: RuleOutcome, ctx: _Ctx) -> list[tuple]:
    """The same for one rule (fallback when the combined statement fails)."""
    selects = ["d._row", "d._sid", *(_value_sql(ctx, rule, c) for c in _value_columns(rule))]
    sql = (f"SELECT {', '.join(selects)} FROM {TABLE} d SEMI JOIN ({_rows_query(rule, outcome)}) f "
           "ON d._row = f._row ORDER BY d._row")
    ctx.statements += 1
    return con.execute(sql).fetchall()


def _problems_for(rule: Rule, outcome: RuleOutcome, ctx: _Ctx, found: list[tuple]) -> list[Problem]:
    label = ctx.label(rule.question) if rule.question else ""
    column_header = ctx.headers.get(rule.column or "", rule.column)
    value_cols = _value_columns(rule)
    if outcome.unexpected and len(found) != outcome.unexpected and rule.gx_type != "expect_column_pair_values_to_be_in_set":
        log.warning("rule %s: GX counted %s failing rows, the row query found %s", rule.describe,
                    outcome.unexpected, len(found))
    redact = bool(rule.column) and _is_private(ctx, rule.column)
    problems = []
    for row, sid, *values in found:
        shown = {c: _show(ctx, c, v) for c, v in zip(value_cols, values, strict=True)}
        by_col = dict(zip(value_cols, values, strict=True))
        value = by_col.get(rule.column or "", values[0] if values else None)
        fields = {
            "label": label,
            "value": shown.get(rule.column or "", _show(ctx, rule.column, value)) if rule.column else "",
            "a": shown.get(value_cols[0], "") if value_cols else "",
            "b": shown.get(value_cols[1], "") if len(value_cols) > 1 else "",
            "others": ", ".join(f"{ctx.headers.get(c, c)} {shown[c]}" for c in value_cols[1:]),
            "values": ", ".join(f"{ctx.headers.get(c, c)} {shown[c]}" for c in value_cols) or rule.describe,
            "tokens": _bad_tokens(rule, value, ctx),
        }
        if value_cols and value_cols[-1] == "__options__":
            fields["b"] = shown["__options__"] if shown["__options__"] != "(blank)" else "(none selected)"
        raw = None if value is None else str(value)
        problems.append(Problem(
            expectation=rule.gx_type, kind=rule.kind, action=rule.action, row=int(row),
            submission_id=None if sid is None else str(sid), column=column_header,
            value=REDACTED if raw is not None and redact else raw,
            reason=rule.template.format(**fields).strip(),
        ))
    return problems


def _bad_tokens(rule: Rule, value: Any, ctx: _Ctx) -> str:
    if not rule.choices or value is None:
        return ""
    bad = [t for t in str(value).split() if t not in rule.choices]
    if rule.column and _is_private(ctx, rule.column):
        return "some options are"
    return (", ".join(f"'{t}'" for t in bad) + (" is" if len(bad) == 1 else " are")) if bad else ""


# ------------------------------------------------------------------------------------------------ entry


def validate(staged: Staged, form: XLSForm, settings: Settings, *, workdir: Path,
             route: str = "auto", timings: dict[str, float] | None = None) -> ValidationResult:
    """Run the form's rules on one staged file; never raises for bad data (bad rows become Problems).

    route: "auto" (GX on DuckDB when available, else pandas), "sql" or "pandas".
    timings: when given, filled with seconds per phase and the number of SQL statements run here.
    """
    timings = {} if timings is None else timings
    clock = time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[phase] = timings.get(phase, 0.0) + now - clock
        clock = now

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    rules, ctx = build_rules(staged, form, settings)
    lap("rules")
    db_path = workdir / "validation.duckdb"
    prepare_duckdb(staged, ctx, db_path, materialize=staged.rows <= 50_000)
    con = duckdb.connect(str(db_path))
    try:
        rules = _check_flags(con, rules, ctx)
    finally:
        con.close()
    lap("prepare")
    use_sql = route == "sql" or (route == "auto" and sql_route_available())
    if use_sql and not enable_gx_duckdb():
        raise RuntimeError("the GX DuckDB route is not available with this Great Expectations version")
    outcomes = run_sql_route(rules, db_path, timings) if use_sql else run_pandas_route(rules, db_path)
    lap("gx")
    log.info("GX ran %d expectations in %.1f s", len(rules), timings["gx"])

    problems: list[Problem] = []
    failed = []
    for i, rule in enumerate(rules):
        outcome = outcomes.get(i)
        if outcome is None or outcome.success:
            continue
        if outcome.error:
            what = f"{rule.kind} of {rule.question}" if rule.question else rule.kind
            ctx.not_checked.append(f"{what}: {rule.describe} (the check could not run: {outcome.error[:160]})")
        elif rule.row_level and _rows_query(rule, outcome) is not None:
            failed.append((i, rule, outcome))
        else:
            problems.append(_file_level_problem(rule, outcome))
    sql_started = time.perf_counter()
    con = duckdb.connect(str(db_path))
    try:
        try:
            found = _failing_rows(con, failed, ctx)
        except duckdb.Error:
            log.warning("listing failing rows in one statement failed; listing them rule by rule", exc_info=True)
            found = {i: _failing_rows_one(con, rule, outcome, ctx) for i, rule, outcome in failed}
    finally:
        con.close()
    timings["rows_sql"] = time.perf_counter() - sql_started
    for i, rule, outcome in failed:
        problems += _problems_for(rule, outcome, ctx, found[i])
    lap("rows")
    log.info("failing rows of %d rules read in %.1f s", len(failed), timings["rows"])
    problems.sort(key=lambda p: (p.row is None, p.row or 0))
    result = ValidationResult(problems=problems, not_checked=list(dict.fromkeys(ctx.not_checked)), rules=len(rules))
    from .docs import write_validation_docs

    result.docs_path = str(write_validation_docs(
        workdir / "validation.html", file_name=staged.path.name, route="GX on DuckDB (SQL)" if use_sql else
        "GX on pandas", rules=[(r.kind, r.gx_type, r.describe, outcomes.get(i)) for i, r in enumerate(rules)],
        not_checked=result.not_checked))
    lap("docs")
    timings["statements"] = ctx.statements
    return result
