"""The national report's template context: cover, contents, summary sentences, heat tables, charts,
composite indicators, trends, ranking, methodology, data-quality annex and reproducibility facts.
"""

from __future__ import annotations

from typing import Any

from .context import TOP_N
from .queries import Estimate
from .sections import Sections


class NationalReport(Sections):
    """The context of `national.html.j2`."""

    def national(self) -> dict:
        text, data = self.text, self.data
        areas = data.areas(self.level0) if self.level0 else []
        level_label = data.level_label(self.level0) if self.level0 else ""
        first, last, _ = data.dates()
        counts = data.counts()
        households = counts.interviewed
        needs = data.needs()
        prop_needs = [n for n in needs if data.kind(n) == "prop" and data.options(n) != [""]]
        mean_needs = [n for n in needs if n not in prop_needs]
        heat = [part for n in prop_needs
                for part in self.heat_tables(n, self.level0, areas, ("national", "all"), level_label)
                ] if self.level0 else []
        # averages by region are charted (one bar per region, with CIs) in the next section, not tabled here
        chart_list = [self.chart_for(n, "national", "all", reference=None,
                                     by_areas=(self.level0, areas) if self.level0 else None) for n in needs]
        sev = data.severity_indicators()
        comp = [c for c in data.composites() if c not in sev]
        comp_prop = [c for c in comp if data.kind(c) == "prop" and data.options(c) != [""]]
        comp_single = [c for c in comp if c not in comp_prop]
        composite_tables = [part for c in comp_prop
                            for part in self.heat_tables(c, self.level0, areas, ("national", "all"), level_label)
                            ] if self.level0 else []
        composite_values = self.value_table([(c, "") for c in comp_single], self.level0, areas,
                                            ("national", "all"), level_label, text["mean"]) \
            if self.level0 and comp_single else None
        trends = self.trends_context(("national", "all"))
        ranking = self.ranking_context(areas)
        severity = self.severity_context(self.level0, areas, ("national", "all"), level_label, True) \
            if self.level0 else None
        toc = [{"id": "s-summary", "title": text["summary"]}]
        if heat:
            toc.append({"id": "s-heat", "title": text["heat"]})
        if chart_list:
            toc.append({"id": "s-charts", "title": text["charts"]})
        if severity or composite_tables or composite_values:
            toc.append({"id": "s-composite", "title": text["composite"]})
        if trends:
            toc.append({"id": "s-trends", "title": text["trends"]})
        if ranking:
            toc.append({"id": "s-ranking", "title": text["ranking_title"]})
        toc += [{"id": "s-methodology", "title": text["methodology"]}, {"id": "s-repro", "title": text["repro"]},
                {"id": "s-quality", "title": text["quality"]}]
        files = data.files()
        quality = {
            "files": [{**f, "rows": text.count(f["rows"]), "accepted": text.count(f["accepted"]),
                       "quarantined": text.count(f["quarantined"]), "warnings": text.count(f["warnings"]),
                       "format": f["format"] or "", "status": f["status"] + (f" ({f['reason']})" if f["reason"]
                                                                              else "")} for f in files],
            "total": {k: text.count(sum(int(f[k] or 0) for f in files))
                      for k in ("rows", "accepted", "quarantined", "warnings")},
            "problems": [{"action": text["act_quarantine"] if p["action"] == "quarantine" else text["act_warn"],
                          "kind": p["kind"], "reason": p["reason"], "records": text.count(p["records"])}
                         for p in data.problems()],
        }
        dates = self.dates_text(first, last)
        description = f"{text['national_report']} – {text['round']} {self.settings.round}"
        return {
            "doc": self.doc("national", f"{self.title} – {text['national_report']} – {self.settings.round}",
                            text["national"], description),
            "t": text.strings,
            "cover": {"title": self.title, "round": self.settings.round, "dates": dates,
                      "organisation": self.settings.organisation, "households": text.households(counts, data.declined_word),
                      "logo": self.logo},
            "toc": toc,
            "summary": self.national_summary(households, first, last, areas, prop_needs, mean_needs, trends),
            "heat_tables": heat, "legend": self.legend(),
            "heat_note": text.fill("heat_note", min=self.settings.min_cell),
            "charts": chart_list,
            "composite_tables": composite_tables, "composite_values": composite_values, "severity": severity,
            "trends": trends, "ranking": ranking,
            "method": self.methodology(first, last, households),
            "quality": quality, "repro": self.repro(),
        }

    def national_summary(self, households: int, first: Any, last: Any, areas: list[str], prop_needs: list[str],
                         mean_needs: list[str], trends: dict | None) -> list[str]:
        text, data = self.text, self.data
        out = []
        e: Estimate | None  # a ranked option's estimate, or a lookup that may find none
        level_word = data.level_label(self.level0) if self.level0 else ""
        counts_text = text.households(data.counts(), data.declined_word)
        if first is not None:
            start, end = text.period(first, last)
            out.append(text.fill("sample_sentence", n=text.count(households), k=len(areas) or 1, level=level_word,
                                 start=start, end=end) + f" ({counts_text}.)")
        else:
            out.append(text.fill("sample_sentence_nodates", n=text.count(households), k=len(areas) or 1,
                                 level=level_word) + f" ({counts_text}.)")
        for i, n in enumerate(prop_needs):
            ranked = self.ranked_options("national", "all", n)
            if not ranked:
                continue
            question = self.form.questions.get(n)
            label = data.indicator_label(n, self.code)
            if i == 0 and question is not None and question.type == "select_multiple":
                items = [self.item(data.option_label(n, o, self.code), e, "prop") for o, e in ranked[:TOP_N]]
                out.append(text.fill("top_needs", items=text.join(items)))
                top_option = ranked[0][0]
                by_area = self.area_ranking(n, top_option, areas)
                if by_area and not self.in_need():
                    what = data.option_label(n, top_option, self.code)
                    out.append(text.fill("highest_in", what=what, items=text.join(by_area)))
            else:
                o, e = ranked[0]
                out.append(text.fill("top_answer", question=label,
                                     item=self.item(data.option_label(n, o, self.code), e, "prop")))
        for n in mean_needs:
            e = self.estimate("national", "all", n, "")
            if e is not None and not e.suppressed and e.estimate is not None:
                out.append(text.fill("mean_sentence", question=data.indicator_label(n, self.code),
                                     value=text.num(e.estimate),
                                     ci=text.num_ci(e.ci_low, e.ci_high) or text["not_available"]))
        need = self.in_need()
        if need:
            e = self.estimate("national", "all", *need)
            extra = []
            if e is not None and not e.suppressed and e.estimate is not None:
                extra.append(text.fill("in_need_national", value=text.pct(e.estimate),
                                       ci=text.pct_ci(e.ci_low, e.ci_high) or text["not_available"]))
            by_area = self.area_ranking(need[0], need[1], areas)
            if by_area:
                extra.append(text.fill("in_need_highest", items=text.join(by_area)))
            out[1:1] = extra
        if trends and trends["n_significant"] is not None:
            out.append(text.fill("trend_sentence", prev=trends["previous_round"], k=trends["n_significant"],
                                 m=trends["n_total"]))
        return out

    def area_ranking(self, indicator: str, option: str, areas: list[str]) -> list[str]:
        if not self.level0:
            return []
        vals = [(a, e) for a in areas if (e := self.estimate(self.level0, a, indicator, option)) is not None
                and not e.suppressed and e.estimate is not None]
        vals.sort(key=lambda p: -(p[1].estimate or 0.0))
        return [self.item(self.data.area_label(self.level0, a), e, "prop") for a, e in vals[:TOP_N]]

    def trends_context(self, where: tuple[str, str]) -> dict | None:
        rows = [r for r in self.data.trends() if (r["level"], r["area"]) == where]
        if not rows:
            return None
        text, data = self.text, self.data
        out = []
        for r in sorted(rows, key=lambda r: (not r["significant"], -abs(r["change"] or 0))):
            kind = data.kind(r["indicator"])
            fmt = text.pct if kind == "prop" else text.num
            change = r["change"]
            sign = "+" if change and change > 0 else "−" if change and change < 0 else "±"
            if change is None:
                change_text = ""
            elif kind == "prop":
                change_text = f"{sign}{round(abs(change) * 100)} {text['pts']}"
            else:
                change_text = f"{sign}{text.num(abs(change))}"
            out.append({"indicator": data.indicator_label(r["indicator"], self.code),
                        "option": data.option_label(r["indicator"], r["option"] or "", self.code),
                        "previous": fmt(_as_float(r["previous_estimate"])),
                        "current": fmt(_as_float(r["estimate"])),
                        "change": change_text, "significant": bool(r["significant"]),
                        "significant_text": text["yes"] if r["significant"] else text["no"]})
        prev = str(rows[0]["previous_round"])
        n_significant = sum(1 for r in rows if r["significant"])
        return {"rows": out, "previous_round": prev, "previous_header": f"{text['round']} {prev}",
                "n_significant": n_significant, "n_total": len(rows),
                "note": text.fill("trend_sentence", prev=prev, k=n_significant, m=len(rows))}

    def methodology(self, first: Any, last: Any, households: int) -> dict:
        text, settings, data = self.text, self.settings, self.data
        strata_rows = data.strata()
        strata_level = settings.strata or ""
        # the strata are usually the first region level: show interviewed / declined / in the estimates by region
        by_region = bool(strata_level) and strata_level in settings.region_levels
        counted = {str(r["stratum"]): data.counts(strata_level, str(r["stratum"])) for r in strata_rows} \
            if by_region else {}
        rows = [{"label": data.area_label(strata_level, str(r["stratum"])) if strata_level else text["national"],
                 "households": text.count(r["households"]),
                 "declined": text.count(counted[str(r["stratum"])].declined) if by_region else "",
                 "in_estimates": text.count(counted[str(r["stratum"])].in_estimates) if by_region else "",
                 "clusters": text.count(r["clusters"]) if r["clusters"] is not None else "",
                 "population": text.count(round(r["population"])) if r["population"] is not None else "",
                 "total": False} for r in strata_rows]
        if len(rows) > 1:
            total = data.counts()
            rows.append({"label": text["totals"],
                         "households": text.count(sum(r["households"] for r in strata_rows)),
                         "declined": text.count(total.declined) if by_region else "",
                         "in_estimates": text.count(total.in_estimates) if by_region else "",
                         "clusters": text.count(sum(r["clusters"] or 0 for r in strata_rows))
                         if settings.cluster else "",
                         "population": text.count(round(sum(r["population"] or 0 for r in strata_rows)))
                         if any(r["population"] for r in strata_rows) else "", "total": True})
        if settings.weight:
            weighting = text.fill("weight_column", weight=settings.weight)
        elif settings.frame:
            weighting = text.fill("weight_frame", strata=data.level_label(settings.strata or ""))
        else:
            weighting = text["weight_none"]
        if settings.cluster:
            weighting += " " + text.fill("cluster_note", cluster=data.level_label(settings.cluster))
        dfs = sorted({e.df for e in data.estimates if e.level == "national" and e.df is not None and e.df > 0})
        if dfs:
            df_text = str(dfs[0]) if len(dfs) == 1 else f"{dfs[0]}–{dfs[-1]}"
            ci = text.fill("ci_text", df=df_text)
        else:
            ci = text["ci_none"]
        start, end = text.period(first, last)
        strata_word = data.level_label(settings.strata) if settings.strata else ""
        sample_text = (text.fill("sample_sentence", n=text.count(households), k=len(strata_rows) or 1,
                                 level=strata_word, start=start, end=end) if first is not None else
                       text.fill("sample_sentence_nodates", n=text.count(households), k=len(strata_rows) or 1,
                                 level=strata_word))
        sample_text += f" ({text.households(data.counts(), data.declined_word)}.)"
        return {"sample_text": sample_text, "strata": rows, "show_clusters": bool(settings.cluster),
                "show_counts": by_region,
                "declined_header": text["declined" if data.declined_word == "declined" else "no_needs_answers"],
                "show_population": any(r["population"] for r in strata_rows), "weighting": weighting, "ci": ci,
                "suppression": text.fill("suppression", min=settings.min_cell),
                "dates": text.fill("dates_text", start=text.day(first), end=text.day(last))
                if first is not None else ""}


def _as_float(x: Any) -> float | None:
    return None if x is None else float(x)
