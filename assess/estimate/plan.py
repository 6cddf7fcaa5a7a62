"""Analysis plans: a list of analyses in the columns of IMPACT's analysistools (the sector's "LOA").

One row = one analysis: ``analysis_type`` (prop_select_one, prop_select_multiple, mean, median, ratio),
``analysis_var`` (or ``analysis_var_numerator`` / ``analysis_var_denominator`` for a ratio), ``group_var``
(none, one or several columns separated by commas), ``level`` (the confidence level), and for a ratio
``numerator_NA_to_0`` / ``filter_denominator_0`` (TRUE by default). Without ``[analysis] plan`` the default
plan is what the ``estimates`` table holds (the needs questions and indicators x the region levels), turned
into results by ``analysis.results_from_estimates``. A mistake in the plan is a
ConfigError naming the plan file, its row and column, and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..core.settings import ConfigError
from ..core.xlsform import XLSForm

__all__ = ["ANALYSIS_TYPES", "Analysis", "check_plan", "read_plan"]

ANALYSIS_TYPES = ("prop_select_one", "prop_select_multiple", "mean", "median", "ratio")
REQUIRED_COLUMNS = ("analysis_type", "analysis_var", "group_var")
_NUMERIC = ("integer", "decimal", "calculate", "range")
_CATEGORICAL = ("select_one", "calculate", "integer", "text")
_TRUE, _FALSE = ("true", "1", "yes", "t"), ("false", "0", "no", "f")


@dataclass(frozen=True)
class Analysis:
    """One analysis of the plan; `row` is its spreadsheet row (the header is row 1)."""

    type: str
    var: str  # analysis_var; for a ratio "numerator %/% denominator"
    groups: tuple[str, ...] = ()
    conf: float = 0.95
    numerator: str = ""
    denominator: str = ""
    na_to_0: bool = True
    filter_denominator_0: bool = True
    row: int = 0

    @property
    def group_var(self) -> str:
        return " %/% ".join(self.groups)

    @property
    def variables(self) -> tuple[str, ...]:
        return (self.numerator, self.denominator) if self.type == "ratio" else (self.var,)


def _flag(value: str, where: str, column: str) -> bool:
    text = value.strip().lower()
    if not text:
        return True
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ConfigError(f"{where}, column '{column}': '{value}' is not TRUE or FALSE; write TRUE or FALSE.")


def read_plan(path: Path) -> list[Analysis]:
    """Read the plan file (CSV or XLSX, first sheet); checks its shape, not its variables (see check_plan)."""
    try:
        if path.suffix.lower() == ".xlsx":
            frame = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
        else:
            frame = pd.read_csv(
                path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=False
            )
    except Exception as exc:  # a broken file: say which and why
        raise ConfigError(
            f"{path}: the analysis plan cannot be read ({exc}); save it as CSV or XLSX."
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ConfigError(
            f"{path}: the analysis plan has no column {', '.join(repr(c) for c in missing)}; its header must "
            "have analysistools' columns (analysis_type, analysis_var, group_var, level, ...)."
        )
    plan = []
    for i, rec in enumerate(frame.to_dict("records"), start=2):

        def get(column: str, rec: dict = rec) -> str:
            return str(rec.get(column, "") or "").strip()

        where = f"{path}: row {i}"
        kind = get("analysis_type")
        if not kind and not any(get(c) for c in frame.columns):
            continue  # a blank line
        if kind not in ANALYSIS_TYPES:
            raise ConfigError(
                f"{where}, column 'analysis_type': '{kind}' is not an analysis type; use one of "
                f"{', '.join(ANALYSIS_TYPES)}."
            )
        level = get("level") or "0.95"
        try:
            conf = float(level)
        except ValueError:
            conf = -1.0
        if not 0 < conf < 1:
            raise ConfigError(
                f"{where}, column 'level': '{level}' is not a confidence level; write e.g. 0.95."
            )
        groups = tuple(g.strip() for g in get("group_var").split(",") if g.strip())
        if len(set(groups)) != len(groups):
            raise ConfigError(f"{where}, column 'group_var': a column is named twice; name it once.")
        if kind == "ratio":
            num, den = get("analysis_var_numerator"), get("analysis_var_denominator")
            for column, value in (("analysis_var_numerator", num), ("analysis_var_denominator", den)):
                if not value:
                    raise ConfigError(f"{where}, column '{column}': a ratio needs it; name the column.")
            plan.append(
                Analysis(
                    "ratio",
                    f"{num} %/% {den}",
                    groups,
                    conf,
                    num,
                    den,
                    _flag(get("numerator_NA_to_0"), where, "numerator_NA_to_0"),
                    _flag(get("filter_denominator_0"), where, "filter_denominator_0"),
                    row=i,
                )
            )
        else:
            var = get("analysis_var")
            if not var:
                raise ConfigError(f"{where}, column 'analysis_var': empty; name the variable to analyse.")
            plan.append(Analysis(kind, var, groups, conf, row=i))
    return plan


def _where(name: str, form: XLSForm, columns: dict[str, set[str]]) -> str | None:
    """The unit a column belongs to: 'household' or a repeat's name; None when it is nowhere. Where the data
    holds it wins (a flattened export carries a repeat's question per household); else where the form asks it."""
    question = form.questions.get(name)
    if question is not None and question.repeat and name in columns.get(question.repeat, set()):
        return question.repeat
    for unit, cols in columns.items():
        if name in cols:
            return unit
    if question is not None:
        return question.repeat or "household"
    return None


def check_plan(
    plan: list[Analysis], path: Path, form: XLSForm, columns: dict[str, set[str]]
) -> dict[int, str]:
    """Check each analysis against the form and the loaded columns (`columns`: unit -> its column names,
    'household' for the households); returns each analysis' unit (by index). ConfigError on the first
    mistake, naming the plan file, row and column."""
    units: dict[int, str] = {}
    for idx, a in enumerate(plan):
        where = f"{path}: row {a.row}"
        var_columns = (
            ("analysis_var_numerator", "analysis_var_denominator") if a.type == "ratio" else ("analysis_var",)
        )
        unit: str | None = None
        for column, name in zip(var_columns, a.variables, strict=True):
            here = _where(name, form, columns)
            if here is None:
                raise ConfigError(
                    f"{where}, column '{column}': '{name}' is neither a question of the form {form.path.name} "
                    "nor a column of the loaded data; fix the name."
                )
            question = form.questions.get(name)
            qtype = question.type if question is not None else None
            wanted = {
                "prop_select_one": _CATEGORICAL,
                "prop_select_multiple": ("select_multiple",),
            }.get(a.type, _NUMERIC)
            if qtype is not None and qtype not in wanted:
                raise ConfigError(
                    f"{where}, column '{column}': '{name}' is a {qtype} question; {a.type} needs a "
                    f"{' or '.join(wanted)} question. Change the analysis_type or the variable."
                )
            if a.type == "prop_select_multiple" and qtype is None:
                raise ConfigError(
                    f"{where}, column '{column}': '{name}' is not a select_multiple question of the form "
                    f"{form.path.name}; prop_select_multiple needs one."
                )
            if unit is not None and here != unit:
                raise ConfigError(
                    f"{where}, column '{column}': '{name}' is in {here} but the numerator is in {unit}; both "
                    "ratio variables must come from the same repeat group (or both from the household)."
                )
            unit = here
        assert unit is not None
        allowed = list(dict.fromkeys([unit, "household"]))  # the repeat's own columns, or its household's
        for group in a.groups:
            here = _where(group, form, columns)
            if here is None:
                raise ConfigError(
                    f"{where}, column 'group_var': '{group}' is neither a question of the form "
                    f"{form.path.name} nor a column of the loaded data; fix the name."
                )
            if here not in allowed:
                raise ConfigError(
                    f"{where}, column 'group_var': '{group}' is in {here}, but the analysis is over the rows "
                    f"of {unit}; group by a column of {' or of '.join(allowed)}."
                )
        units[idx] = unit
    return units
