"""A region report's template context: cover, summary sentences, key figures against the national level,
charts, the breakdown by the next administrative level and the region's data quality.
"""

from __future__ import annotations

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
        for n in prop_needs:
            ranked = self.ranked_options(level, area, n)[:TOP_N]
            for i, (o, e) in enumerate(ranked):
                key.append(self.key_row(n, o, e, "prop", i == 0))
        for n in mean_needs:
            e = self.estimate(level, area, n, "")
            if e is not None:
                key.append(self.key_row(n, "", e, data.kind(n), True))
        sev = data.severity_indicators()
        for n in [*sev, *(c for c in data.composites() if c not in sev)]:
            options = ["3+"] if n in sev else data.options(n)
            for i, o in enumerate(options):
                e = self.estimate(level, area, n, o)
                if e is not None:
                    key.append(self.key_row(n, o, e, data.kind(n), i == 0))
        children = data.children(level, area, self.level1) if self.level1 else []
        chart_list = [self.chart_for(n, level, area, reference=("national", "all"),
                                     by_areas=(self.level1, children) if children and self.level1 else None)
                      for n in needs]
        breakdown = None
        if children and self.level1:
            child_label = data.level_label(self.level1)
            breakdown = {
                "title": text.fill("breakdown", level=child_label.lower()),
                # shares only: means by district are already in the charts above (one bar per district)
                "heat_tables": [part for n in prop_needs for part in
                                self.heat_tables(n, self.level1, children, (level, area), child_label)],
                "severity": self.severity_context(self.level1, children, (level, area), child_label, False),
            }
        summary = []
        if prop_needs:
            ranked = self.ranked_options(level, area, prop_needs[0])[:TOP_N]
            if ranked:
                summary.append(text.fill("region_top", area=name, items=text.join(
                    [self.item(data.option_label(prop_needs[0], o, self.code), e, "prop") for o, e in ranked])))
                o, e = ranked[0]
                nat = self.estimate("national", "all", prop_needs[0], o)
                if nat is not None and not nat.suppressed and e.ci_low is not None and e.ci_high is not None \
                        and nat.estimate is not None and not (e.ci_low <= nat.estimate <= e.ci_high):
                    direction = text["higher"] if nat.estimate < e.ci_low else text["lower"]
                    summary.append(text.fill("region_vs", item=data.option_label(prop_needs[0], o, self.code),
                                             direction=direction, national=text.pct(nat.estimate)))
        need = self.in_need()
        if need:
            e, nat = self.estimate(level, area, *need), self.estimate("national", "all", *need)
            if e is not None and not e.suppressed and e.estimate is not None:
                summary.insert(0, text.fill("in_need_area", area=name, value=text.pct(e.estimate),
                                            ci=text.pct_ci(e.ci_low, e.ci_high) or text["not_available"],
                                            national=self.value(nat, "prop")["text"]))
        quality = {"files": [{"name": f["name"], "households": text.count(f["households"])}
                             for f in data.region_files(level, area)],
                   "warnings": [{**w, "records": text.count(w["records"])}
                                for w in data.region_warnings(level, area)]}
        repro = self.repro()
        return {
            "doc": self.doc("region", f"{self.title} – {name} – {self.settings.round}", name,
                            f"{text['region_report']} – {name} – {text['round']} {self.settings.round}"),
            "t": text.strings,
            "cover": {"title": self.title, "round": self.settings.round, "area": name,
                      "level": data.level_label(level), "dates": self.dates_text(first, last),
                      "households": text.households(counts, data.declined_word), "logo": self.logo},
            "summary": summary, "key_table": key, "charts": chart_list, "breakdown": breakdown,
            "legend": self.legend(), "heat_note": text.fill("heat_note", min=self.settings.min_cell),
            "quality": quality,
            "suppression": text.fill("suppression", min=self.settings.min_cell), "repro": repro,
        }

    def key_row(self, indicator: str, option: str, e: Estimate, kind: str, first: bool) -> dict:
        v = self.value(e, kind)
        nat = self.estimate("national", "all", indicator, option)
        nv = self.value(nat, kind)
        arrow = ""
        if nat is not None and not nat.suppressed and nat.estimate is not None and not e.suppressed \
                and e.ci_low is not None and e.ci_high is not None:
            arrow = "▲" if nat.estimate < e.ci_low else "▼" if nat.estimate > e.ci_high else ""
        return {"indicator": self.data.indicator_label(indicator, self.code),
                "option": self.data.option_label(indicator, option, self.code) if option else self.text["mean"]
                if kind == "mean" else "", "value": v["text"], "ci": v["ci"], "n": v["n"],
                "suppressed": v["suppressed"], "national": nv["text"], "arrow": arrow, "first": first}
