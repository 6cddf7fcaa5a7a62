"""What a rule is: `Rule` (one GX expectation on the staged file) and `RuleContext` (the file, form and
settings rules are built against, plus what validation learns on the way). `build.py` builds the rules.

A file is checked table by table: its households, then each repeat group it holds (`RuleContext.repeat`). In a
repeat's table a `${q}` resolves within the same instance first, then in its ancestors (the parent instance,
..., the household), whose answers are joined onto each member row as `__up__<q>` columns, as in XLSForm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.problems import Action, Kind
from ..core.settings import Settings
from ..core.sqlutil import quote as q
from ..core.xlsform import XLSForm
from ..core.xpath import RepeatContext, Untranslatable
from ..read.export import Staged, StagedRepeat
from .sqlrewrite import options_as_text

TABLE = "data"  # the DuckDB table (or view) of the staged rows every rule's SQL reads
ANCESTOR_PREFIX = "__up__"  # an enclosing instance's (or the household's) answer joined onto a member row
COUNT_PREFIX = "__count__"  # the number of instances of a repeat group here (count(), repeat_count)
INDEXED_PREFIX = "__ir_"  # columns of the `__m_<repeat>` views indexed-repeat() reads


@dataclass
class Rule:
    """One rule = one GX expectation; `flag` is SQL true on a failing row (for UnexpectedRows/pandas).

    The expectation's `meta` says which rule it is (its index), so GX's results map back to rules.
    """

    kind: str  # a Kind value (custom rules may name their own kind in settings)
    gx_type: str
    kwargs: dict[str, Any]
    describe: str  # the rule in plain language (Data Docs, receipts)
    template: str  # reason for one row: {label} {value} {a} {b} {tokens} placeholders
    question: str | None = None
    column: str | None = None  # staged column whose value the problem shows
    value_columns: tuple[str, ...] = ()
    flag: str | None = None
    choices: tuple[str, ...] = ()
    action: str = Action.QUARANTINE
    # SQL true on the rows the rule applies to (answered, or asked for `required`); None: every row. The
    # denominator of the "fails on most rows: probably a form problem" test (suite.FORM_PROBLEM_SHARE).
    applies: str | None = None

    @property
    def row_level(self) -> bool:
        return (
            self.flag is not None
            or "column" in self.kwargs
            or "column_A" in self.kwargs
            or "column_list" in self.kwargs
        )


@dataclass
class RuleContext:
    """One staged file with its form and settings, as the rules see it; collects what could not be checked."""

    staged: Staged | StagedRepeat  # the table checked: the households, or one repeat group's member rows
    form: XLSForm
    settings: Settings
    language: str
    private_questions: set[str]  # questions whose answers are never shown
    question_columns: dict[str, str]  # question -> staged column (summary column)
    column_headers: dict[str, str]  # staged column -> export header
    number_helpers: dict[str, str] = field(default_factory=dict)  # staged column -> typed helper column
    not_checked: list[str] = field(default_factory=list)
    not_enforced: list[str] = field(default_factory=list)  # form rules on fields nobody answers: not applied
    suspect_rules: list[str] = field(default_factory=list)  # rules failing on most rows: kept as warnings
    # staged select column -> (choice codes, select_multiple?): `2019.0` is read as the code `2019`
    code_columns: dict[str, tuple[tuple[str, ...], bool]] = field(default_factory=dict)
    redacted_columns: dict[str, bool] = field(default_factory=dict)  # staged column -> shown redacted (memo)
    sql_statements: int = 0  # SQL statements validation ran on DuckDB itself (GX's own are not counted here)
    household: Staged | None = None  # the file (its households and the repeat groups it holds)
    repeat: str | None = None  # the repeat group this table holds; None: the households
    ancestor_columns: dict[str, str] = field(default_factory=dict)  # `__up__<q>` column -> question q
    count_columns: dict[str, str] = field(
        default_factory=dict
    )  # column -> SQL counting a repeat's rows `c` here
    indexed: dict[str, dict[str, str]] = field(
        default_factory=dict
    )  # repeat -> {view column: SQL on its rows}

    @property
    def member(self) -> str | None:
        """The sheet / zip member of this table's rows (None for the households)."""
        return self.staged.member if isinstance(self.staged, StagedRepeat) else None

    @property
    def file_repeats(self) -> dict[str, StagedRepeat]:
        return self.household.repeats if self.household is not None else {}

    def label(self, question: str) -> str:
        text = " ".join(self.form.label(question, self.language).split())
        return text if len(text) <= 70 else text[:67].rstrip() + "..."

    def action_for(self, kind: str) -> str:
        default = Action.WARN if kind == Kind.CONSISTENCY else self.settings.on_fail
        return self.settings.policy.get(kind, default)

    def resolve(self, name: str) -> tuple[str, str]:
        """SQL and type of question `name` (the xpath translator's resolver for ${name})."""
        question = self.form.questions.get(name)
        if question is None:
            raise Untranslatable(f"${{{name}}} is not a question of the form")
        if name in self.question_columns:
            return q(self.question_columns[name]), question.type
        if (
            question.repeat is not None
            and question.repeat != self.repeat
            and question.repeat not in self.ancestors(self.repeat)
        ):
            raise Untranslatable(
                f"${{{name}}} is inside the repeat group '{question.repeat}' (one answer per "
                "instance, not one answer here)"
            )
        options = self.staged.option_columns(name)
        if options:
            return options_as_text(options), question.type
        raise Untranslatable(f"${{{name}}} is not a column of this file")

    # repeat groups ---------------------------------------------------------------------------------------
    def ancestors(self, repeat: str | None) -> list[str]:
        """The repeat groups enclosing `repeat`, innermost first."""
        out: list[str] = []
        while repeat is not None and (parent := self.form.repeats[repeat].parent) is not None:
            out.append(parent)
            repeat = parent
        return out

    def repeat_context(self) -> RepeatContext:
        return RepeatContext(
            position="_pos" if self.repeat else None, count=self.count_sql, indexed=self.indexed_sql
        )

    def _file_repeat(self, repeat: str) -> StagedRepeat:
        if repeat not in self.form.repeats:
            raise Untranslatable(f"${{{repeat}}} is not a repeat group of the form")
        if repeat not in self.file_repeats:
            raise Untranslatable(f"the repeat group '{repeat}' is not in this file")
        return self.file_repeats[repeat]

    def count_sql(self, repeat: str) -> str:
        """`count(${repeat})` here: a column of the data table counting the repeat's rows (alias `c`) that belong
        to this row (alias `d`): within this instance, or beside it, or in the household."""
        self._file_repeat(repeat)
        rep = self.form.repeats[repeat]
        if self.repeat is None:
            cond = "c._hh_row = d._row"
        elif self.repeat in self.ancestors(repeat):
            cond = "c._hh_row = d._hh_row AND starts_with(c._parent_path || '/', d._path || '/')"
        elif rep.parent == self.form.repeats[self.repeat].parent:
            cond = "c._hh_row = d._hh_row AND c._parent_path = d._parent_path"
        elif rep.parent is None:
            cond = "c._hh_row = d._hh_row"
        else:
            raise Untranslatable(f"count(${{{repeat}}}) from inside '{self.repeat}'")
        column = COUNT_PREFIX + repeat
        self.count_columns[column] = cond
        self.column_headers.setdefault(column, f"rows of {repeat}")
        return q(column)

    def indexed_sql(self, question: str, repeat: str, n_sql: str) -> tuple[str, str]:
        """`indexed-repeat(${question}, ${repeat}, n)`: the answer in instance n of the repeat (in the household
        for a top-level repeat, else beside this instance or inside it)."""
        table = self._file_repeat(repeat)
        found = self.form.questions.get(question)
        if found is None or found.repeat != repeat:
            raise Untranslatable(f"indexed-repeat(): ${{{question}}} is not a question of '{repeat}'")
        col = table.question_columns.get(question)
        options = table.option_columns(question)
        if col is None and not options:
            raise Untranslatable(f"indexed-repeat(): ${{{question}}} is not a column of '{table.member}'")
        rep = self.form.repeats[repeat]
        hh = "_row" if self.repeat is None else "_hh_row"
        if rep.parent is None:
            where = f"__ir_hh = {hh}"
        elif self.repeat is not None and repeat == self.repeat:
            where = "__ir_hh = _hh_row AND __ir_parent = _parent_path"
        elif self.repeat is not None and rep.parent == self.repeat:
            where = "__ir_hh = _hh_row AND __ir_parent = _path"
        else:
            raise Untranslatable(f"indexed-repeat() of '{repeat}' from here")
        view_col = INDEXED_PREFIX + question
        self.indexed.setdefault(repeat, {})[view_col] = q(col) if col else options_as_text(options)
        view = q("__m_" + repeat)
        return (
            f"(SELECT {q(view_col)} FROM {view} WHERE {where} AND __ir_pos = CAST({n_sql} AS BIGINT) LIMIT 1)",
            found.type,
        )
