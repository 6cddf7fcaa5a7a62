"""How the rules of one staged file are built from the XLSForm and settings: `build_rules` and one builder
per kind (required answers where relevant, choice codes, number parsing, constraints, submission id,
collection window, region codes, rules from `[[validation.expect]]`).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from ..core.privacy import private_questions
from ..core.problems import Kind
from ..core.settings import Settings
from ..core.sqlutil import quote as q
from ..core.xlsform import STRUCTURE_TYPES, Question, XLSForm
from ..core.xpath import Untranslatable, references, simple_range, to_sql, to_sql_number
from ..read.export import Staged
from .gx import known_expectation
from .rules import ANCESTOR_PREFIX, Rule, RuleContext
from .sqlrewrite import (
    all_tokens_in,
    cheap_token_counts,
    first10_trimmed,
    integer_codes,
    options_as_text,
    summary_disagrees,
)

NUM_SUFFIX = "__num"
WINDOW_COLUMNS = ("_submission_time", "SubmissionDate", "start")
# Media questions: the export holds a file name (or nothing, depending on attachments), so `required` is not
# checked for them. Types nobody answers are skipped altogether (NOT_ANSWERED_TYPES below).
MEDIA_TYPES = {"image", "audio", "video", "file"}
# Types nobody answers (computed, or recorded by the device): ODK and Kobo check `constraint` and `required` only
# on questions a person answers, so data collection never enforced them here and they are not applied (a
# constraint on a calculate can fail on every row: issue 14). Listed as "not enforced at collection".
NOT_ANSWERED_TYPES = {
    "calculate",
    "hidden",
    "start",
    "end",
    "today",
    "deviceid",
    "username",
    "simserial",
    "subscriberid",
    "phonenumber",
    "email",
    "audit",
    "start-geopoint",
    "background-audio",
    "xml-external",
    "csv-external",
    "note",
}
_CHOICE_FILTER = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*=\s*\$\{\s*([^}\s]+)\s*\}\s*$")
_CHOICE_FILTER_REV = re.compile(r"^\s*\$\{\s*([^}\s]+)\s*\}\s*=\s*([A-Za-z_][\w.\-]*)\s*$")


def _esc(text: str) -> str:
    """Form text placed inside a reason template (labels, messages, expressions carry braces)."""
    return text.replace("{", "{{").replace("}", "}}")


def _num(v: float | None) -> str:
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else str(v)


def build_rules(staged: Staged, form: XLSForm, settings: Settings) -> tuple[list[Rule], RuleContext]:
    """The rules of one staged file's households (pure: no GX, no data read)."""
    language = form.language.column
    headers = {c.name: c.header.strip() for c in staged.columns}
    ctx = RuleContext(
        staged=staged,
        form=form,
        settings=settings,
        language=language,
        private_questions=private_questions(form, settings),
        question_columns=staged.question_columns,
        column_headers=headers,
        household=staged,
    )
    _number_helpers(ctx, form.answer_questions)
    for note in form.questions.values():  # notes have no column (not answer questions) but may carry rules
        if note.type == "note" and not note.in_repeat:
            _not_enforced(ctx, note)
    rules: list[Rule] = [
        Rule(
            kind=Kind.UNIQUE,
            gx_type="expect_column_values_to_not_be_null",
            kwargs={"column": "_sid"},
            describe="every row has a submission id",
            column="_sid",
            template="the submission id is empty: the row cannot be matched to a submission",
        ),
        Rule(
            kind=Kind.UNIQUE,
            gx_type="unexpected_rows_expectation",
            kwargs={},
            describe="each submission id appears once in the file",
            column="_sid",
            flag="_sid IS NOT NULL AND row_number() OVER (PARTITION BY _file, _sid ORDER BY _row) > 1",
            template="submission id {value} appears earlier in this file: this later copy is kept aside",
        ),
    ]
    for question in form.answer_questions:
        rules += _question_rules(ctx, question)
    rules += _repeat_count_rules(ctx)
    rules += _window_rules(ctx)
    rules += _custom_rules(ctx)
    for rule in rules:
        rule.action = ctx.action_for(rule.kind)
    return rules, ctx


def build_repeat_rules(
    staged: Staged, repeat: str, form: XLSForm, settings: Settings
) -> tuple[list[Rule], RuleContext]:
    """The rules of one repeat group's member rows in a staged file: the form's rules of the repeat's questions
    (a `${q}` read in the same instance first, then in its ancestors), each member row linked to its household
    (and parent instance), and the repeat counts of its child repeat groups."""
    table = staged.repeats[repeat]
    headers = {c.name: c.header.strip() for c in table.columns}
    ctx = RuleContext(
        staged=table,
        form=form,
        settings=settings,
        language=form.language.column,
        private_questions=private_questions(form, settings),
        question_columns=dict(table.question_columns),
        column_headers=headers,
        household=staged,
        repeat=repeat,
    )
    _ancestor_columns(ctx)
    questions = [q for q in form.questions.values() if q.repeat == repeat and q.type not in STRUCTURE_TYPES]
    _number_helpers(ctx, questions)
    name = _esc(repeat)
    rules: list[Rule] = [
        Rule(
            kind=Kind.UNIQUE,
            gx_type="unexpected_rows_expectation",
            kwargs={},
            describe=f"{name}: every row belongs to a household row of this file",
            column="_sid",
            flag="_hh_row IS NULL",
            template="this row of '" + name + "' belongs to no household row of this file (its link to the "
            "household is missing or wrong): it cannot be matched to a submission",
        ),
        Rule(
            kind=Kind.UNIQUE,
            gx_type="unexpected_rows_expectation",
            kwargs={},
            describe=f"{name}: every row belongs to a row of its parent repeat group in this file",
            column="_sid",
            flag="_hh_row IS NOT NULL AND NOT __parent_found",
            template="this row of '" + name + "' belongs to no row of its parent repeat group in this file",
        ),
        Rule(
            kind=Kind.UNIQUE,
            gx_type="unexpected_rows_expectation",
            kwargs={},
            describe=f"{name}: each instance appears once in the file",
            column="_sid",
            flag="_hh_row IS NOT NULL AND row_number() OVER (PARTITION BY _hh_row, _path ORDER BY _row) > 1",
            template="this instance of '"
            + name
            + "' appears earlier in this file: this later copy is kept aside",
        ),
    ]
    for question in questions:
        rules += _question_rules(ctx, question)
    rules += _repeat_count_rules(ctx)
    for rule in rules:
        rule.action = ctx.action_for(rule.kind)
    return rules, ctx


def _number_helpers(ctx: RuleContext, questions: list[Question]) -> None:
    used = set(ctx.column_headers) | {"_row", "_sid", "_file"}
    for question in questions:
        col = ctx.question_columns.get(question.name)
        if col and question.is_numeric and col not in ctx.ancestor_columns:
            helper = col + NUM_SUFFIX
            while helper in used:
                helper += "_"
            used.add(helper)
            ctx.number_helpers[col] = helper
        if (
            col
            and question.is_select
            and col not in ctx.ancestor_columns
            and integer_codes(choices := ctx.form.choice_names(question.name))
        ):
            ctx.code_columns[col] = (tuple(choices), question.type == "select_multiple")


def _ancestor_columns(ctx: RuleContext) -> None:
    """Questions of the enclosing instances and of the household, readable from a member row (innermost first:
    an answer of the same instance wins, then its parent's, ..., then the household's)."""
    levels: list[str | None] = [*ctx.ancestors(ctx.repeat), None]
    for level in levels:
        table = ctx.household if level is None else ctx.file_repeats.get(level)
        if table is None:
            continue
        for question in ctx.form.questions.values():
            if (
                question.repeat != level
                or question.type in STRUCTURE_TYPES
                or question.name in ctx.question_columns
            ):
                continue
            if question.name in table.question_columns or table.option_columns(question.name):
                alias = ANCESTOR_PREFIX + question.name
                ctx.question_columns[question.name] = alias
                ctx.ancestor_columns[alias] = question.name
                source = table.question_columns.get(question.name)
                ctx.column_headers[alias] = next(
                    (c.header.strip() for c in table.columns if c.name == source), question.name
                )


def _repeat_count_rules(ctx: RuleContext) -> list[Rule]:
    """The number of rows of each child repeat group against its `repeat_count` (e.g. `${hh_size}`): a warning
    (kind `consistency`)."""
    out: list[Rule] = []
    for rep in ctx.form.repeats.values():
        if rep.parent != ctx.repeat or not rep.repeat_count:
            continue
        if rep.name not in ctx.file_repeats:
            ctx.not_checked.append(
                f"repeat count of {rep.name}: {rep.repeat_count} (the repeat group is not in this file)"
            )
            continue
        repeats = ctx.repeat_context()
        try:
            expected = to_sql_number(rep.repeat_count, ctx.resolve, repeats=repeats)
            relevant = (
                (
                    f" AND coalesce({cheap_token_counts(to_sql(rep.relevant, ctx.resolve, repeats=repeats))}, "
                    "false)"
                )
                if rep.relevant
                else ""
            )
            refs = sorted(r for r in references(rep.repeat_count) if r in ctx.question_columns)
        except Untranslatable as exc:
            ctx.not_checked.append(f"repeat count of {rep.name}: {rep.repeat_count} ({exc})")
            continue
        counted = ctx.count_sql(rep.name)
        count_col = counted.strip('"')
        shown = ctx.question_columns[refs[0]] if len(refs) == 1 else None
        if shown:
            template = "{label} {a}: the file has {b} row(s) of the repeat group '" + _esc(rep.name) + "'"
        else:
            template = (
                "the file has {a} row(s) of the repeat group '"
                + _esc(rep.name)
                + "', but its repeat count "
                + _esc(rep.repeat_count)
                + " says otherwise"
            )
        out.append(
            Rule(
                kind=Kind.CONSISTENCY,
                gx_type="unexpected_rows_expectation",
                kwargs={},
                describe=f"{rep.name}: as many rows as {rep.repeat_count}",
                template=template,
                question=refs[0] if shown else None,
                column=shown or count_col,
                value_columns=(shown, count_col) if shown else (count_col,),
                flag=f"({expected}) IS NOT NULL AND coalesce({counted}, 0) <> ({expected}){relevant}",
            )
        )
    return out


def _relevance(ctx: RuleContext, question: Question) -> str | None:
    conditions = [*question.group_relevant, question.relevant]
    sqls = [
        f"coalesce({cheap_token_counts(to_sql(c, ctx.resolve, repeats=ctx.repeat_context()))}, false)"
        for c in conditions
        if c
    ]
    return " AND ".join(sqls) if sqls else None


def _not_enforced(ctx: RuleContext, question: Question) -> None:
    what = f"{question.name} (a {question.type})"
    if question.required:
        ctx.not_enforced.append(f"required of {what}")
    if question.constraint:
        ctx.not_enforced.append(f"constraint of {what}: {question.constraint}")


def _question_rules(ctx: RuleContext, question: Question) -> list[Rule]:
    name, label = question.name, ctx.label(question.name)
    if question.type in NOT_ANSWERED_TYPES:
        _not_enforced(ctx, question)
        return []
    col = ctx.question_columns.get(name)
    options = ctx.staged.option_columns(name)
    value_sql = q(col) if col else (options_as_text(options) if options else None)
    out: list[Rule] = []
    if value_sql is None:
        if question.required and question.type not in MEDIA_TYPES:
            ctx.not_checked.append(f"required of {name}: the column is not in this file")
        return out

    if question.required and question.type not in MEDIA_TYPES:
        try:
            rel = _relevance(ctx, question)
        except Untranslatable as exc:
            conds = " and ".join(c for c in (*question.group_relevant, question.relevant) if c)
            ctx.not_checked.append(f"required of {name}: relevant {conds} ({exc})")
        else:
            if rel is None and col:
                out.append(
                    Rule(
                        kind=Kind.REQUIRED,
                        gx_type="expect_column_values_to_not_be_null",
                        kwargs={"column": col},
                        describe=f"{label}: an answer is required",
                        template="{label}: no answer, but the question is required",
                        question=name,
                        column=col,
                    )
                )  # applies to every row
            else:
                when = " and ".join(c for c in (*question.group_relevant, question.relevant) if c)
                out.append(
                    Rule(
                        kind=Kind.REQUIRED,
                        gx_type="unexpected_rows_expectation",
                        kwargs={},
                        describe=f"{label}: an answer is required" + (f" when {when}" if when else ""),
                        template="{label}: no answer, but the question is required"
                        + (f" here ({_esc(when)})" if when else ""),
                        question=name,
                        column=col,
                        applies=rel,
                        flag=f"{value_sql} IS NULL" + (f" AND {rel}" if rel else ""),
                    )
                )

    region = name in ctx.settings.region_levels
    kind = Kind.REGION if region else Kind.CHOICE
    choices = tuple(ctx.form.choice_names(name)) if question.is_select else ()
    if question.type == "select_one" and choices and col:
        out.append(
            Rule(
                kind=kind,
                gx_type="expect_column_values_to_be_in_set",
                kwargs={"column": col, "value_set": list(choices)},
                describe=f"{label}: a code of the choice list '{question.list_name}'",
                template="{label} {value}: not a code of the choice list '"
                + _esc(question.list_name or "")
                + "'"
                + (" (not a known region)" if region else ""),
                question=name,
                column=col,
                choices=choices,
                applies=f"{q(col)} IS NOT NULL",
            )
        )
        if question.choice_filter:
            out += _choice_filter_rule(ctx, question, col, kind)
    if question.type == "select_multiple" and choices:
        if col:
            out.append(
                Rule(
                    kind=kind,
                    gx_type="unexpected_rows_expectation",
                    kwargs={},
                    describe=f"{label}: every option is in the choice list '{question.list_name}'",
                    template="{label} {value}: {tokens} not in the choice list '"
                    + _esc(question.list_name or "")
                    + "'",
                    question=name,
                    column=col,
                    choices=choices,
                    applies=f"{q(col)} IS NOT NULL",
                    flag=f"{q(col)} IS NOT NULL AND NOT {all_tokens_in(q(col), choices)}",
                )
            )
        if col and options:
            out.append(
                Rule(
                    kind=Kind.CONSISTENCY,
                    gx_type="unexpected_rows_expectation",
                    kwargs={},
                    describe=f"{label}: the summary column agrees with the option columns",
                    template="{label}: the answer column says {value} but the option columns say {b}; "
                    "the option columns were used",
                    question=name,
                    column=col,
                    value_columns=(col, "__options__"),
                    flag=summary_disagrees(q(col), options),
                )
            )

    if question.is_numeric and col:
        helper = ctx.number_helpers[col]
        integer = question.type == "integer"
        bad = f"{q(col)} IS NOT NULL AND ({q(helper)} IS NULL" + (
            f" OR {q(helper)} <> floor({q(helper)}))" if integer else ")"
        )
        out.append(
            Rule(
                kind=Kind.CONSTRAINT,
                gx_type="unexpected_rows_expectation",
                kwargs={},
                describe=f"{label}: a {'whole ' if integer else ''}number",
                template="{label} {value}: not a %s" % ("whole number" if integer else "number"),
                question=name,
                column=col,
                flag=bad,
                applies=f"{q(col)} IS NOT NULL",
            )
        )

    if question.constraint:
        out += _constraint_rules(ctx, question, col, value_sql)
    return out


def _choice_filter_rule(ctx: RuleContext, question: Question, col: str, kind: str) -> list[Rule]:
    m = _CHOICE_FILTER.match(question.choice_filter)
    filt, parent = (m.group(1), m.group(2)) if m else (None, None)
    if not m and (m2 := _CHOICE_FILTER_REV.match(question.choice_filter)):
        parent, filt = m2.group(1), m2.group(2)
    parent_q = ctx.form.questions.get(parent or "")
    parent_col = ctx.question_columns.get(parent or "")
    choices = ctx.form.choices.get(question.list_name or "", [])
    if not filt or parent_q is None or parent_col is None or not any(filt in c.extra for c in choices):
        ctx.not_checked.append(f"choice filter of {question.name}: {question.choice_filter}")
        return []
    pairs = [[c.extra[filt], c.name] for c in choices if c.extra.get(filt)]
    plabel = ctx.label(parent_q.name)
    return [
        Rule(
            kind=kind,
            gx_type="expect_column_pair_values_to_be_in_set",
            kwargs={
                "column_A": parent_col,
                "column_B": col,
                "value_pairs_set": pairs,
                "ignore_row_if": "either_value_is_missing",
            },
            describe=f"{ctx.label(question.name)} lies inside the chosen {plabel}",
            template=_esc(ctx.label(question.name)) + " {b} is not inside " + _esc(plabel) + " {a}",
            question=question.name,
            column=col,
            value_columns=(parent_col, col),
            applies=f"{q(parent_col)} IS NOT NULL AND {q(col)} IS NOT NULL",
        )
    ]


def _constraint_rules(ctx: RuleContext, question: Question, col: str | None, value_sql: str) -> list[Rule]:
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
        kwargs: dict[str, Any] = {
            "column": ctx.number_helpers[col],
            "min_value": rng.min_value,
            "max_value": rng.max_value,
        }
        if rng.strict_min:
            kwargs["strict_min"] = True
        if rng.strict_max:
            kwargs["strict_max"] = True
        return [
            Rule(
                kind=Kind.CONSTRAINT,
                gx_type="expect_column_values_to_be_between",
                kwargs=kwargs,
                describe=f"{label}: {plain}",
                template="{label} {value}: " + _esc(message or plain),
                question=name,
                column=col,
                applies=f"{q(ctx.number_helpers[col])} IS NOT NULL",
            )
        ]
    try:
        sql = cheap_token_counts(to_sql(expr, ctx.resolve, current=name, repeats=ctx.repeat_context()))
    except Untranslatable as exc:
        ctx.not_checked.append(f"constraint of {name}: {expr} ({exc})")
        return []
    others = sorted(r for r in references(expr) if r != name and r in ctx.question_columns)
    return [
        Rule(
            kind=Kind.CONSTRAINT,
            gx_type="unexpected_rows_expectation",
            kwargs={},
            describe=f"{label}: {expr}",
            template="{label} {value}: "
            + _esc(message or f"breaks the form's rule {expr}")
            + ("" if not others else " ({others})"),
            question=name,
            column=col,
            value_columns=(col or "", *[ctx.question_columns[o] for o in others]),
            applies=f"{value_sql} IS NOT NULL",
            flag=f"{value_sql} IS NOT NULL AND NOT coalesce({sql}, true)",
        )
    ]


def _window_rules(ctx: RuleContext) -> list[Rule]:
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
        ctx.not_checked.append(
            "collection window: the file has no _submission_time, SubmissionDate or start column"
        )
        return []
    day = f"TRY_CAST({first10_trimmed(q(col))} AS DATE)"
    return [
        Rule(
            kind=Kind.WINDOW,
            gx_type="unexpected_rows_expectation",
            kwargs={},
            describe=f"submitted between {start} and {end} ({ctx.column_headers[col]})",
            template=f"submitted {{value}}, outside the collection window {start} to {end}",
            column=col,
            flag=f"{q(col)} IS NOT NULL AND ({day} IS NULL OR {day} NOT BETWEEN DATE '{start}' AND DATE '{end}')",
        )
    ]


_COLUMN_KEYS = ("column", "column_A", "column_B")


def _custom_rules(ctx: RuleContext) -> list[Rule]:
    out: list[Rule] = []
    for spec in ctx.settings.expectations:
        kwargs = dict(spec.kwargs)
        reason = str(kwargs.pop("reason", "") or "")
        if not known_expectation(spec.type):
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
                    kwargs[key] = ctx.number_helpers.get(col, col)
        if "column_list" in kwargs:
            mapped = []
            for name in kwargs["column_list"]:
                col = _custom_column(ctx, str(name))
                if col is None:
                    missing.append(str(name))
                else:
                    shown.append((str(name), col))
                    mapped.append(ctx.number_helpers.get(col, col))
            kwargs["column_list"] = mapped
        if missing:
            ctx.not_checked.append(
                f"custom rule {spec.type}: column(s) {', '.join(missing)} not in this file"
            )
            continue
        names = ", ".join(n for n, _ in shown)
        plain = reason or spec.type.removeprefix("expect_").replace("_", " ")
        out.append(
            Rule(
                kind=spec.kind,
                gx_type=spec.type,
                kwargs=kwargs,
                describe=f"{names}: {plain}" if names else plain,
                template="{values}: " + _esc(plain),
                column=shown[0][1] if shown else None,
                value_columns=tuple(c for _, c in shown),
            )
        )
    return out


def _custom_column(ctx: RuleContext, name: str) -> str | None:
    if name in ctx.question_columns:
        return ctx.question_columns[name]
    return next((c.name for c in ctx.staged.columns if name in (c.name, c.header.strip())), None)
