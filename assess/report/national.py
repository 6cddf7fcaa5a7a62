"""The national report's template context: cover, contents, summary sentences, heat tables, charts,
composite indicators, trends, ranking, methodology, data-quality annex and reproducibility facts.
"""

from __future__ import annotations

from typing import Any

from ..core.xlsform import NEED_SUFFIX, need_indicator
from ..core.xpath import references
from .cleaning import cleaning_annex
from .context import TOP_N
from .disaggregation import disaggregation_tables
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
        heat = (
            [
                part
                for n in prop_needs
                for part in self.heat_tables(n, self.level0, areas, ("national", "all"), level_label)
            ]
            if self.level0
            else []
        )
        need_table = (
            self.need_table(self.level0, areas, ("national", "all"), level_label) if self.level0 else None
        )
        # averages by region are charted (one bar per region, with CIs) in the next section, not tabled here
        chart_list = [
            self.chart_for(
                n, "national", "all", reference=None, by_areas=(self.level0, areas) if self.level0 else None
            )
            for n in needs
        ]
        members = self.members_context(self.level0, areas, ("national", "all"))
        sev = data.severity_indicators()
        comp = [c for c in data.composites() if c not in sev]
        comp_prop = [c for c in comp if data.kind(c) == "prop" and data.options(c) != [""]]
        comp_single = [c for c in comp if c not in comp_prop]
        composite_tables = (
            [
                part
                for c in comp_prop
                for part in self.heat_tables(c, self.level0, areas, ("national", "all"), level_label)
            ]
            if self.level0
            else []
        )
        composite_values = (
            self.value_table(
                [(c, "") for c in comp_single],
                self.level0,
                areas,
                ("national", "all"),
                level_label,
                text.fill("averages_by", level=self._level_word(self.level0)),
            )
            if self.level0 and comp_single
            else None
        )
        trends = self.trends_context(("national", "all"))
        ranking = self.ranking_context(areas)
        severity = (
            self.severity_context(self.level0, areas, ("national", "all"), level_label, True)
            if self.level0
            else None
        )
        toc = [{"id": "s-summary", "title": text["summary"]}]
        if heat or need_table:
            toc.append({"id": "s-heat", "title": text["heat"]})
        if chart_list:
            toc.append({"id": "s-charts", "title": text["charts"]})
        disaggregation = disaggregation_tables(self)
        if disaggregation:
            toc.append({"id": "s-disagg", "title": text["disaggregation"]})
        toc += [{"id": m["id"], "title": m["title"]} for m in members]
        if severity or composite_tables or composite_values:
            toc.append({"id": "s-composite", "title": text["composite"]})
        if trends:
            toc.append({"id": "s-trends", "title": text["trends"]})
        if ranking:
            toc.append({"id": "s-ranking", "title": text["ranking_title"]})
        toc += [
            {"id": "s-methodology", "title": text["methodology"]},
            {"id": "s-repro", "title": text["repro"]},
            {"id": "s-quality", "title": text["quality"]},
        ]
        quality = self.quality_annex()
        dates = self.dates_text(first, last)
        description = f"{text['national_report']} – {text['round']} {self.settings.round}"
        return {
            "doc": self.doc(
                "national",
                f"{self.title} – {text['national_report']} – {self.settings.round}",
                text["national"],
                description,
            ),
            "t": text.strings,
            "cover": {
                "title": self.title,
                "round": self.settings.round,
                "dates": dates,
                "organisation": self.settings.organisation,
                "households": text.households(counts, data.declined_word),
                "logo": self.logo,
            },
            "toc": toc,
            "summary": self.national_summary(households, first, last, areas, prop_needs, mean_needs, trends),
            "heat_tables": heat,
            "need_table": need_table,
            "legend": self.legend(heat + ([need_table] if need_table else [])),
            "heat_note": text.fill("heat_note", min=self.settings.min_cell),
            "need_note": text["need_table_note"],
            "composite_legend": self.legend(
                ([severity["by_area"]] if severity else [])
                + ([severity["distribution"]] if severity and severity["distribution"] else [])
                + composite_tables
            ),
            "charts": chart_list,
            "members": members,
            "disaggregation": disaggregation,
            "composite_tables": composite_tables,
            "composite_values": composite_values,
            "severity": severity,
            "trends": trends,
            "ranking": ranking,
            "method": self.methodology(first, last, households),
            "quality": quality,
            "repro": self.repro(),
        }

    def quality_annex(self) -> dict:
        """For leadership: the files in the numbers with their counts, one line for the files that could not
        be used, and the interviews kept aside or flagged by reason in plain words (the receipts and
        `assess export quarantine` keep the details and what to do for the coordinators)."""
        text, data = self.text, self.data
        used = {f["sha256"] for f in data.input_files()}
        files = data.files()
        loaded = [f for f in files if f["sha256"] in used]
        rejected = sum(1 for f in files if f["status"] == "rejected")
        return {
            "files": [
                {
                    "name": f["name"],
                    "rows": text.count(f["rows"]),
                    "accepted": text.count(f["accepted"]),
                    "quarantined": text.count(f["quarantined"]),
                    "warnings": text.count(f["warnings"]),
                }
                for f in loaded
            ],
            "total": {
                k: text.count(sum(int(f[k] or 0) for f in loaded))
                for k in ("rows", "accepted", "quarantined", "warnings")
            },
            "rejected": text.fill("rejected_one")
            if rejected == 1
            else text.fill("rejected_many", k=text.count(rejected))
            if rejected
            else "",
            "problems": self.plain_problems(data.problems()),
            "cleaning": cleaning_annex(data.con, self.settings, self.form, self.code),  # issue 17
        }

    def national_summary(
        self,
        households: int,
        first: Any,
        last: Any,
        areas: list[str],
        prop_needs: list[str],
        mean_needs: list[str],
        trends: dict | None,
    ) -> dict:
        """One page of findings: the sample, the largest needs, the areas that stand out, the change since the
        previous round. Every figure is an estimate of the store; shares of answers that signal need are their
        own estimates (`<question>:need`), never sums."""
        text, data = self.text, self.data
        e: Estimate | None  # a ranked option's estimate, or a lookup that may find none
        level_word = data.level_label(self.level0) if self.level0 else ""
        where = text.areas(len(areas) or 1, level_word)
        counts_text = text.households_tail(data.counts(), data.declined_word)
        if first is not None:
            start, end = text.period(first, last)
            intro = text.fill("sample_sentence", n=text.count(households), areas=where, start=start, end=end)
        else:
            intro = text.fill("sample_sentence_nodates", n=text.count(households), areas=where)
        intro += " " + counts_text
        nat = ("national", "all")
        needs_items: list[str] = []
        need = self.in_need()
        if need and self.shown(e := self.estimate(*nat, *need)):
            needs_items.append(
                text.fill(
                    "in_need_national",
                    value=text.pct(e.estimate),
                    ci=text.pct_ci(e.ci_low, e.ci_high) or text["not_available"],
                )
            )
        sectors = [
            (i, e)
            for i in data.severity_indicators()
            if i != "severity_overall" and self.shown(e := self.estimate(*nat, i, "3+"))
        ]
        if len(sectors) > 1:
            sectors.sort(key=lambda p: -(p[1].estimate or 0.0))
            needs_items.append(
                text.fill(
                    "sector_need",
                    items=text.join(
                        [
                            text.fill(
                                "label_value",
                                label=data.sector_label(i, self.code),
                                value=text.pct(e.estimate),
                            )
                            for i, e in sectors
                        ]
                    ),
                )
            )
        marked = data.need_questions()
        top_question = next(
            (
                n
                for n in prop_needs
                if n not in marked
                and (q := self.form.questions.get(n)) is not None
                and q.type == "select_multiple"
            ),
            None,
        )
        if top_question and (ranked := self.ranked_options(*nat, top_question)):
            needs_items.append(
                text.fill(
                    "top_needs",
                    items=text.join(
                        [
                            text.fill(
                                "label_value",
                                label=data.option_label(top_question, o, self.code),
                                value=text.pct(e.estimate),
                            )
                            for o, e in ranked[:TOP_N]
                        ]
                    ),
                )
            )
        shares = sorted(
            ((n, e) for n in marked if self.shown(e := self.estimate(*nat, need_indicator(n), ""))),
            key=lambda p: -(p[1].estimate or 0.0),
        )
        for n, e in shares:
            if e.estimate == 0:
                needs_items.append(
                    text.fill(
                        "need_share_none",
                        answers=self.need_answers_text(n),
                        question=data.indicator_label(n, self.code),
                    )
                )
                continue
            needs_items.append(
                text.fill(
                    "need_share",
                    value=text.pct(e.estimate),
                    ci=text.pct_ci(e.ci_low, e.ci_high) or text["not_available"],
                    answers=self.need_answers_text(n),
                    question=data.indicator_label(n, self.code),
                )
            )
        for n in prop_needs:
            if n in marked or n == top_question or not (ranked := self.ranked_options(*nat, n)):
                continue
            o, e = ranked[0]
            needs_items.append(
                text.fill(
                    "top_answer",
                    question=data.indicator_label(n, self.code),
                    answer=text.quoted(data.option_label(n, o, self.code)),
                    value=text.pct(e.estimate),
                )
            )
        for n in mean_needs:
            if self.shown(e := self.estimate(*nat, n, "")):
                member = self.settings.indicators.member(n)
                prop = data.kind(n) == "prop"  # e.g. any member with a disability: a share of households
                needs_items.append(
                    text.fill(
                        "share_sentence" if prop else "count_sentence" if member else "mean_sentence",
                        question=data.indicator_label(n, self.code),
                        value=text.pct(e.estimate) if prop else text.num(e.estimate),
                        ci=(text.pct_ci if prop else text.num_ci)(e.ci_low, e.ci_high)
                        or text["not_available"],
                    )
                )
        groups = [{"title": text["summary_needs"], "items": needs_items}]
        groups.append(
            {
                "title": text["summary_areas"],
                "items": self.standing_out(areas, need, marked, sectors, top_question),
            }
        )
        if trends and trends["n_significant"] is not None:
            groups.append(
                {
                    "title": text["summary_change"],
                    "items": [
                        text.fill(
                            "trend_sentence",
                            prev=trends["previous_round"],
                            k=trends["n_significant"],
                            m=trends["n_total"],
                        )
                    ],
                }
            )
        return {"intro": intro, "groups": [g for g in groups if g["items"]]}

    def standing_out(
        self,
        areas: list[str],
        need: tuple[str, str] | None,
        marked: list[str],
        sectors: list[tuple[str, Estimate]],
        top_question: str | None,
    ) -> list[str]:
        """Sentences naming the areas clearly above the national figure (their 95% CI lies above it), each
        with its own value, and the national value."""
        text, data = self.text, self.data
        out = []

        def sentence(what: str, indicator: str, option: str, ratio: float = 0.0) -> str | None:
            nat = self.estimate("national", "all", indicator, option)
            if not self.level0 or not self.shown(nat):
                return None
            high = [
                (a, e)
                for a in areas
                if self.shown(e := self.estimate(self.level0, a, indicator, option))
                and e.ci_low is not None
                and e.ci_low > (nat.estimate or 0.0)
                and (e.estimate or 0.0) >= ratio * (nat.estimate or 0.0)
            ]
            if not high:
                return None
            high.sort(key=lambda p: -(p[1].estimate or 0.0))
            items = [
                text.fill("area_value", area=data.area_label(self.level0, a), value=text.pct(e.estimate))
                for a, e in high[:TOP_N]
            ]
            return text.fill("stand_out", what=what, items=text.join(items), national=text.pct(nat.estimate))

        if need:
            out.append(sentence(text["in_need_what"], *need))
        for n in marked:
            out.append(sentence(self.need_answers_text(n), need_indicator(n), ""))
        # a sector whose rules read a question shown above through its need answers would repeat it
        shown_questions = set(marked)
        rules = {
            f"severity_{s.sector}": set().union(*(references(r.when) for r in s.rules))
            for s in self.settings.indicators.severity
        }
        for i, _ in sectors:
            if not rules.get(i, set()) & shown_questions:
                out.append(
                    sentence(text.fill("sector_need_what", sector=data.sector_label(i, self.code)), i, "3+")
                )
        if top_question:
            # answers named far more often somewhere (at least 1.5 times the national share), the starkest first
            found = []
            for o in data.options(top_question):
                nat = self.estimate("national", "all", top_question, o)
                if not self.shown(nat) or not nat.estimate:
                    continue
                line = sentence(
                    text.fill(
                        "answered_what", answer=text.quoted(data.option_label(top_question, o, self.code))
                    ),
                    top_question,
                    o,
                    1.5,
                )
                if line:
                    best = max(
                        (e.estimate or 0.0)
                        for a in areas
                        if self.shown(e := self.estimate(self.level0 or "", a, top_question, o))
                    )
                    found.append((best / nat.estimate, line))
            out += [line for _, line in sorted(found, key=lambda p: -p[0])[:TOP_N]]
        return [x for x in out if x]

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
            question = r["indicator"].removesuffix(NEED_SUFFIX)
            option = (
                self.need_answers_text(question)
                if r["indicator"].endswith(NEED_SUFFIX)
                else data.option_label(r["indicator"], r["option"] or "", self.code)
            )
            out.append(
                {
                    "indicator": data.indicator_label(r["indicator"], self.code),
                    "option": option,
                    "previous": fmt(_as_float(r["previous_estimate"])),
                    "current": fmt(_as_float(r["estimate"])),
                    "change": change_text,
                    "significant": bool(r["significant"]),
                    "significant_text": text["yes"] if r["significant"] else text["no"],
                }
            )
        prev = str(rows[0]["previous_round"])
        n_significant = sum(1 for r in rows if r["significant"])
        return {
            "rows": out,
            "previous_round": prev,
            "previous_header": f"{text['round']} {prev}",
            "n_significant": n_significant,
            "n_total": len(rows),
            "note": text.fill("trend_sentence", prev=prev, k=n_significant, m=len(rows)),
        }

    def methodology(self, first: Any, last: Any, households: int) -> dict:
        text, settings, data = self.text, self.settings, self.data
        strata_rows = data.strata()
        strata_level = settings.strata or ""
        # the strata are usually the first region level: show interviewed / declined / in the estimates by region
        by_region = bool(strata_level) and strata_level in settings.region_levels
        counted = (
            {str(r["stratum"]): data.counts(strata_level, str(r["stratum"])) for r in strata_rows}
            if by_region
            else {}
        )
        rows = [
            {
                "label": data.area_label(strata_level, str(r["stratum"]))
                if strata_level
                else text["national"],
                "households": text.count(r["households"]),
                "declined": text.count(counted[str(r["stratum"])].declined) if by_region else "",
                "in_estimates": text.count(counted[str(r["stratum"])].in_estimates) if by_region else "",
                "clusters": text.count(r["clusters"]) if r["clusters"] is not None else "",
                "population": text.count(round(r["population"])) if r["population"] is not None else "",
                "total": False,
            }
            for r in strata_rows
        ]
        if len(rows) > 1:
            total = data.counts()
            rows.append(
                {
                    "label": text["totals"],
                    "households": text.count(sum(r["households"] for r in strata_rows)),
                    "declined": text.count(total.declined) if by_region else "",
                    "in_estimates": text.count(total.in_estimates) if by_region else "",
                    "clusters": text.count(sum(r["clusters"] or 0 for r in strata_rows))
                    if settings.cluster
                    else "",
                    "population": text.count(round(sum(r["population"] or 0 for r in strata_rows)))
                    if any(r["population"] for r in strata_rows)
                    else "",
                    "total": True,
                }
            )
        if settings.weight:
            weighting = text.fill("weight_column", weight=settings.weight)
        elif settings.frame:
            weighting = text.fill("weight_frame", strata=data.level_label(settings.strata or ""))
        else:
            weighting = text["weight_none"]
        if settings.cluster:
            weighting += " " + text.fill("cluster_note", cluster=data.level_label(settings.cluster))
        dfs = sorted(
            {e.df for e in data.estimates if e.level == "national" and e.df is not None and e.df > 0}
        )
        if dfs:
            df_text = str(dfs[0]) if len(dfs) == 1 else f"{dfs[0]}–{dfs[-1]}"
            ci = text.fill("ci_text", df=df_text)
        else:
            ci = text["ci_none"]
        start, end = text.period(first, last)
        strata_word = data.level_label(settings.strata) if settings.strata else ""
        where = text.areas(len(strata_rows) or 1, strata_word)
        sample_text = (
            text.fill("sample_sentence", n=text.count(households), areas=where, start=start, end=end)
            if first is not None
            else text.fill("sample_sentence_nodates", n=text.count(households), areas=where)
        )
        sample_text += " " + text.households_tail(data.counts(), data.declined_word)
        return {
            "sample_text": sample_text,
            "strata": rows,
            "show_clusters": bool(settings.cluster),
            "show_counts": by_region,
            "declined_header": text["declined" if data.declined_word == "declined" else "no_needs_answers"],
            "show_population": any(r["population"] for r in strata_rows),
            "weighting": weighting,
            "ci": ci,
            "suppression": text.fill("suppression", min=settings.min_cell, below=settings.min_cell - 1),
            "dates": text.fill("dates_text", start=text.day(first), end=text.day(last))
            if first is not None
            else "",
        }


def _as_float(x: Any) -> float | None:
    return None if x is None else float(x)
