"""A region report's template context: cover, summary sentences, key figures against the national level,
charts, the breakdown by the next administrative level and the region's data quality.
"""

from __future__ import annotations

from typing import Any

from ..core.xlsform import need_indicator
from ..core.xpath import references
from .context import TOP_N
from .queries import Estimate
from .sections import Sections


class RegionReport(Sections):
    """The context of `region.html.j2`, one area of the first region level at a time."""

    def region(self, area: str) -> dict:
        text, data = self.text, self.data
        assert self.level0 is not None
        level = self.level0
        name = data.area_label(level, area)
        e: Estimate | None  # a ranked option's estimate, or a lookup that may find none
        first, last, _ = data.dates(level, area)
        counts = data.counts(level, area)
        needs = data.needs()
        prop_needs = [n for n in needs if data.kind(n) == "prop" and data.options(n) != [""]]
        mean_needs = [n for n in needs if n not in prop_needs]
        key = []
        marked = data.need_questions()
        for n in prop_needs:
            ranked = self.ranked_options(level, area, n)[:TOP_N]
            first_row = True
            if n in marked and (e := self.estimate(level, area, need_indicator(n), "")) is not None:
                key.append(
                    self.key_row(
                        need_indicator(n), "", e, "prop", True, option_text=self.need_answers_text(n)
                    )
                )
                first_row = False
            for i, (o, e) in enumerate(ranked):
                key.append(self.key_row(n, o, e, "prop", first_row and i == 0))
        for n in mean_needs:
            e = self.estimate(level, area, n, "")
            if e is not None:
                key.append(self.key_row(n, "", e, data.kind(n), True))
        sev = data.severity_indicators()
        for n in [*sev, *(c for c in data.composites() if c not in sev)]:
            options = ["3+"] if n in sev else data.options(n)
            rows = [
                (o, e)
                for o in options
                if (e := self.estimate(level, area, n, o)) is not None
                and not (data.kind(n) == "prop" and o and self.shown(e) and e.estimate == 0)
            ]
            for i, (o, e) in enumerate(rows):  # an answer nobody gave here is left out
                key.append(self.key_row(n, o, e, data.kind(n), i == 0))
        children = data.children(level, area, self.level1) if self.level1 else []
        chart_list = [
            self.chart_for(
                n,
                level,
                area,
                reference=("national", "all"),
                by_areas=(self.level1, children) if children and self.level1 else None,
            )
            for n in needs
        ]
        breakdown: dict[str, Any] | None = None
        if children and self.level1:
            child_label = data.level_label(self.level1)
            breakdown = {
                "title": text.fill("breakdown", level=child_label.lower()),
                # shares only: means by district are already in the charts above (one bar per district)
                "heat_tables": [
                    part
                    for n in prop_needs
                    for part in self.heat_tables(n, self.level1, children, (level, area), child_label)
                ],
                "need_table": self.need_table(self.level1, children, (level, area), child_label),
                "severity": self.severity_context(self.level1, children, (level, area), child_label, False),
            }
            breakdown["legend"] = self.legend(
                breakdown["heat_tables"]
                + [t for t in (breakdown["need_table"],) if t]
                + ([breakdown["severity"]["by_area"]] if breakdown["severity"] else [])
            )
        summary = self.region_summary(level, area, name, prop_needs, marked)
        quality = {
            "files": [
                {"name": f["name"], "households": text.count(f["households"])}
                for f in data.region_files(level, area)
            ],
            "warnings": self.plain_problems(data.region_warnings(level, area)),
        }
        repro = self.repro()
        return {
            "doc": self.doc(
                "region",
                f"{self.title} – {name} – {self.settings.round}",
                name,
                f"{text['region_report']} – {name} – {text['round']} {self.settings.round}",
            ),
            "t": text.strings,
            "cover": {
                "title": self.title,
                "round": self.settings.round,
                "area": name,
                "level": data.level_label(level),
                "dates": self.dates_text(first, last),
                "households": text.households(counts, data.declined_word),
                "logo": self.logo,
            },
            "summary": summary,
            "key_table": key,
            "charts": chart_list,
            # compact: who was listed here, and this region's member figures against the national ones
            "members": self.members_context(level, [area], (level, area), with_charts=False),
            "breakdown": breakdown,
            "heat_note": text.fill("heat_note", min=self.settings.min_cell),
            "need_note": text["need_table_note"],
            "quality": quality,
            "suppression": text.fill(
                "suppression", min=self.settings.min_cell, below=self.settings.min_cell - 1
            ),
            "repro": repro,
        }

    def region_summary(
        self, level: str, area: str, name: str, prop_needs: list[str], marked: list[str]
    ) -> list[str]:
        """The region's findings, each against the national figure: in need, the needs named most often and
        where they differ from the national share, the shares of answers that signal need, sectors apart."""
        text, data = self.text, self.data
        out = []
        need = self.in_need()
        if need and self.shown(e := self.estimate(level, area, *need)):
            nat = self.estimate("national", "all", *need)
            out.append(
                text.fill(
                    "in_need_area",
                    area=name,
                    value=text.pct(e.estimate),
                    ci=text.pct_ci(e.ci_low, e.ci_high) or text["not_available"],
                    national=self.value(nat, "prop")["text"],
                )
            )
        top = next(
            (
                n
                for n in prop_needs
                if n not in marked
                and (q := self.form.questions.get(n)) is not None
                and q.type == "select_multiple"
            ),
            None,
        )
        if top and (ranked := self.ranked_options(level, area, top)[:TOP_N]):
            out.append(
                text.fill(
                    "region_top",
                    area=name,
                    items=text.join(
                        [
                            text.fill(
                                "label_value",
                                label=data.option_label(top, o, self.code),
                                value=text.pct(e.estimate),
                            )
                            for o, e in ranked
                        ]
                    ),
                )
            )
            for o, e in ranked:
                if (line := self.versus(data.option_label(top, o, self.code), e, top, o)) is not None:
                    out.append(line)
        for n in marked:
            e = self.estimate(level, area, need_indicator(n), "")
            nat = self.estimate("national", "all", need_indicator(n), "")
            if self.shown(e) and e.estimate == 0:
                out.append(
                    text.fill(
                        "region_need_none",
                        answers=self.need_answers_text(n),
                        question=data.indicator_label(n, self.code),
                        national=self.value(nat, "prop")["text"],
                    )
                )
            elif self.shown(e):
                out.append(
                    text.fill(
                        "region_need_share",
                        value=text.pct(e.estimate),
                        ci=text.pct_ci(e.ci_low, e.ci_high) or text["not_available"],
                        answers=self.need_answers_text(n),
                        question=data.indicator_label(n, self.code),
                        national=self.value(nat, "prop")["text"],
                    )
                )
        rules = {
            f"severity_{s.sector}": set().union(*(references(r.when) for r in s.rules))
            for s in self.settings.indicators.severity
        }
        for i in data.severity_indicators():
            if i == "severity_overall" or rules.get(i, set()) & set(marked):
                continue  # the overall is the first line; a sector read from a need question repeats its share
            if self.shown(e := self.estimate(level, area, i, "3+")):
                what = text.fill("sector_need_what", sector=data.sector_label(i, self.code))
                if (line := self.versus(what, e, i, "3+")) is not None:
                    out.append(line)
        return out

    def versus(self, what: str, e: Estimate, indicator: str, option: str) -> str | None:
        """'Food: 56% here against 34% nationally.' when the national share lies outside this area's 95% CI."""
        nat = self.estimate("national", "all", indicator, option)
        if (
            not self.shown(nat)
            or e.ci_low is None
            or e.ci_high is None
            or e.ci_low <= (nat.estimate or 0.0) <= e.ci_high
        ):
            return None
        return self.text.fill(
            "region_vs", item=what, value=self.text.pct(e.estimate), national=self.text.pct(nat.estimate)
        )

    def key_row(
        self, indicator: str, option: str, e: Estimate, kind: str, first: bool, option_text: str | None = None
    ) -> dict:
        v = self.value(e, kind)
        if kind == "prop" and self.shown(e) and e.estimate == 0:
            v = {**v, "text": self.text["none"], "ci": ""}  # nobody here: "none", not "0% (0–0%)"
        nat = self.estimate("national", "all", indicator, option)
        nv = self.value(nat, kind)
        arrow = ""
        if (
            nat is not None
            and not nat.suppressed
            and nat.estimate is not None
            and not e.suppressed
            and e.ci_low is not None
            and e.ci_high is not None
        ):
            arrow = "▲" if nat.estimate < e.ci_low else "▼" if nat.estimate > e.ci_high else ""
        return {
            "indicator": self.data.indicator_label(indicator, self.code),
            "option": option_text
            if option_text is not None
            else self.data.option_label(indicator, option, self.code)
            if option
            else self.text["mean"]
            if kind == "mean"
            else "",
            "value": v["text"],
            "ci": v["ci"],
            "n": v["n"],
            "suppressed": v["suppressed"],
            "national": nv["text"],
            "arrow": arrow,
            "first": first,
        }
