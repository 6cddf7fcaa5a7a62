"""PDF reports: one national report and one per first-level region, from the store (read-only).

Store -> plain dicts (`report_data`) -> SVG charts (`charts`) -> Jinja2 HTML (autoescape, StrictUndefined)
-> WeasyPrint PDF in a small process pool. WeasyPrint may only load files from `templates/`, the run's chart
files and the configured logo (`SafeFetcher`); anything else, including a URL typed into a survey answer,
is refused. PDFs are written under a temporary name and renamed, so a reader never sees half a file.
Speed: about 0.5 s of CPU per page; install `libharfbuzz-subset0` (WeasyPrint's fast font subsetter),
see benchmarks/bench_reports.py.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from ..core.settings import Settings
from ..core.summary import RunSummary
from ..core.xlsform import XLSForm
from . import charts
from .queries import (
    HEAT_COLOURS,
    HEAT_EDGES,
    Estimate,
    StoreData,
    Text,
    code_version,
    now_text,
)
from .templates import environment, templates_dir

if TYPE_CHECKING:
    import duckdb

TOP_N = 3

MAX_HEAT_COLUMNS = 9  # answers per heat table on an A4 page; longer lists continue in a second table


# ---------------------------------------------------------------------------------------------- fetcher
def _fetcher_base():  # imported lazily: WeasyPrint is slow to import and only needed when rendering
    from weasyprint.urls import URLFetcher

    return URLFetcher


class FetchRefused(ValueError):
    """WeasyPrint asked for a resource outside the allow-list."""


def make_fetcher(roots: list[str], files: list[str]):
    """A WeasyPrint URL fetcher that serves only files under `roots` or listed in `files`.

    Everything else (http, https, ftp, data:, other local files, symlinks leading out) is refused.
    `fetcher.requested` records every URL asked for, so tests can prove what was (not) fetched.
    """
    base = _fetcher_base()

    class SafeFetcher(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__(allowed_protocols={"file"})
            self.roots = [Path(r).resolve() for r in roots]
            self.files = {Path(f).resolve() for f in files}
            self.requested: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            from weasyprint.urls import URLFetcherResponse

            self.requested.append(url)
            parts = urlsplit(url)
            if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
                raise FetchRefused(f"refused: {url[:80]}")
            path = Path(unquote(parts.path)).resolve()
            allowed = path in self.files or any(path.is_relative_to(r) for r in self.roots)
            if not allowed or not path.is_file():
                raise FetchRefused(f"refused: {url[:80]}")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(path.as_uri(), path.read_bytes(), headers={"Content-Type": mime})

    return SafeFetcher()


# ---------------------------------------------------------------------------------------------- jobs
@dataclass
class RenderJob:
    html: str
    out: Path
    roots: list[str]
    files: list[str] = field(default_factory=list)


def render_job(job: RenderJob) -> int:
    """HTML -> PDF (tagged, fonts embedded), written atomically; returns the page count."""
    from weasyprint import HTML

    fetcher = make_fetcher(job.roots, job.files)
    document = HTML(string=job.html, base_url=templates_dir().as_uri() + "/", url_fetcher=fetcher).render()
    job.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = job.out.with_name(f".{job.out.name}.{os.getpid()}.tmp")
    try:
        document.write_pdf(tmp, pdf_tags=True)
        os.replace(tmp, job.out)
    finally:
        tmp.unlink(missing_ok=True)
    return len(document.pages)


def render_all(jobs: list[RenderJob], workers: int | None = None) -> list[int]:
    """Render jobs in a process pool (spawned: safe inside a threaded flow run); inline when few."""
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    if workers <= 1 or len(jobs) <= 2:
        return [render_job(j) for j in jobs]
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        return list(pool.map(render_job, jobs, chunksize=1))


# ---------------------------------------------------------------------------------------------- helpers
def file_safe(name: str) -> str:
    """A file name from a label: letters (any script), digits, '-' and '_' only."""
    s = re.sub(r"[^\w\-]+", "-", name, flags=re.UNICODE).strip("-_.")
    return s[:80]


def heat_class(value: float) -> str:
    return "h" + str(sum(value >= e for e in HEAT_EDGES))


class Builder:
    """Turns StoreData into template contexts for the national and region reports."""

    def __init__(self, data: StoreData, settings: Settings, form: XLSForm, text: Text, run: RunSummary | None,
                 chart_dir: Path, logo: str | None):
        self.d = data
        self.s = settings
        self.form = form
        self.t = text
        self.run = run
        self.chart_dir = chart_dir
        self.logo = logo
        self.code = text.code
        self.level0 = settings.region_levels[0] if settings.region_levels else None
        self.level1 = settings.region_levels[1] if len(settings.region_levels) > 1 else None
        self.version = code_version()
        self.generated = now_text()
        self._written: dict[str, str] = {}

    # -- small pieces -----------------------------------------------------------------------------------
    def est(self, level: str, area: str, indicator: str, option: str = "") -> Estimate | None:
        return self.d.index.get((level, area, indicator, option))

    def value(self, e: Estimate | None, kind: str) -> dict:
        """One formatted cell: text, ci, n, suppressed, css class."""
        t = self.t
        if e is None or e.estimate is None and not e.suppressed:
            return {"text": "–", "ci": "", "n": "", "suppressed": False, "cls": "hn", "raw": None}
        if e.suppressed:
            return {"text": t.suppressed, "ci": "", "n": "", "suppressed": True, "cls": "hs", "raw": None}
        if kind == "prop":
            return {"text": t.pct(e.estimate), "ci": t.pct_ci(e.ci_low, e.ci_high), "n": t.count(e.n),
                    "suppressed": False, "cls": heat_class(e.estimate or 0.0), "raw": e.estimate}
        return {"text": t.num(e.estimate), "ci": t.num_ci(e.ci_low, e.ci_high), "n": t.count(e.n),
                "suppressed": False, "cls": "", "raw": e.estimate}

    def item(self, label: str, e: Estimate, kind: str) -> str:
        v = self.value(e, kind)
        if v["ci"]:
            return self.t.t("item_ci", label=label, value=v["text"], ci=v["ci"])
        return self.t.t("item_value", label=label, value=v["text"])

    def ranked_options(self, level: str, area: str, indicator: str) -> list[tuple[str, Estimate]]:
        """(option, estimate) pairs, largest share first; suppressed cells are never ranked."""
        rows = [(o, self.est(level, area, indicator, o)) for o in self.d.options(indicator)]
        good = [(o, e) for o, e in rows if e is not None and not e.suppressed and e.estimate is not None]
        return sorted(good, key=lambda p: -(p[1].estimate or 0.0))

    def write_svg(self, svg: str) -> str:
        """Write an SVG once per content (legend icons and axes repeat) and return its file URL."""
        name = hashlib.sha1(svg.encode("utf-8")).hexdigest()[:16] + ".svg"
        if name not in self._written:
            path = self.chart_dir / name
            _atomic_write_text(path, svg)  # parallel region renders may write the same chart
            self._written[name] = path.as_uri()
        return self._written[name]

    def legend(self) -> list[dict]:
        edges = (0.0, *HEAT_EDGES, 1.0)
        items = []
        for i in range(len(HEAT_COLOURS)):
            lo, hi = edges[i], edges[i + 1]
            items.append({"cls": f"h{i}", "text": f"{self.t.pct_number(lo)}–{self.t.pct(hi)}"})
        items.append({"cls": "hs", "text": self.t.suppressed})
        return items

    def doc(self, kind: str, title: str, region: str, description: str) -> dict:
        return {"lang": self.code, "dir": "rtl" if self.t.rtl else "ltr", "title": title, "kind": kind,
                "author": self.s.organisation, "description": description,
                "keywords": ", ".join(x for x in ("needs assessment", self.s.round, region) if x),
                "generator": self.version, "created": self.generated, "header_title": self.title,
                "header_region": region}

    @property
    def title(self) -> str:
        return self.s.title or self.form.title

    def dates_text(self, first: Any, last: Any) -> str:
        if first is None:
            return ""
        if first == last:
            return self.t.day(first)
        start, end = self.t.period(first, last)
        sep = "–" if " " not in start else " – "
        return f"{start}{sep}{end}"

    def repro(self) -> dict:
        return {"run_id": (self.run.run_id if self.run else "") or "–", "generated": self.generated,
                "version": self.version,
                "inputs": [{"name": f["name"], "sha256": f["sha256"]} for f in self.d.files()]}

    # -- tables -----------------------------------------------------------------------------------------
    def heat_table(self, indicator: str, level: str, areas: list[str], total: tuple[str, str] | None,
                   area_header: str) -> dict:
        options = self.d.options(indicator)
        # columns in national order (largest first), so the eye reads the top needs left to right
        national = {o: (self.est("national", "all", indicator, o) or None) for o in options}
        options = sorted(options, key=lambda o: -((national[o].estimate if national[o] and
                                                    not national[o].suppressed else -1) or 0))
        rows = [{"label": self.d.area_label(level, a), "total": False,
                 "cells": [self.value(self.est(level, a, indicator, o), "prop") for o in options]}
                for a in areas]
        if total:
            rows.append({"label": self.t["national"] if total[0] == "national" else
                         self.d.area_label(*total), "total": True,
                         "cells": [self.value(self.est(total[0], total[1], indicator, o), "prop")
                                   for o in options]})
        return {"title": self.d.indicator_label(indicator, self.code), "area_header": area_header,
                "columns": [self.d.option_label(indicator, o, self.code) for o in options], "rows": rows}

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
                "rows": [{"label": self.t["national"] if level == "national" else self.d.area_label(level, area),
                          "total": total, "cells": [self.value(self.est(level, area, i, o), "prop")
                                                    for _, i, o in cols]} for level, area, total in rows]}

    def in_need(self) -> tuple[str, str] | None:
        """(indicator, option) of the share of households in need, when the indicators step wrote one."""
        if "severity_overall" in self.d.severity_indicators():
            return "severity_overall", "3+"
        if "severity_in_need" in self.d.indicator_names():
            return "severity_in_need", ""
        return None

    def severity_context(self, level: str, areas: list[str], total: tuple[str, str], area_header: str,
                         distribution: bool) -> dict | None:
        sev = self.d.severity_indicators()
        if not sev:
            return None
        rows = [(level, a, False) for a in areas] + [(total[0], total[1], True)]
        cols = [(self.d.sector_label(i, self.code), i, "3+") for i in sev]
        title = self.t.t("severity_by", level=area_header.lower() if self.code != "de" else area_header)
        out = {"by_area": self.matrix(title, area_header, rows, cols), "distribution": None}
        if distribution:
            phases = [(self.t.t("phase", p=p), p) for p in ("1", "2", "3", "4", "5")]
            table = {"title": self.t["severity_dist"], "area_header": self.t["sector"],
                     "columns": [p[0] for p in phases] + [self.t["in_need_col"]], "rows": []}
            for i in sev:
                table["rows"].append({"label": self.d.sector_label(i, self.code), "total": i == "severity_overall",
                                      "cells": [self.value(self.est(total[0], total[1], i, o), "prop")
                                                for o in [p[1] for p in phases] + ["3+"]]})
            out["distribution"] = table
        return out

    def ranking_context(self, areas: list[str]) -> dict | None:
        """Top three needs per region from the `ranking` table, ties (overlapping CIs) marked '='."""
        rows = self.d.ranking()
        needs = [n for n in self.d.needs() if self.d.kind(n) == "prop"]
        multi = [n for n in needs if (q := self.form.questions.get(n)) is not None and q.type == "select_multiple"]
        indicator = (multi or needs or [None])[0]
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
                e = self.est(level, area, indicator, r["option"])
                value = self.t.pct(e.estimate) if e is not None and not e.suppressed else ""
                tie = "= " if r.get("tied_with_above") else ""
                cells.append(f"{tie}{self.d.option_label(indicator, r['option'], self.code)} ({value})")
            cells += [""] * (TOP_N - len(cells))
            body.append({"label": self.t["national"] if level == "national" else self.d.area_label(level, area),
                         "total": level == "national", "cells": cells})
        return {"title": self.d.indicator_label(indicator, self.code), "note": self.t["ranking_note"],
                "headers": [self.t.t("rank_n", n=i) for i in range(1, TOP_N + 1)],
                "area_header": self.d.level_label(self.level0) if self.level0 else "", "rows": body}

    def value_table(self, items: list[tuple[str, str]], level: str, areas: list[str],
                    total: tuple[str, str] | None, area_header: str, title: str) -> dict | None:
        """Rows = areas, columns = (indicator, option) pairs; cells show value and CI."""
        if not items:
            return None
        kinds = [self.d.kind(i) for i, _ in items]
        cols = [self.d.indicator_label(i, self.code) + (f" – {self.d.option_label(i, o, self.code)}" if o else "")
                for i, o in items]
        rows = [{"label": self.d.area_label(level, a), "total": False,
                 "cells": [self.value(self.est(level, a, i, o), k) for (i, o), k in zip(items, kinds, strict=True)]}
                for a in areas]
        if total:
            rows.append({"label": self.t["national"] if total[0] == "national" else self.d.area_label(*total),
                         "total": True, "cells": [self.value(self.est(total[0], total[1], i, o), k)
                                                  for (i, o), k in zip(items, kinds, strict=True)]})
        return {"title": title, "area_header": area_header, "columns": cols, "rows": rows}

    def chart_for(self, indicator: str, level: str, area: str, *, reference: tuple[str, str] | None,
                  by_areas: tuple[str, list[str]] | None = None) -> dict:
        """Options of a select question (or areas, for a mean) as sorted bars with CI whiskers."""
        kind = self.d.kind(indicator)
        t = self.t
        bars: list[charts.Bar] = []
        texts: dict[int, tuple[str, str]] = {}
        if kind == "prop" and self.d.options(indicator) != [""]:
            keys = [(level, area, o, self.d.option_label(indicator, o, self.code)) for o in self.d.options(indicator)]
        else:
            sub_level, areas = by_areas or (level, [area])
            keys = [(sub_level, a, "", self.d.area_label(sub_level, a) or t["national"]) for a in areas]
        for lvl, a, o, label in keys:
            e = self.est(lvl, a, indicator, o)
            if e is None:
                continue
            ref = self.est(*reference, indicator, o) if reference else None
            bar = charts.Bar(label=label, value=e.estimate, low=e.ci_low, high=e.ci_high, suppressed=e.suppressed,
                             reference=ref.estimate if ref is not None and not ref.suppressed else None)
            v = self.value(e, kind)
            texts[id(bar)] = (v["text"], v["ci"])
            bars.append(bar)
        bars = charts.sort_bars(bars)
        scale = charts.scale_for(bars, percent=kind == "prop", rtl=t.rtl)
        rows = [{"label": b.label, "src": self.write_svg(charts.bar_strip(b, scale)), "text": texts[id(b)][0],
                 "ci": texts[id(b)][1], "suppressed": b.suppressed} for b in bars]
        legend = [{"src": self.write_svg(charts.legend_icon("bar")), "text": t["estimate"]},
                  {"src": self.write_svg(charts.legend_icon("ci")), "text": t["ci"]}]
        if reference:
            legend.append({"src": self.write_svg(charts.legend_icon("reference")), "text": t["national_marker"]})
        options = self.d.options(indicator)
        base = self.est(level, area, indicator, options[0]) if options else None
        label = self.d.indicator_label(indicator, self.code)
        note = t.t("n_households", n=t.count(base.n)) if base is not None and base.n and not base.suppressed else ""
        return {"title": label, "note": note, "rows": rows, "legend": legend,
                "axis": self.write_svg(charts.axis_strip(scale, decimal_comma=self.code == "fr"))}

    # -- national ---------------------------------------------------------------------------------------
    def national(self) -> dict:
        t, d = self.t, self.d
        areas = d.areas(self.level0) if self.level0 else []
        level_label = d.level_label(self.level0) if self.level0 else ""
        first, last, households = d.dates()
        needs = d.needs()
        prop_needs = [n for n in needs if d.kind(n) == "prop" and d.options(n) != [""]]
        mean_needs = [n for n in needs if n not in prop_needs]
        heat = [part for n in prop_needs
                for part in self.heat_tables(n, self.level0, areas, ("national", "all"), level_label)
                ] if self.level0 else []
        mean_table = None  # averages by region are charted (one bar per region, with CIs) in the next section
        chart_list = [self.chart_for(n, "national", "all", reference=None,
                                     by_areas=(self.level0, areas) if self.level0 else None) for n in needs]
        sev = d.severity_indicators()
        comp = [c for c in d.composites() if c not in sev]
        comp_prop = [c for c in comp if d.kind(c) == "prop" and d.options(c) != [""]]
        comp_single = [c for c in comp if c not in comp_prop]
        composite_tables = [part for c in comp_prop
                            for part in self.heat_tables(c, self.level0, areas, ("national", "all"), level_label)
                            ] if self.level0 else []
        composite_values = self.value_table([(c, "") for c in comp_single], self.level0, areas,
                                            ("national", "all"), level_label, t["mean"]) \
            if self.level0 and comp_single else None
        trends = self.trends_context(("national", "all"))
        ranking = self.ranking_context(areas)
        severity = self.severity_context(self.level0, areas, ("national", "all"), level_label, True) \
            if self.level0 else None
        toc = [{"id": "s-summary", "title": t["summary"]}]
        if heat or mean_table:
            toc.append({"id": "s-heat", "title": t["heat"]})
        if chart_list:
            toc.append({"id": "s-charts", "title": t["charts"]})
        if severity or composite_tables or composite_values:
            toc.append({"id": "s-composite", "title": t["composite"]})
        if trends:
            toc.append({"id": "s-trends", "title": t["trends"]})
        if ranking:
            toc.append({"id": "s-ranking", "title": t["ranking_title"]})
        toc += [{"id": "s-methodology", "title": t["methodology"]}, {"id": "s-repro", "title": t["repro"]},
                {"id": "s-quality", "title": t["quality"]}]
        files = d.files()
        quality = {
            "files": [{**f, "rows": t.count(f["rows"]), "accepted": t.count(f["accepted"]),
                       "quarantined": t.count(f["quarantined"]), "warnings": t.count(f["warnings"]),
                       "format": f["format"] or "", "status": f["status"] + (f" ({f['reason']})" if f["reason"]
                                                                              else "")} for f in files],
            "total": {k: t.count(sum(int(f[k] or 0) for f in files))
                      for k in ("rows", "accepted", "quarantined", "warnings")},
            "problems": [{"action": t["act_quarantine"] if p["action"] == "quarantine" else t["act_warn"],
                          "kind": p["kind"], "reason": p["reason"], "records": t.count(p["records"])}
                         for p in d.problems()],
        }
        dates = self.dates_text(first, last)
        description = f"{t['national_report']} – {t['round']} {self.s.round}"
        return {
            "doc": self.doc("national", f"{self.title} – {t['national_report']} – {self.s.round}",
                            t["national"], description),
            "t": t.strings,
            "cover": {"title": self.title, "round": self.s.round, "dates": dates, "organisation": self.s.organisation,
                      "households": t.count(households), "logo": self.logo},
            "toc": toc,
            "summary": self.national_summary(households, first, last, areas, prop_needs, mean_needs, trends),
            "key_table": None,
            "heat_tables": heat, "mean_table": mean_table, "legend": self.legend(),
            "heat_note": t.t("heat_note", min=self.s.min_cell),
            "charts": chart_list,
            "composite_tables": composite_tables, "composite_values": composite_values, "severity": severity,
            "trends": trends, "ranking": ranking,
            "method": self.methodology(first, last, households),
            "quality": quality, "repro": self.repro(),
        }

    def national_summary(self, households: int, first: Any, last: Any, areas: list[str], prop_needs: list[str],
                         mean_needs: list[str], trends: dict | None) -> list[str]:
        t, d = self.t, self.d
        out = []
        level_word = d.level_label(self.level0) if self.level0 else ""
        if first is not None:
            start, end = t.period(first, last)
            out.append(t.t("sample_sentence", n=t.count(households), k=len(areas) or 1, level=level_word,
                           start=start, end=end))
        else:
            out.append(t.t("sample_sentence_nodates", n=t.count(households), k=len(areas) or 1, level=level_word))
        for i, n in enumerate(prop_needs):
            ranked = self.ranked_options("national", "all", n)
            if not ranked:
                continue
            question = self.form.questions.get(n)
            label = d.indicator_label(n, self.code)
            if i == 0 and question is not None and question.type == "select_multiple":
                items = [self.item(d.option_label(n, o, self.code), e, "prop") for o, e in ranked[:TOP_N]]
                out.append(t.t("top_needs", items=t.join(items)))
                top_option = ranked[0][0]
                by_area = self.area_ranking(n, top_option, areas)
                if by_area and not self.in_need():
                    what = d.option_label(n, top_option, self.code)
                    out.append(t.t("highest_in", what=what, items=t.join(by_area)))
            else:
                o, e = ranked[0]
                out.append(t.t("top_answer", question=label, item=self.item(d.option_label(n, o, self.code), e, "prop")))
        for n in mean_needs:
            e = self.est("national", "all", n, "")
            if e is not None and not e.suppressed and e.estimate is not None:
                out.append(t.t("mean_sentence", question=d.indicator_label(n, self.code), value=t.num(e.estimate),
                               ci=t.num_ci(e.ci_low, e.ci_high) or t["not_available"]))
        need = self.in_need()
        if need:
            e = self.est("national", "all", *need)
            extra = []
            if e is not None and not e.suppressed and e.estimate is not None:
                extra.append(t.t("in_need_national", value=t.pct(e.estimate),
                                 ci=t.pct_ci(e.ci_low, e.ci_high) or t["not_available"]))
            by_area = self.area_ranking(need[0], need[1], areas)
            if by_area:
                extra.append(t.t("in_need_highest", items=t.join(by_area)))
            out[1:1] = extra
        if trends and trends["n_significant"] is not None:
            out.append(t.t("trend_sentence", prev=trends["previous_round"], k=trends["n_significant"],
                           m=trends["n_total"]))
        return out

    def area_ranking(self, indicator: str, option: str, areas: list[str]) -> list[str]:
        if not self.level0:
            return []
        vals = [(a, e) for a in areas if (e := self.est(self.level0, a, indicator, option)) is not None
                and not e.suppressed and e.estimate is not None]
        vals.sort(key=lambda p: -(p[1].estimate or 0.0))
        return [self.item(self.d.area_label(self.level0, a), e, "prop") for a, e in vals[:TOP_N]]

    def trends_context(self, where: tuple[str, str]) -> dict | None:
        rows = [r for r in self.d.trends() if (r["level"], r["area"]) == where]
        if not rows:
            return None
        t = self.t
        out = []
        for r in sorted(rows, key=lambda r: (not r["significant"], -abs(r["change"] or 0))):
            kind = self.d.kind(r["indicator"])
            fmt = t.pct if kind == "prop" else t.num
            change = r["change"]
            if change is None:
                change_text = ""
            elif kind == "prop":
                change_text = f"{'+' if change > 0 else '−' if change < 0 else '±'}{round(abs(change) * 100)} {t['pts']}"
            else:
                change_text = f"{'+' if change > 0 else '−' if change < 0 else '±'}{t.num(abs(change))}"
            out.append({"indicator": self.d.indicator_label(r["indicator"], self.code),
                        "option": self.d.option_label(r["indicator"], r["option"] or "", self.code),
                        "previous": fmt(_f(r["previous_estimate"])), "current": fmt(_f(r["estimate"])),
                        "change": change_text, "significant": bool(r["significant"]),
                        "significant_text": t["yes"] if r["significant"] else t["no"]})
        prev = str(rows[0]["previous_round"])
        return {"rows": out, "previous_round": prev, "previous_header": f"{t['round']} {prev}",
                "n_significant": sum(1 for r in rows if r["significant"]), "n_total": len(rows),
                "note": t.t("trend_sentence", prev=prev, k=sum(1 for r in rows if r["significant"]), m=len(rows))}

    def methodology(self, first: Any, last: Any, households: int) -> dict:
        t, s, d = self.t, self.s, self.d
        strata_rows = d.strata()
        strata_level = s.strata or ""
        rows = [{"label": d.area_label(strata_level, str(r["stratum"])) if strata_level else t["national"],
                 "households": t.count(r["households"]),
                 "clusters": t.count(r["clusters"]) if r["clusters"] is not None else "",
                 "population": t.count(round(r["population"])) if r["population"] is not None else "",
                 "total": False} for r in strata_rows]
        if len(rows) > 1:
            rows.append({"label": t["totals"], "households": t.count(sum(r["households"] for r in strata_rows)),
                         "clusters": t.count(sum(r["clusters"] or 0 for r in strata_rows)) if s.cluster else "",
                         "population": t.count(round(sum(r["population"] or 0 for r in strata_rows)))
                         if any(r["population"] for r in strata_rows) else "", "total": True})
        if s.weight:
            weighting = t.t("weight_column", weight=s.weight)
        elif s.frame:
            weighting = t.t("weight_frame", strata=d.level_label(s.strata or ""))
        else:
            weighting = t["weight_none"]
        if s.cluster:
            weighting += " " + t.t("cluster_note", cluster=d.level_label(s.cluster))
        dfs = sorted({e.df for e in d.estimates if e.level == "national" and e.df is not None and e.df > 0})
        if dfs:
            df_text = str(dfs[0]) if len(dfs) == 1 else f"{dfs[0]}–{dfs[-1]}"
            ci = t.t("ci_text", df=df_text)
        else:
            ci = t["ci_none"]
        start, end = t.period(first, last)
        sample_text = (t.t("sample_sentence", n=t.count(households), k=len(strata_rows) or 1,
                           level=d.level_label(s.strata) if s.strata else "", start=start,
                           end=end) if first is not None else
                       t.t("sample_sentence_nodates", n=t.count(households), k=len(strata_rows) or 1,
                           level=d.level_label(s.strata) if s.strata else ""))
        return {"sample_text": sample_text, "strata": rows, "show_clusters": bool(s.cluster),
                "show_population": any(r["population"] for r in strata_rows), "weighting": weighting, "ci": ci,
                "suppression": t.t("suppression", min=s.min_cell),
                "dates": t.t("dates_text", start=t.day(first), end=t.day(last)) if first is not None else ""}

    # -- region -----------------------------------------------------------------------------------------
    def region(self, area: str) -> dict:
        t, d = self.t, self.d
        assert self.level0 is not None
        level = self.level0
        name = d.area_label(level, area)
        first, last, households = d.dates(level, area)
        needs = d.needs()
        prop_needs = [n for n in needs if d.kind(n) == "prop" and d.options(n) != [""]]
        mean_needs = [n for n in needs if n not in prop_needs]
        key = []
        for n in prop_needs:
            ranked = self.ranked_options(level, area, n)[:TOP_N]
            for i, (o, e) in enumerate(ranked):
                key.append(self.key_row(n, o, e, "prop", i == 0))
        for n in mean_needs:
            e = self.est(level, area, n, "")
            if e is not None:
                key.append(self.key_row(n, "", e, d.kind(n), True))
        sev = d.severity_indicators()
        for n in [*sev, *(c for c in d.composites() if c not in sev)]:
            options = ["3+"] if n in sev else d.options(n)
            for i, o in enumerate(options):
                e = self.est(level, area, n, o)
                if e is not None:
                    key.append(self.key_row(n, o, e, d.kind(n), i == 0))
        children = d.children(level, area, self.level1) if self.level1 else []
        chart_list = [self.chart_for(n, level, area, reference=("national", "all"),
                                     by_areas=(self.level1, children) if children else None) for n in needs]
        breakdown = None
        if children and self.level1:
            child_label = d.level_label(self.level1)
            breakdown = {
                "title": t.t("breakdown", level=child_label.lower()),
                "heat_tables": [part for n in prop_needs
                                for part in self.heat_tables(n, self.level1, children, (level, area), child_label)],
                # means by district are already in the charts above (one bar per district)
                "mean_table": None,
                "severity": self.severity_context(self.level1, children, (level, area), child_label, False),
            }
        summary = []
        if prop_needs:
            ranked = self.ranked_options(level, area, prop_needs[0])[:TOP_N]
            if ranked:
                summary.append(t.t("region_top", area=name, items=t.join(
                    [self.item(d.option_label(prop_needs[0], o, self.code), e, "prop") for o, e in ranked])))
                o, e = ranked[0]
                nat = self.est("national", "all", prop_needs[0], o)
                if nat is not None and not nat.suppressed and e.ci_low is not None and e.ci_high is not None \
                        and nat.estimate is not None and not (e.ci_low <= nat.estimate <= e.ci_high):
                    summary.append(t.t("region_vs", item=d.option_label(prop_needs[0], o, self.code),
                                       direction=t["higher"] if nat.estimate < e.ci_low else t["lower"],
                                       national=t.pct(nat.estimate)))
        need = self.in_need()
        if need:
            e, nat = self.est(level, area, *need), self.est("national", "all", *need)
            if e is not None and not e.suppressed and e.estimate is not None:
                summary.insert(0, t.t("in_need_area", area=name, value=t.pct(e.estimate),
                                   ci=t.pct_ci(e.ci_low, e.ci_high) or t["not_available"],
                                   national=self.value(nat, "prop")["text"]))
        quality = {"files": [{"name": f["name"], "households": t.count(f["households"])}
                             for f in d.region_files(level, area)],
                   "warnings": [{**w, "records": t.count(w["records"])} for w in d.region_warnings(level, area)]}
        repro = self.repro()
        return {
            "doc": self.doc("region", f"{self.title} – {name} – {self.s.round}", name,
                            f"{t['region_report']} – {name} – {t['round']} {self.s.round}"),
            "t": t.strings,
            "cover": {"title": self.title, "round": self.s.round, "area": name, "level": d.level_label(level),
                      "dates": self.dates_text(first, last), "households": t.count(households), "logo": self.logo},
            "summary": summary, "key_table": key, "charts": chart_list, "breakdown": breakdown,
            "legend": self.legend(), "heat_note": t.t("heat_note", min=self.s.min_cell), "quality": quality,
            "suppression": t.t("suppression", min=self.s.min_cell), "repro": repro,
        }

    def key_row(self, indicator: str, option: str, e: Estimate, kind: str, first: bool) -> dict:
        v = self.value(e, kind)
        nat = self.est("national", "all", indicator, option)
        nv = self.value(nat, kind)
        arrow = ""
        if nat is not None and not nat.suppressed and nat.estimate is not None and not e.suppressed \
                and e.ci_low is not None and e.ci_high is not None:
            arrow = "▲" if nat.estimate < e.ci_low else "▼" if nat.estimate > e.ci_high else ""
        return {"indicator": self.d.indicator_label(indicator, self.code),
                "option": self.d.option_label(indicator, option, self.code) if option else self.t["mean"]
                if kind == "mean" else "", "value": v["text"], "ci": v["ci"], "n": v["n"],
                "suppressed": v["suppressed"], "national": nv["text"], "arrow": arrow, "first": first}


def _f(x: Any) -> float | None:
    return None if x is None else float(x)


def region_file_names(areas: list[str], labels: dict[str, str]) -> dict[str, str]:
    """area code -> file stem: the label made file-safe; the code where labels collide or are empty."""
    stems = {a: file_safe(labels[a]) for a in areas}
    counts: dict[str, int] = {}
    for s in stems.values():
        counts[s.casefold()] = counts.get(s.casefold(), 0) + 1
    out: dict[str, str] = {}
    used: set[str] = {"national"}
    for a in areas:
        stem = stems[a]
        if not stem or counts[stem.casefold()] > 1 or stem.casefold() in used:
            stem = file_safe(a) or "region"
        base, i = stem, 2
        while stem.casefold() in used:
            stem = f"{base}-{i}"
            i += 1
        used.add(stem.casefold())
        out[a] = stem
    return out


def build_reports(con: duckdb.DuckDBPyConnection, settings: Settings, form: XLSForm, run: RunSummary | None, *,
                  language: str | None = None, workers: int | None = None, regions: bool | list[str] = True,
                  html_only: bool = False) -> list[Path]:
    """Write `reports/<round>/national.pdf` and one PDF per first-level region; return their paths.

    `language` overrides the configured label language (e.g. "Français (fr)"); `regions` is True (all), False
    (national only) or a list of area codes; `html_only` writes the HTML next to where the PDFs would go
    instead of rendering them (fast; for tests and template work; the chart files are then kept).
    Rendering uses a spawned process pool: a script calling this must guard its entry point with
    `if __name__ == "__main__":`, as multiprocessing requires.
    """
    chosen = form.choose_language(language) if language else form.language
    lang = chosen.column
    text = Text(chosen.code, settings.min_cell)
    out_dir = settings.reports_dir / settings.round
    out_dir.mkdir(parents=True, exist_ok=True)
    chart_dir = Path(tempfile.mkdtemp(prefix=".charts-", dir=out_dir))
    logo = settings.logo.resolve().as_uri() if settings.logo and settings.logo.is_file() else None
    try:
        data = StoreData(con, settings, form, lang)
        builder = Builder(data, settings, form, text, run, chart_dir, logo)
        env = environment()
        pages: list[tuple[Path, str]] = [(out_dir / "national", env.get_template("national.html.j2").render(
            **builder.national()))]
        if regions and builder.level0:
            areas = data.areas(builder.level0)
            names = region_file_names(areas, {a: data.plain_area_label(builder.level0, a) for a in areas})
            if not isinstance(regions, bool):
                areas = [a for a in areas if a in set(regions)]
            region_tpl = env.get_template("region.html.j2")
            pages += [(out_dir / names[a], region_tpl.render(**builder.region(a))) for a in areas]
        if html_only:
            written = []
            for stem, html in pages:
                path = stem.with_suffix(".html")
                _atomic_write_text(path, html)
                written.append(path)
            return written
        allowed_files = [settings.logo.resolve().as_posix()] if logo and settings.logo else []
        jobs = [RenderJob(html=html, out=stem.with_name(stem.name + ".pdf"),
                          roots=[str(templates_dir()), str(chart_dir)], files=allowed_files) for stem, html in pages]
        render_all(jobs, workers)
        return [j.out for j in jobs]
    finally:
        if not html_only:
            shutil.rmtree(chart_dir, ignore_errors=True)


def _atomic_write_text(path: Path, content: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(content, encoding="utf-8")
    os.replace(tmp, path)
