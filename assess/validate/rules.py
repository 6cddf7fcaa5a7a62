"""What a rule is: `Rule` (one GX expectation on the staged file) and `RuleContext` (the file, form and
settings rules are built against, plus what validation learns on the way). `build.py` builds the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.problems import Action, Kind
from ..core.settings import Settings
from ..core.sqlutil import quote as q
from ..core.xlsform import XLSForm
from ..core.xpath import Untranslatable
from ..read.export import Staged
from .sqlrewrite import options_as_text

TABLE = "data"  # the DuckDB table (or view) of the staged rows every rule's SQL reads


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
        return self.flag is not None or "column" in self.kwargs or "column_A" in self.kwargs \
            or "column_list" in self.kwargs


@dataclass
class RuleContext:
    """One staged file with its form and settings, as the rules see it; collects what could not be checked."""

    staged: Staged
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
        options = self.staged.option_columns(name)
        if options:
            return options_as_text(options), question.type
        raise Untranslatable(f"${{{name}}} is not a column of this file")
