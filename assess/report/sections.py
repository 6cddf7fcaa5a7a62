"""The tables and charts both reports place: heat tables of shares, severity by sector, the ranking of needs,
value tables and bar charts with confidence intervals (`Sections`, on top of `Context`).
"""

from __future__ import annotations

from typing import Any

from ..core.xlsform import need_indicator
from . import charts
from .context import TOP_N, Context
from .queries import Estimate

MAX_HEAT_COLUMNS = 9  # answers per heat table on an A4 page; longer lists continue in a second table
AGE_BANDS: list[tuple[int, int | None]] = [
    (0, 4), (5, 9), (10, 14), (15, 17), (18, 24), (25, 34), (35, 44), (45, 59), (60, None)
]  # fmt: skip


class Sections(Context):
    """Tables and charts, as template dicts."""

    def heat_table(
        self, indicator: str, level: str, areas: list[str], total: tuple[str, str] | None, area_header: str
    ) -> dict:
        options = self.data.options(indicator)
        shading = {o: self.data.need_shading(indicator, o) for o in options}
        # answers that signal need first, then the others; each in national order (largest first), so the eye
        # reads the hotspots left to right
        national = {o: (self.estimate("national", "all", indicator, o) or None) for o in options}
        options = sorted(
            options,
            key=lambda o: (
                shading[o] == "plain",
                -((e.estimate if (e := national[o]) and not e.suppressed else -1) or 0),
            ),
        )
        rows = [
            {
                "label": self.data.area_label(level, a),
                "total": False,
                "cells": [
                    self.value(self.estimate(level, a, indicator, o), "prop", shading[o]) for o in options
                ],
            }
            for a in areas
        ]
        if total:
            rows.append(
                {
                    "label": self.text["national"]
                    if total[0] == "national"
                    else self.data.area_label(*total),
                    "total": True,
                    "cells": [
                        self.value(self.estimate(total[0], total[1], indicator, o), "prop", shading[o])
                        for o in options
                    ],
                }
            )
        return {
            "title": self.data.indicator_label(indicator, self.code),
            "area_header": area_header,
            "columns": [self.data.option_label(indicator, o, self.code) for o in options],
            "rows": rows,
        }

    def heat_tables(
        self, indicator: str, level: str, areas: list[str], total: tuple[str, str] | None, area_header: str
    ) -> list[dict]:
        """The heat table, split into parts of at most MAX_HEAT_COLUMNS answers so it fits the A4 width."""
        whole = self.heat_table(indicator, level, areas, total, area_header)
        n = len(whole["columns"])
        if n <= MAX_HEAT_COLUMNS:
            return [whole]
        parts = []
        for start in range(0, n, MAX_HEAT_COLUMNS):
            end = min(n, start + MAX_HEAT_COLUMNS)
            parts.append(
                {
                    **whole,
                    "title": whole["title"] if start == 0 else f"{whole['title']} ({start + 1}–{end} / {n})",
                    "columns": whole["columns"][start:end],
                    "rows": [{**r, "cells": r["cells"][start:end]} for r in whole["rows"]],
                }
            )
        return parts

    def matrix(
        self,
        title: str,
        area_header: str,
        rows: list[tuple[str, str, bool]],
        cols: list[tuple[str, str, str]],
    ) -> dict:
        """A heat table of shares: rows (level, area, is_total) x columns (label, indicator, option)."""
        return {
            "title": title,
            "area_header": area_header,
            "columns": [c[0] for c in cols],
            "rows": [
                {
                    "label": self.text["national"]
                    if level == "national"
                    else self.data.area_label(level, area),
                    "total": total,
                    "cells": [
                        self.value(self.estimate(level, area, i, o), "prop", self.data.need_shading(i, o))
                        for _, i, o in cols
                    ],
                }
                for level, area, total in rows
            ],
        }

    def need_table(
        self, level: str, areas: list[str], total: tuple[str, str], area_header: str
    ) -> dict | None:
        """Per area, the share of households giving any answer that signals need, one column per question."""
        questions = self.data.need_questions()
        if not questions:
            return None
        cols = [
            (
                f"{self.data.indicator_label(q, self.code)} – {self.need_answers_text(q)}",
                need_indicator(q),
                "",
            )
            for q in questions
        ]
        rows = [(level, a, False) for a in areas] + [(total[0], total[1], True)]
        return self.matrix(self.text["need_table"], area_header, rows, cols)

    def in_need(self) -> tuple[str, str] | None:
        """(indicator, option) of the share of households in need, when the indicators step wrote one."""
        if "severity_overall" in self.data.severity_indicators():
            return "severity_overall", "3+"
        if "severity_in_need" in self.data.indicator_names():
            return "severity_in_need", ""
        return None

    def severity_context(
        self, level: str, areas: list[str], total: tuple[str, str], area_header: str, distribution: bool
    ) -> dict | None:
        sev = self.data.severity_indicators()
        if not sev:
            return None
        rows = [(level, a, False) for a in areas] + [(total[0], total[1], True)]
        cols = [(self.data.sector_label(i, self.code), i, "3+") for i in sev]
        title = self.text.fill("severity_by", level=area_header.lower())
        out = {"by_area": self.matrix(title, area_header, rows, cols), "distribution": None}
        if distribution:
            defined = self.severity_phases()
            # a phase no sector's rules can give is left out; one some sectors cannot give reads "–" there
            used = [p for p in ("1", "2", "3", "4", "5") if any(p in d for d in defined.values())] or [
                "1",
                "2",
                "3",
                "4",
                "5",
            ]
            phases = [(self.text.fill("phase", p=p), p) for p in used]
            table: dict[str, Any] = {
                "title": self.text["severity_dist"],
                "area_header": self.text["sector"],
                "columns": [p[0] for p in phases] + [self.text["in_need_col"]],
                "rows": [],
            }
            undefined = False
            for i in sev:
                cells = []
                for o in [p[1] for p in phases] + ["3+"]:
                    if o != "3+" and i in defined and o not in defined[i]:
                        cells.append(
                            {"text": "–", "ci": "", "n": "", "suppressed": False, "cls": "hn", "raw": None}
                        )
                        undefined = True
                    else:
                        cells.append(
                            self.value(
                                self.estimate(total[0], total[1], i, o), "prop", self.data.need_shading(i, o)
                            )
                        )
                table["rows"].append(
                    {
                        "label": self.data.sector_label(i, self.code),
                        "total": i == "severity_overall",
                        "cells": cells,
                    }
                )
            table["note"] = self.text["phase_undefined"] if undefined else ""
            out["distribution"] = table
        return out

    def severity_phases(self) -> dict[str, set[str]]:
        """`severity_<sector>` -> the phases its rules (and default) can give; the overall: any sector's."""
        out = {
            f"severity_{s.sector}": {str(r.level) for r in s.rules} | {str(s.default)}
            for s in self.settings.indicators.severity
        }
        if out:
            out["severity_overall"] = set().union(*out.values())
        return out

    def ranking_context(self, areas: list[str]) -> dict | None:
        """Top three needs per region from the `ranking` table, ties (overlapping CIs) marked '='."""
        rows = self.data.ranking()
        needs = [n for n in self.data.needs() if self.data.kind(n) == "prop"]
        multi = [
            n for n in needs if (q := self.form.questions.get(n)) is not None and q.type == "select_multiple"
        ]
        indicator = multi[0] if multi else needs[0] if needs else None
        if (
            not rows
            or indicator is None
            or not {"level", "area", "indicator", "option", "rank"} <= set(rows[0])
        ):
            return None
        by_area: dict[tuple[str, str], list[dict]] = {}
        for r in rows:
            if r["indicator"] == indicator and r["rank"] is not None and int(r["rank"]) <= TOP_N:
                by_area.setdefault((r["level"], r["area"]), []).append(r)
        keys = [(self.level0, a) for a in areas if (self.level0, a) in by_area] if self.level0 else []
        keys += [k for k in by_area if k[0] == "national"]
        if not keys:
            return None
        body = []
        for level, area in keys:
            cells = []
            for r in sorted(by_area[(level, area)], key=lambda r: int(r["rank"])):
                e = self.estimate(level, area, indicator, r["option"])
                value = self.text.pct(e.estimate) if e is not None and not e.suppressed else ""
                tie = "= " if r.get("tied_with_above") else ""
                cells.append(f"{tie}{self.data.option_label(indicator, r['option'], self.code)} ({value})")
            cells += [""] * (TOP_N - len(cells))
            body.append(
                {
                    "label": self.text["national"]
                    if level == "national"
                    else self.data.area_label(level, area),
                    "total": level == "national",
                    "cells": cells,
                }
            )
        return {
            "title": self.data.indicator_label(indicator, self.code),
            "note": self.text["ranking_note"],
            "headers": [self.text.fill("rank_n", n=i) for i in range(1, TOP_N + 1)],
            "area_header": self.data.level_label(self.level0) if self.level0 else "",
            "rows": body,
        }

    def value_table(
        self,
        items: list[tuple[str, str]],
        level: str,
        areas: list[str],
        total: tuple[str, str] | None,
        area_header: str,
        title: str,
    ) -> dict | None:
        """Rows = areas, columns = (indicator, option) pairs; cells show value and CI."""
        if not items:
            return None
        data = self.data
        kinds = [data.kind(i) for i, _ in items]
        cols = [
            data.indicator_label(i, self.code) + (f" – {data.option_label(i, o, self.code)}" if o else "")
            for i, o in items
        ]

        def cell(level: str, area: str, i: str, o: str, k: str) -> dict:
            v = self.value(self.estimate(level, area, i, o), k, data.need_shading(i, o))
            return {**v, "ci": self.text.fill("ci_paren", ci=v["ci"]) if v["ci"] else ""}

        rows = [
            {
                "label": data.area_label(level, a),
                "total": False,
                "cells": [cell(level, a, i, o, k) for (i, o), k in zip(items, kinds, strict=True)],
            }
            for a in areas
        ]
        if total:
            rows.append(
                {
                    "label": self.text["national"] if total[0] == "national" else data.area_label(*total),
                    "total": True,
                    "cells": [
                        cell(total[0], total[1], i, o, k) for (i, o), k in zip(items, kinds, strict=True)
                    ],
                }
            )
        return {"title": title, "area_header": area_header, "columns": cols, "rows": rows}

    def chart_for(
        self,
        indicator: str,
        level: str,
        area: str,
        *,
        reference: tuple[str, str] | None,
        by_areas: tuple[str, list[str]] | None = None,
        option: str | None = None,
    ) -> dict:
        """Options of a select question (or areas, for a mean) as sorted bars with CI whiskers.

        A mean in the national report: the national bar first (bold), then one bar per area for comparison,
        each with the national figure marked. An answer nobody gave reads "none", not "0% (0–0%)".
        """
        text, data = self.text, self.data
        kind = data.kind(indicator)
        bars: list[charts.Bar] = []
        texts: dict[int, tuple[str, str]] = {}
        head: charts.Bar | None = None
        note_extra = ""
        if kind == "prop" and data.options(indicator) != [""] and option is None:
            keys = [
                (level, area, o, data.option_label(indicator, o, self.code)) for o in data.options(indicator)
            ]
        else:
            # a mean, or one answer of a question (`option`): one bar per area
            sub_level, areas = by_areas or (level, [area])
            keys = [
                (sub_level, a, option or "", data.area_label(sub_level, a) or text["national"]) for a in areas
            ]
            if by_areas and reference is None and level == "national":
                reference = ("national", "all")  # the areas are compared with the national bar above them
                e = self.estimate("national", "all", indicator, option or "")
                if e is not None:
                    head = charts.Bar(
                        label=text["national"],
                        value=e.estimate,
                        low=e.ci_low,
                        high=e.ci_high,
                        suppressed=e.suppressed,
                    )
                    texts[id(head)] = self._bar_text(e, kind)
                    note_extra = text.fill("compare_note", level=self._level_word(sub_level))
        for lvl, a, o, label in keys:
            e = self.estimate(lvl, a, indicator, o)
            if e is None:
                continue
            ref = self.estimate(*reference, indicator, o) if reference else None
            bar = charts.Bar(
                label=label,
                value=e.estimate,
                low=e.ci_low,
                high=e.ci_high,
                suppressed=e.suppressed,
                reference=ref.estimate if ref is not None and not ref.suppressed else None,
            )
            texts[id(bar)] = self._bar_text(e, kind)
            bars.append(bar)
        bars = charts.sort_bars(bars)
        scale = charts.scale_for(bars + ([head] if head else []), percent=kind == "prop", rtl=text.rtl)
        rows = [
            {
                "label": b.label,
                "src": self.write_svg(charts.bar_strip(b, scale)),
                "text": texts[id(b)][0],
                "ci": texts[id(b)][1],
                "suppressed": b.suppressed,
                "total": b is head,
            }
            for b in ([head] if head else []) + bars
        ]
        legend = [
            {"src": self.write_svg(charts.legend_icon("bar")), "text": text["estimate"]},
            {"src": self.write_svg(charts.legend_icon("ci")), "text": text["ci"]},
        ]
        if reference:
            legend.append(
                {"src": self.write_svg(charts.legend_icon("reference")), "text": text["national_marker"]}
            )
        options = [option] if option is not None else data.options(indicator)
        base = self.estimate(level, area, indicator, options[0]) if options else None
        label = data.indicator_label(indicator, self.code)
        if option:
            label = text.fill(
                "question_answer", question=label, answer=data.option_label(indicator, option, self.code)
            )
        note = self.n_note(base) if base is not None and base.n and not base.suppressed else ""
        if note_extra:
            note = f"{note} · {note_extra}" if note else note_extra
        return {
            "title": label,
            "note": note,
            "rows": rows,
            "legend": legend,
            "axis": self.write_svg(charts.axis_strip(scale, decimal_comma=self.code == "fr")),
        }

    def n_note(self, e: Estimate) -> str:
        """'n = 1,960 households', or for members 'n = 3,760 people in 1,559 households'."""
        if e.unit == "household":
            return self.text.fill("n_households", n=self.text.count(e.n))
        return self.text.fill("n_members", n=self.text.count(e.n), h=self.text.count(e.n_households))

    # -- members (repeat groups: the household roster) ---------------------------------------------------
    def pyramid(self, repeat: str, level: str, area: str) -> dict | None:
        """People listed in the roster by age band and sex (counts, not weighted), as a two-sided table."""
        data = self.data
        sex, age = data.roster_questions(repeat)
        if sex is None or age is None:
            return None
        counts = data.members_by_age_sex(repeat, sex, age, AGE_BANDS, level, area)
        if not counts:
            return None
        codes = self.form.choice_names(sex)
        # female (or the first answer) on the left, as population pyramids usually are
        left, right = sorted(codes, key=lambda c: not c.lower().startswith(("f", "w")))
        largest = max(counts.values())
        # the first half grows from the age column outwards: leftwards, or rightwards when the page runs right
        # to left (its table columns are mirrored)
        first, second = ("left", "right") if self.text.rtl else ("right", "left")
        rows = []
        for i, (lo, hi) in reversed(list(enumerate(AGE_BANDS))):
            a, b = counts.get((i, left), 0), counts.get((i, right), 0)
            rows.append(
                {
                    "band": f"{lo}–{hi}" if hi is not None else f"{lo}+",
                    "left": self.text.count(a),
                    "right": self.text.count(b),
                    "left_src": self.write_svg(
                        charts.pyramid_half(a, largest, toward_centre=first, female=True)
                    ),
                    "right_src": self.write_svg(
                        charts.pyramid_half(b, largest, toward_centre=second, female=False)
                    ),
                }
            )
        total = sum(counts.values())
        return {
            "title": self.text["pyramid_title"],
            "note": self.text.fill("pyramid_note", n=self.text.count(total)),
            "left": data.option_label(sex, left, self.code),
            "right": data.option_label(sex, right, self.code),
            "age_header": self.text["age_group"],
            "rows": rows,
            "total": total,
        }

    def member_items(self, repeat: str) -> list[tuple[str, str]]:
        """(indicator, option) per member question, for tables and charts: a question with answers shows its
        first answer (e.g. Female, Yes), a number its mean; the pyramid's own age question is left out."""
        items = []
        for n in self.data.member_needs(repeat):
            options = self.data.options(n)
            if self.data.kind(n) == "prop" and options != [""]:
                items.append((n, options[0]))
            else:
                items.append((n, ""))
        return items

    def members_context(
        self, level: str | None, areas: list[str], here: tuple[str, str], *, with_charts: bool = True
    ) -> list[dict]:
        """One block per repeat group with member questions in [needs], for the area `here`: who was listed
        (pyramid), a table of the member figures by area (`level`, `areas`) against the national figure (shares
        of people, 95% CIs) and, with `with_charts`, a chart per figure with one bar per area."""
        out = []
        text, data = self.text, self.data
        nat = ("national", "all")
        repeats = list(dict.fromkeys(data.unit(n) for n in data.member_needs()))
        for repeat in repeats:
            items = self.member_items(repeat)
            sex, _ = data.roster_questions(repeat)
            first = self.estimate(*here, *items[0]) if items else None
            intro = (
                text.fill("members_intro", n=text.count(first.n), h=text.count(first.n_households))
                if first is not None and first.n and not first.suppressed
                else ""
            )
            table = (
                self.value_table(
                    items,
                    level,
                    areas,
                    nat,
                    data.level_label(level),
                    text.fill("members_by", level=self._level_word(level)),
                )
                if level and areas
                else None
            )
            charts_ = (
                [
                    self.chart_for(
                        i,
                        "national",
                        "all",
                        reference=None,
                        by_areas=(level, areas) if level and areas else None,
                        option=o or None,
                    )
                    for i, o in items
                    if i != sex
                ]
                if with_charts
                else []
            )
            out.append(
                {
                    "id": f"s-members-{repeat}",
                    "title": text["members_title"],
                    "intro": intro,
                    "pyramid": self.pyramid(repeat, *here),
                    "table": table,
                    "charts": charts_,
                    "note": text.fill("members_note", min=self.settings.min_cell),
                }
            )
        return out

    def _bar_text(self, e: Estimate, kind: str) -> tuple[str, str]:
        """(value, CI) beside a bar; 'none' for an answer nobody gave."""
        if kind == "prop" and self.shown(e) and e.estimate == 0:
            return self.text["none"], ""
        v = self.value(e, kind)
        return v["text"], v["ci"]

    def _level_word(self, level: str) -> str:
        """A level's label inside a sentence: lower case in languages with case, when it is one word."""
        word = self.data.level_label(level)
        return word.lower() if self.code in ("en", "fr") and word.isalpha() else word
