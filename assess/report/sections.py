"""The tables and charts both reports place: heat tables of shares, severity by sector, the ranking of needs,
value tables and bar charts with confidence intervals (`Sections`, on top of `Context`).
"""

from __future__ import annotations

from typing import Any

from . import charts
from .context import TOP_N, Context

MAX_HEAT_COLUMNS = 9  # answers per heat table on an A4 page; longer lists continue in a second table


class Sections(Context):
    """Tables and charts, as template dicts."""

    def heat_table(self, indicator: str, level: str, areas: list[str], total: tuple[str, str] | None,
                   area_header: str) -> dict:
        options = self.data.options(indicator)
        # columns in national order (largest first), so the eye reads the top needs left to right
        national = {o: (self.estimate("national", "all", indicator, o) or None) for o in options}
        options = sorted(options, key=lambda o: -((e.estimate if (e := national[o]) and
                                                    not e.suppressed else -1) or 0))
        rows = [{"label": self.data.area_label(level, a), "total": False,
                 "cells": [self.value(self.estimate(level, a, indicator, o), "prop") for o in options]}
                for a in areas]
        if total:
            rows.append({"label": self.text["national"] if total[0] == "national" else
                         self.data.area_label(*total), "total": True,
                         "cells": [self.value(self.estimate(total[0], total[1], indicator, o), "prop")
                                   for o in options]})
        return {"title": self.data.indicator_label(indicator, self.code), "area_header": area_header,
                "columns": [self.data.option_label(indicator, o, self.code) for o in options], "rows": rows}

    def heat_tables(self, indicator: str, level: str, areas: list[str], total: tuple[str, str] | None,
                    area_header: str) -> list[dict]:
        """The heat table, split into parts of at most MAX_HEAT_COLUMNS answers so it fits the A4 width."""
        whole = self.heat_table(indicator, level, areas, total, area_header)
        n = len(whole["columns"])
        if n <= MAX_HEAT_COLUMNS:
            return [whole]
        parts = []
        for start in range(0, n, MAX_HEAT_COLUMNS):
            end = min(n, start + MAX_HEAT_COLUMNS)
            parts.append({
                **whole,
                "title": whole["title"] if start == 0 else f"{whole['title']} ({start + 1}–{end} / {n})",
                "columns": whole["columns"][start:end],
                "rows": [{**r, "cells": r["cells"][start:end]} for r in whole["rows"]],
            })
        return parts

    def matrix(self, title: str, area_header: str, rows: list[tuple[str, str, bool]],
               cols: list[tuple[str, str, str]]) -> dict:
        """A heat table of shares: rows (level, area, is_total) x columns (label, indicator, option)."""
        return {"title": title, "area_header": area_header, "columns": [c[0] for c in cols],
                "rows": [{"label": self.text["national"] if level == "national" else
                          self.data.area_label(level, area),
                          "total": total, "cells": [self.value(self.estimate(level, area, i, o), "prop")
                                                    for _, i, o in cols]} for level, area, total in rows]}

    def in_need(self) -> tuple[str, str] | None:
        """(indicator, option) of the share of households in need, when the indicators step wrote one."""
        if "severity_overall" in self.data.severity_indicators():
            return "severity_overall", "3+"
        if "severity_in_need" in self.data.indicator_names():
            return "severity_in_need", ""
        return None

    def severity_context(self, level: str, areas: list[str], total: tuple[str, str], area_header: str,
                         distribution: bool) -> dict | None:
        sev = self.data.severity_indicators()
        if not sev:
            return None
        rows = [(level, a, False) for a in areas] + [(total[0], total[1], True)]
        cols = [(self.data.sector_label(i, self.code), i, "3+") for i in sev]
        title = self.text.fill("severity_by", level=area_header.lower())
        out = {"by_area": self.matrix(title, area_header, rows, cols), "distribution": None}
        if distribution:
            phases = [(self.text.fill("phase", p=p), p) for p in ("1", "2", "3", "4", "5")]
            table: dict[str, Any] = {"title": self.text["severity_dist"], "area_header": self.text["sector"],
                                     "columns": [p[0] for p in phases] + [self.text["in_need_col"]], "rows": []}
            for i in sev:
                table["rows"].append({"label": self.data.sector_label(i, self.code),
                                      "total": i == "severity_overall",
                                      "cells": [self.value(self.estimate(total[0], total[1], i, o), "prop")
                                                for o in [p[1] for p in phases] + ["3+"]]})
            out["distribution"] = table
        return out

    def ranking_context(self, areas: list[str]) -> dict | None:
        """Top three needs per region from the `ranking` table, ties (overlapping CIs) marked '='."""
        rows = self.data.ranking()
        needs = [n for n in self.data.needs() if self.data.kind(n) == "prop"]
        multi = [n for n in needs if (q := self.form.questions.get(n)) is not None and q.type == "select_multiple"]
        indicator = multi[0] if multi else needs[0] if needs else None
        if not rows or indicator is None or not {"level", "area", "indicator", "option", "rank"} <= set(rows[0]):
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
            body.append({"label": self.text["national"] if level == "national" else
                         self.data.area_label(level, area), "total": level == "national", "cells": cells})
        return {"title": self.data.indicator_label(indicator, self.code), "note": self.text["ranking_note"],
                "headers": [self.text.fill("rank_n", n=i) for i in range(1, TOP_N + 1)],
                "area_header": self.data.level_label(self.level0) if self.level0 else "", "rows": body}

    def value_table(self, items: list[tuple[str, str]], level: str, areas: list[str],
                    total: tuple[str, str] | None, area_header: str, title: str) -> dict | None:
        """Rows = areas, columns = (indicator, option) pairs; cells show value and CI."""
        if not items:
            return None
        data = self.data
        kinds = [data.kind(i) for i, _ in items]
        cols = [data.indicator_label(i, self.code) + (f" – {data.option_label(i, o, self.code)}" if o else "")
                for i, o in items]
        rows = [{"label": data.area_label(level, a), "total": False,
                 "cells": [self.value(self.estimate(level, a, i, o), k)
                           for (i, o), k in zip(items, kinds, strict=True)]}
                for a in areas]
        if total:
            rows.append({"label": self.text["national"] if total[0] == "national" else data.area_label(*total),
                         "total": True, "cells": [self.value(self.estimate(total[0], total[1], i, o), k)
                                                  for (i, o), k in zip(items, kinds, strict=True)]})
        return {"title": title, "area_header": area_header, "columns": cols, "rows": rows}

    def chart_for(self, indicator: str, level: str, area: str, *, reference: tuple[str, str] | None,
                  by_areas: tuple[str, list[str]] | None = None) -> dict:
        """Options of a select question (or areas, for a mean) as sorted bars with CI whiskers."""
        text, data = self.text, self.data
        kind = data.kind(indicator)
        bars: list[charts.Bar] = []
        texts: dict[int, tuple[str, str]] = {}
        if kind == "prop" and data.options(indicator) != [""]:
            keys = [(level, area, o, data.option_label(indicator, o, self.code)) for o in data.options(indicator)]
        else:
            sub_level, areas = by_areas or (level, [area])
            keys = [(sub_level, a, "", data.area_label(sub_level, a) or text["national"]) for a in areas]
        for lvl, a, o, label in keys:
            e = self.estimate(lvl, a, indicator, o)
            if e is None:
                continue
            ref = self.estimate(*reference, indicator, o) if reference else None
            bar = charts.Bar(label=label, value=e.estimate, low=e.ci_low, high=e.ci_high, suppressed=e.suppressed,
                             reference=ref.estimate if ref is not None and not ref.suppressed else None)
            v = self.value(e, kind)
            texts[id(bar)] = (v["text"], v["ci"])
            bars.append(bar)
        bars = charts.sort_bars(bars)
        scale = charts.scale_for(bars, percent=kind == "prop", rtl=text.rtl)
        rows = [{"label": b.label, "src": self.write_svg(charts.bar_strip(b, scale)), "text": texts[id(b)][0],
                 "ci": texts[id(b)][1], "suppressed": b.suppressed} for b in bars]
        legend = [{"src": self.write_svg(charts.legend_icon("bar")), "text": text["estimate"]},
                  {"src": self.write_svg(charts.legend_icon("ci")), "text": text["ci"]}]
        if reference:
            legend.append({"src": self.write_svg(charts.legend_icon("reference")),
                           "text": text["national_marker"]})
        options = data.options(indicator)
        base = self.estimate(level, area, indicator, options[0]) if options else None
        label = data.indicator_label(indicator, self.code)
        note = text.fill("n_households", n=text.count(base.n)) \
            if base is not None and base.n and not base.suppressed else ""
        return {"title": label, "note": note, "rows": rows, "legend": legend,
                "axis": self.write_svg(charts.axis_strip(scale, decimal_comma=self.code == "fr"))}
