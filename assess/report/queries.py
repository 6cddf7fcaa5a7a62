"""What the reports read from the store for one round (`StoreData`, `Estimate`), labelled from the XLSForm.

Private questions (config + form) and free-text questions never reach a report: `StoreData.showable`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from ..core.privacy import private_questions
from ..core.settings import ConfigError, Settings
from ..core.sqlutil import fetch_one, named_query, quote, table_columns, table_exists
from ..core.summary import HouseholdCounts
from ..core.xlsform import NEED_SUFFIX, XLSForm, need_answers, need_indicator
from ..estimate.counts import declined_word, household_counts
from .i18n import COMPOSITE_LABELS, SECTOR_LABELS, STRINGS

if TYPE_CHECKING:
    import duckdb

# Kept light on purpose: the store and analysis modules (pandas, readers) are imported only where the
# queries run, in the parent process; the PDF workers never need them.

DATE_COLUMNS = ("start", "_submission_time", "SubmissionDate", "today")


@dataclass
class Estimate:
    level: str
    area: str
    indicator: str
    option: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    n: int | None
    suppressed: bool
    df: int | None
    n_households: int | None = None  # households the `n` units belong to (= n for households)
    unit: str = "household"  # or the repeat group whose members were counted


def sql(name: str) -> str:
    """A named query from assess/report/sql/."""
    return named_query("assess.report", name)


def _clean(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


class StoreData:
    """Everything the reports read from the store for one round, queried once."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, language: str):
        self.con = con
        self.settings = settings
        self.form = form
        self.language = language
        self.round = settings.round
        self.private = private_questions(form, settings)
        self.need = need_answers(settings, form)  # question -> answers that signal need
        rows = (
            con.execute(sql("report_estimates"), {"round": self.round}).fetchall()
            if table_exists(con, "estimates")
            else []
        )
        self.estimates = [
            Estimate(
                r[0],
                r[1],
                r[2],
                r[3] or "",
                _clean(r[4]),
                _clean(r[5]),
                _clean(r[6]),
                r[7],
                bool(r[8]),
                r[9],
                r[10],
                r[11] or "household",
            )
            for r in rows
            if self.showable(r[2])
        ]
        self.index = {(e.level, e.area, e.indicator, e.option): e for e in self.estimates}
        self._options: dict[
            str, list[str]
        ] = {}  # indicator -> options (asked once per chart of every report)
        from ..estimate.run import area_expressions, submission_columns

        self.sub_cols = submission_columns(con)
        self.area_sql = dict(zip(settings.region_levels, area_expressions(con, settings), strict=True))

    # -- what may be shown -------------------------------------------------------------------------------
    def showable(self, indicator: str) -> bool:
        """Never a private question or free text; composites (not form questions) are numbers by design."""
        if indicator in self.private:
            return False
        if indicator.endswith(NEED_SUFFIX):
            return self.showable(indicator.removesuffix(NEED_SUFFIX))
        question = self.form.questions.get(indicator)
        if question is None:
            return True
        return question.type in ("select_one", "select_multiple", "integer", "decimal", "calculate", "range")

    def indicator_names(self) -> list[str]:
        return list(dict.fromkeys(e.indicator for e in self.estimates))

    def needs(self) -> list[str]:
        """The [needs] questions with estimates, household questions and household columns made from members
        (`[[indicators.members]]`); questions asked per member are `member_needs`."""
        present = set(self.indicator_names())
        return [n for n in self.settings.needs if n in present and self.unit(n) == "household"]

    def unit(self, indicator: str) -> str:
        """'household', or the repeat group whose members an indicator counts (a question asked per member)."""
        question = self.form.questions.get(indicator.removesuffix(NEED_SUFFIX))
        return question.repeat if question is not None and question.repeat else "household"

    def member_needs(self, repeat: str | None = None) -> list[str]:
        """[needs] questions asked per member (of `repeat`, or of any repeat) that have estimates."""
        present = set(self.indicator_names())
        return [
            n
            for n in self.settings.needs
            if n in present and self.unit(n) != "household" and (repeat is None or self.unit(n) == repeat)
        ]

    def roster_questions(self, repeat: str) -> tuple[str | None, str | None]:
        """(sex, age) questions of a repeat, for the age/sex pyramid: a select_one with two choices named like
        sex/gender, and an integer named like age; None where the repeat has none."""
        sex = age = None
        for name, question in self.form.questions.items():
            if question.repeat != repeat or name in self.private:
                continue
            words = set(re.split(r"[^a-z]+", name.lower()))
            if sex is None and question.type == "select_one" and words & {"sex", "gender"}:
                if len(self.form.choice_names(name)) == 2:
                    sex = name
            if age is None and question.type in ("integer", "decimal") and words & {"age", "years"}:
                age = name
        return sex, age

    def members_by_age_sex(
        self, repeat: str, sex: str, age: str, bands: list[tuple[int, int | None]], level: str, area: str
    ) -> dict[tuple[int, str], int]:
        """Members listed (not weighted) of the round's households in the estimates, by age band (index into
        `bands`) and sex code; `level`/`area` restrict to an area ('national' for all)."""
        table = self.form.repeats[repeat].table
        if not table_exists(self.con, table) or not {sex, age} <= set(table_columns(self.con, table)):
            return {}
        cases = " ".join(
            f"WHEN a >= {lo} {'' if hi is None else f'AND a <= {hi}'} THEN {i}"
            for i, (lo, hi) in enumerate(bands)
        )
        where = "" if level == "national" else f" AND CAST({self.area_sql[level]} AS VARCHAR) = $area"
        rows = self.con.execute(
            f"SELECT band, sex, count(*) FROM (SELECT CASE {cases} END AS band, "
            f"CAST(m.{quote(sex)} AS VARCHAR) AS sex FROM (SELECT *, TRY_CAST(m0.{quote(age)} AS DOUBLE) AS a "
            f"FROM {quote(table)} m0 WHERE m0.round = $round) m JOIN submissions s ON s.round = m.round "
            f"AND s.submission_id = m.submission_id WHERE true{where}) WHERE band IS NOT NULL AND sex IS NOT NULL "
            "GROUP BY ALL",
            {"round": self.round, **({"area": area} if level != "national" else {})},
        ).fetchall()
        return {(int(r[0]), str(r[1])): int(r[2]) for r in rows}

    def composites(self) -> list[str]:
        needs = set(self.settings.needs)
        return [n for n in self.indicator_names() if n not in needs and not n.endswith(NEED_SUFFIX)]

    # -- answers that signal need ---------------------------------------------------------------------------
    def need_questions(self) -> list[str]:
        """[needs] questions whose combined share of need answers (`<question>:need`) was estimated."""
        present = set(self.indicator_names())
        return [n for n in self.needs() if n in self.need and need_indicator(n) in present]

    def need_shading(self, indicator: str, option: str) -> str:
        """How a heat cell is shaded: 'need' (an answer that signals need: blue), 'plain' (another answer of a
        question with such answers: not shaded) or 'neutral' (nothing marked for the question: grey)."""
        if indicator in self.need:
            return "need" if option in self.need[indicator] else "plain"
        if indicator.endswith(NEED_SUFFIX) or indicator == "severity_in_need":
            return "need"
        if indicator.startswith("severity_") and option:
            return "need" if option in ("3", "4", "5", "3+", "4+") else "plain"
        if indicator in ("fcs_category", "fcs_group"):
            return "need" if option in ("poor", "borderline") else "plain"
        return "neutral"

    def need_answer_labels(self, question: str, code: str) -> list[str]:
        return [self.option_label(question, o, code) for o in self.need.get(question, ())]

    def kind(self, indicator: str) -> str:
        """'prop' (shares of households or members) or 'mean'."""
        if indicator.endswith(NEED_SUFFIX):
            return "prop"
        member = self.settings.indicators.member(indicator)
        if member is not None and indicator not in self.form.questions:
            return "mean" if member.aggregate == "count" else "prop"  # any/all: 1/0; share: a fraction
        question = self.form.questions.get(indicator)
        if question is not None and question.type == "calculate":  # a 0/1 flag (e.g. disability) is a share
            values = [
                e.estimate for e in self.estimates if e.indicator == indicator and e.estimate is not None
            ]
            return "prop" if values and all(0 <= v <= 1 for v in values) else "mean"
        if question is not None and question.type in ("select_one", "select_multiple"):
            return "prop"
        if question is not None and question.type in ("integer", "decimal"):
            return "mean"
        rows = [e for e in self.estimates if e.indicator == indicator]
        if any(e.option for e in rows):
            return "prop"
        looks_share = re.search(r"(in_need|share|prop|pct|rate|severe)", indicator.lower()) is not None
        values = [e.estimate for e in rows if e.estimate is not None]
        return "prop" if looks_share and all(0 <= v <= 1 for v in values) else "mean"

    def options(self, indicator: str) -> list[str]:
        """Options in form order, then any extra seen in the estimates (a new list; computed once)."""
        if indicator not in self._options:
            seen = list(dict.fromkeys(e.option for e in self.estimates if e.indicator == indicator))
            if indicator in self.form.questions:
                order = self.form.choice_names(indicator) if self.form.questions[indicator].list_name else []
                seen = [o for o in order if o in seen] + [o for o in seen if o not in order]
            self._options[indicator] = seen
        return list(self._options[indicator])

    # -- labels ------------------------------------------------------------------------------------------
    def severity_indicators(self) -> list[str]:
        """`severity_<sector>` indicators with phase options, overall first."""
        names = [n for n in self.composites() if n.startswith("severity_") and "3+" in self.options(n)]
        return sorted(names, key=lambda n: (n != "severity_overall", names.index(n)))

    def sector_label(self, indicator: str, code: str) -> str:
        sector = indicator.removeprefix("severity_")
        strings = {**STRINGS["en"], **STRINGS.get(code, {})}
        if sector == "overall":
            return strings["sector_overall"]
        for item in self.settings.indicators.severity:
            if item.sector == sector and item.label:
                return item.label
        labels = {**SECTOR_LABELS["en"], **SECTOR_LABELS.get(code, {})}
        return labels.get(sector, sector.replace("_", " ").capitalize())

    def composite_label(self, name: str, code: str) -> str:
        fcs = self.settings.indicators.fcs
        if name == "fcs" and fcs is not None and fcs.label:
            return fcs.label
        member = self.settings.indicators.member(name)  # an [[indicators.members]] column
        if member is not None and member.label:
            return member.label
        if name.startswith("severity_") and name != "severity_in_need":
            labels = {**COMPOSITE_LABELS["en"], **COMPOSITE_LABELS.get(code, {})}
            return f"{labels['severity']} – {self.sector_label(name, code)}"
        labels = {**COMPOSITE_LABELS["en"], **COMPOSITE_LABELS.get(code, {})}
        return labels.get(name) or name.replace("_", " ").strip().capitalize()

    def indicator_label(self, name: str, code: str) -> str:
        if name.endswith(NEED_SUFFIX):
            return self.indicator_label(name.removesuffix(NEED_SUFFIX), code)
        if name in self.form.questions and self.form.label(name, self.language) != name:
            return self.form.label(name, self.language)
        return self.composite_label(name, code)

    def option_label(self, indicator: str, option: str, code: str) -> str:
        question = self.form.questions.get(indicator)
        if question is not None and question.list_name:
            return self.form.choice_label(question.list_name, option, self.language)
        if indicator.startswith("severity_") and option:
            strings = {**STRINGS["en"], **STRINGS.get(code, {})}
            return strings["in_need_col"] if option == "3+" else strings["phase"].format(p=option)
        return self.composite_label(option, code) if option else ""

    def level_label(self, level: str) -> str:
        return self.form.label(level, self.language) if level in self.form.questions else level

    def area_label(self, level: str, area: str) -> str:
        if level == "national":
            return ""
        label = self.plain_area_label(level, area)
        # templates often ship placeholder labels ("To be updated by country") shared by several areas:
        # add the code where a label is not unique, so that no two rows read the same
        if self._label_counts(level).get(label, 0) > 1:
            return f"{label} ({area.rsplit('/', 1)[-1]})"
        return label

    def plain_area_label(self, level: str, area: str) -> str:
        """The area's label from the form, even where other areas share it."""
        code = area.rsplit("/", 1)[-1]
        question = self.form.questions.get(level)
        if question is not None and question.list_name and level not in self.private:
            return self.form.choice_label(question.list_name, code, self.language)
        return code

    def _label_counts(self, level: str) -> dict[str, int]:
        cache = self.__dict__.setdefault("_label_cache", {})
        if level not in cache:
            counts: dict[str, int] = {}
            for a in self.areas(level):
                lab = self.plain_area_label(level, a)
                counts[lab] = counts.get(lab, 0) + 1
            cache[level] = counts
        return cache[level]

    def areas(self, level: str) -> list[str]:
        return list(dict.fromkeys(e.area for e in self.estimates if e.level == level))

    def children(self, parent_level: str, parent: str, child_level: str) -> list[str]:
        """Areas of `child_level` inside `parent` (from the households' answers)."""
        if parent_level not in self.area_sql or child_level not in self.area_sql:
            return []
        rows = self.con.execute(
            f"SELECT DISTINCT {self.area_sql[child_level]} FROM submissions WHERE round = $round "
            f"AND {self.area_sql[parent_level]} = $area",
            {"round": self.round, "area": parent},
        ).fetchall()
        found = {r[0] for r in rows if r[0] is not None}
        return [a for a in self.areas(child_level) if a in found]

    # -- other tables ------------------------------------------------------------------------------------
    def dates(
        self, level: str | None = None, area: str | None = None
    ) -> tuple[date | None, date | None, int]:
        cols = [c for c in DATE_COLUMNS if c in self.sub_cols]
        day = (
            (
                "coalesce("
                + ", ".join(f"TRY_CAST(left(CAST({quote(c)} AS VARCHAR), 10) AS DATE)" for c in cols)
                + ")"
            )
            if cols
            else "NULL::DATE"
        )
        area_expr = self.area_sql.get(level or "", "NULL") if level else "NULL"
        row = fetch_one(
            self.con, sql("report_dates").format(day=day, area=area_expr), {"round": self.round, "area": area}
        )
        return row[0], row[1], int(row[2] or 0)

    def counts(self, level: str = "national", area: str = "all") -> HouseholdCounts:
        """Households interviewed / declined / in the estimates (the `household_counts` the run wrote)."""
        if not table_exists(self.con, "household_counts"):
            return HouseholdCounts()
        return household_counts(self.con, self.round, level, area)

    @property
    def declined_word(self) -> str:
        return declined_word(self.form, self.settings)

    def strata(self) -> list[dict]:
        s = self.settings
        if s.strata and s.strata not in self.sub_cols:
            return []
        stratum = quote(s.strata) if s.strata else "'1'"
        cluster = quote(s.cluster) if s.cluster and s.cluster in self.sub_cols else "submission_id"
        rows = self.con.execute(
            sql("report_strata").format(stratum=stratum, cluster=cluster), {"round": self.round}
        ).fetchall()
        population = self.frame_population()
        return [
            {
                "stratum": r[0],
                "households": r[1],
                "clusters": r[2] if s.cluster else None,
                "population": population.get(str(r[0])),
            }
            for r in rows
        ]

    def frame_population(self) -> dict[str, float]:
        from ..estimate.frame import read_frame  # the report sits above estimate: allowed

        s = self.settings
        if not s.frame or not s.strata:
            return {}
        try:
            return read_frame(s)
        except ConfigError:  # the frame was checked when weights were computed; here it is only context
            return {}

    def files(self) -> list[dict]:
        cur = self.con.execute(sql("report_files"), {"round": self.round})
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def input_files(self) -> list[dict]:
        """The files whose rows are in the numbers (households of the round come from them), with sha256."""
        cur = self.con.execute(sql("report_input_files"), {"round": self.round})
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def problems(self) -> list[dict]:
        """Problems of the loaded files by action, kind, column and reason, with the records they concern."""
        cur = self.con.execute(sql("report_quarantine"), {"round": self.round})
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def region_files(self, level: str, area: str) -> list[dict]:
        if level not in self.area_sql:
            return []
        rows = self.con.execute(
            sql("report_region_files").format(area=self.area_sql[level]), {"round": self.round, "area": area}
        ).fetchall()
        return [{"name": r[0], "households": r[1]} for r in rows]

    def region_warnings(self, level: str, area: str) -> list[dict]:
        if level not in self.area_sql:
            return []
        rows = self.con.execute(
            sql("report_region_warnings").format(area=self.area_sql[level]),
            {"round": self.round, "area": area},
        ).fetchall()
        return [
            {"action": "warn", "kind": r[0], "column": r[1], "reason": r[2], "records": r[3]} for r in rows
        ]

    def trends(self) -> list[dict]:
        need = {
            "previous_round",
            "level",
            "area",
            "indicator",
            "option",
            "estimate",
            "previous_estimate",
            "change",
            "significant",
            "round",
        }
        if not table_exists(self.con, "trends") or not need <= table_columns(self.con, "trends").keys():
            return []
        cur = self.con.execute(sql("report_trends"), {"round": self.round})
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall() if self.showable(r[3])]

    def ranking(self) -> list[dict]:
        if not table_exists(self.con, "ranking"):
            return []
        cur = self.con.execute(sql("report_ranking"))
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        if "round" in names:
            rows = [r for r in rows if str(r["round"]) == self.round]
        return rows
