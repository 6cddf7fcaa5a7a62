"""Report pages on who does what where: the needs-versus-presence matrix, the ranked gaps, people in need and
the maps, plus the national summary's sentences on them. Read from the `coverage`, `pin` and `partner_files`
tables the run wrote (assess/partners/); nothing here recomputes a number.
"""

from __future__ import annotations

from typing import Any

from ..core.names import safe_name
from ..core.partner_settings import CLUSTERS
from ..core.sqlutil import table_exists
from ..partners.read import shown_coverage, shown_pin
from . import maps
from .context import Context, heat_class

GAP_NAMES = {
    "gap": "Gap: no partner",
    "thin": "One partner",
    "covered": "Two or more partners",
    "low_need": "Need below threshold",
    "unknown": "No estimate",
}
TOP_GAPS = 15
NO_BOUNDARIES = "No admin boundaries are configured ([report.boundaries]), so there are no maps."


class PartnerPages(Context):
    """Contexts of the partner pages (`_partners.html.j2`), for the national report and each region report."""

    # -- reading --------------------------------------------------------------------------------------------
    def _partner_tables(self) -> dict[str, Any]:
        cache = self.__dict__.get("_partner_cache")
        if cache is not None:
            return cache
        con, r = self.data.con, {"round": self.settings.round}
        cov = shown_coverage(con, self.settings, self.settings.round)
        pin = shown_pin(con, self.settings.round)
        file = (
            con.execute(
                "SELECT file, rows, accepted, quarantined, status, reason FROM partner_files WHERE round = $round",
                r,
            ).fetchone()
            if table_exists(con, "partner_files")
            else None
        )
        cache = {
            "coverage": {(c[0], c[1], c[2]): c for c in cov},
            "pin": {(p[0], p[1], p[2]): p for p in pin},
            "file": file,
        }
        self.__dict__["_partner_cache"] = cache
        return cache

    def cluster_label(self, code: str) -> str:
        return CLUSTERS.get(code.upper(), (code,))[0]

    def pin_sectors(self) -> list[tuple[str, str]]:
        """(severity sector, label) for the PiN columns, intersectoral last."""
        sev = [
            (s.sector, self.data.sector_label(f"severity_{s.sector}", self.code))
            for s in self.settings.indicators.severity
        ]
        return [*sev, ("overall", "Intersectoral")]

    def _label(self, level: str, area: str) -> str:
        return self.text["national"] if level == "national" else self.data.area_label(level, area)

    # -- pieces ---------------------------------------------------------------------------------------------
    def partner_matrix(self, rows: list[tuple[str, str]], title: str) -> dict | None:
        cov = self._partner_tables()["coverage"]
        spec = self.settings.partners
        if spec is None or not cov:
            return None
        sectors = list(spec.sectors)
        out_rows: list[dict] = []
        for level, area in rows:
            cells = []
            for s in sectors:
                c = cov.get((level, area, s))
                if c is None:
                    cells.append(
                        {"need": "–", "partners": "", "cls": "hn", "gap": "unknown", "uncertain": False}
                    )
                    continue
                need = c[5]
                cells.append(
                    {
                        "need": self.text.pct(need) if need is not None else self.text.suppressed,
                        "partners": str(c[3]),
                        "cls": heat_class(need, "need") if need is not None else "hs",
                        "gap": c[8],
                        "uncertain": bool(c[9]),
                        "orgs": c[4] or "",
                    }
                )
            out_rows.append({"label": self._label(level, area), "cells": cells, "total": not out_rows})
        return {
            "title": title,
            "headers": [{"code": s, "name": self.cluster_label(s)} for s in sectors],
            "rows": out_rows,
            "high_need": self.text.pct(spec.high_need),
        }

    def gaps(self, keys: list[tuple[str, str]], parent_of: dict[str, str] | None = None) -> list[dict]:
        """Gap and thin cells among `keys` areas, gaps first, then by need (largest first)."""
        cov = self._partner_tables()["coverage"]
        found = [c for (lv, a, _), c in cov.items() if (lv, a) in set(keys) and c[8] in ("gap", "thin")]
        found.sort(key=lambda c: (c[8] != "gap", -(c[5] or 0)))
        out = []
        for c in found[:TOP_GAPS]:
            label = self._label(c[0], c[1])
            if parent_of and c[1] in parent_of:
                label += f" ({self.data.area_label(self.level0 or '', parent_of[c[1]])})"
            out.append(
                {
                    "area": label,
                    "sector": f"{c[2]} – {self.cluster_label(c[2])}",
                    "need": self.text.pct(c[5]),
                    "ci": self.text.pct_ci(c[6], c[7]),
                    "partners": c[4] or "none",
                    "gap": GAP_NAMES[c[8]],
                    "cls": c[8],
                    "uncertain": "CI crosses the threshold" if c[9] else "",
                }
            )
        return out

    def pin_table(self, rows: list[tuple[str, str]], title: str) -> dict | None:
        pin = self._partner_tables()["pin"]
        if not pin:
            return None
        sectors = self.pin_sectors()
        unit = next(iter(pin.values()))[3]
        out_rows: list[dict] = []
        for level, area in rows:
            cells = []
            population = ""
            for s, _ in sectors:
                p = pin.get((level, area, s))
                if p is None:
                    cells.append({"text": "–", "ci": ""})
                    continue
                population = self.text.count(round(p[4]))
                ci = (
                    f"{self.text.count(round(p[6]))}–{self.text.count(round(p[7]))}"
                    if p[6] is not None
                    else ""
                )
                cells.append({"text": self.text.count(round(p[5])), "ci": ci})
            if any(c["text"] != "–" for c in cells):
                out_rows.append(
                    {
                        "label": self._label(level, area),
                        "population": population,
                        "cells": cells,
                        "total": not out_rows,
                    }
                )
        return {"title": title, "headers": [label for _, label in sectors], "rows": out_rows, "unit": unit}

    # -- maps -----------------------------------------------------------------------------------------------
    def partner_maps(self) -> dict:
        """The national maps, or the one note that there are none."""
        if not self.settings.boundaries:
            return {
                "maps": [],
                "note": "No admin boundaries are configured ([report.boundaries]), so there are no maps.",
            }
        data, cov = self.data, self._partner_tables()["coverage"]
        first, last, n = data.dates()
        source = f"Source: {self.title}, round {self.settings.round}; {self.text.count(n)} households; 95% CIs in the tables."
        matched: dict[str, maps.Boundaries] = {}
        notes = []
        for level, spec in self.settings.boundaries.items():
            try:
                b = maps.match_boundaries(spec, data.areas(level))
            except maps.BoundaryError as exc:
                notes.append(str(exc))
                continue
            matched[level] = b
            if b.missing_areas:
                names = ", ".join(data.area_label(level, a) for a in b.missing_areas)
                notes.append(f"{data.level_label(level)}: no boundary for {names} (not drawn).")
            if b.unmatched_features:
                notes.append(
                    f"{data.level_label(level)}: {len(b.unmatched_features)} boundary feature(s) match no area of "
                    f"the form ({', '.join(b.unmatched_features[:5])}); drawn grey."
                )
        out = []
        levels = [lv for lv in self.settings.region_levels if lv in matched]
        finest = levels[-1] if levels else None
        outline = matched.get(levels[0]) if len(levels) > 1 else None
        for level in levels:
            b = matched[level]
            labels = {a: data.plain_area_label(level, a) for a in b.features}

            def share(indicator: str, level: str = level, b: maps.Boundaries = b) -> dict[str, float | None]:
                return {
                    a: (e.estimate if self.shown(e := self.estimate(level, a, indicator, "3+")) else None)
                    for a in b.features
                }

            png = maps.share_map(
                b, share("severity_overall"), labels, title=f"Households in need (severity 3+), by {data.level_label(level).lower()}",
                source=source, no_value="suppressed (n<5) or no data", legend="Share", outline=outline if level == finest else None,
                width=420,
            )  # fmt: skip
            out.append({"src": maps.write_png(self.chart_dir, f"map-need-{level}.png", png), "wide": True})
        if finest:
            b = matched[finest]
            labels = {a: data.plain_area_label(finest, a) for a in b.features}
            for s, label in self.pin_sectors()[:-1]:
                vals = {
                    a: (
                        e.estimate
                        if self.shown(e := self.estimate(finest, a, f"severity_{s}", "3+"))
                        else None
                    )
                    for a in b.features
                }
                png = maps.share_map(b, vals, labels, title=f"{label}: in need (severity 3+)", source=source,
                                     no_value="suppressed or no data", legend="Share", outline=outline)  # fmt: skip
                out.append(
                    {"src": maps.write_png(self.chart_dir, f"map-{s}-{finest}.png", png), "wide": False}
                )
            for code in self.settings.partners.sectors if self.settings.partners and cov else []:
                classes = {a: c[8] for (lv, a, s), c in cov.items() if lv == finest and s == code}
                png = maps.class_map(b, classes, labels, GAP_NAMES, title=f"{code} – {self.cluster_label(code)}: gaps",
                                     source=source, legend="Coverage", outline=outline)  # fmt: skip
                out.append(
                    {
                        "src": maps.write_png(self.chart_dir, f"map-gap-{code}-{finest}.png", png),
                        "wide": False,
                    }
                )
        return {"maps": out, "note": " ".join(notes)}

    def region_map(self, area: str, children: list[str]) -> dict:
        """The share in need by district inside one region (from the finer level's boundaries)."""
        level = self.level1
        if not self.settings.boundaries:
            return {"maps": [], "note": NO_BOUNDARIES}
        if level is None or level not in self.settings.boundaries or not children:
            return {"maps": [], "note": ""}
        try:
            b = maps.match_boundaries(self.settings.boundaries[level], children)
        except maps.BoundaryError as exc:
            return {"maps": [], "note": str(exc)}
        if not b.features:
            return {"maps": [], "note": ""}
        b.unmatched_features = []  # the other regions' districts
        _, _, n = self.data.dates(self.level0, area)
        vals = {
            a: (e.estimate if self.shown(e := self.estimate(level, a, "severity_overall", "3+")) else None)
            for a in b.features
        }
        png = maps.share_map(
            b, vals, {a: self.data.plain_area_label(level, a) for a in b.features},
            title=f"Households in need (severity 3+), by {self._lower(level)}",
            source=f"Source: {self.title}, round {self.settings.round}; {self.text.count(n)} households.",
            no_value="suppressed (n<5) or no data", legend="Share", width=360,
        )  # fmt: skip
        name = f"map-need-{level}-{safe_name(area)}.png"
        missing = ", ".join(self.data.area_label(level, a) for a in b.missing_areas)
        note = f"No boundary for {missing} (not drawn)." if missing else ""
        return {"maps": [{"src": maps.write_png(self.chart_dir, name, png), "wide": False}], "note": note}

    # -- assembled ------------------------------------------------------------------------------------------
    def partner_file_note(self) -> str:
        f = self._partner_tables()["file"]
        if f is None:
            return ""
        if f[4] == "rejected":
            return f"The 3W list {f[0]} could not be used: {f[5]}. Its receipt says what to fix."
        kept = f" {self.text.count(f[3])} row(s) were kept aside (see its receipt)." if f[3] else ""
        return f"3W list {f[0]}: {self.text.count(f[2])} of {self.text.count(f[1])} rows used.{kept}"

    def partners_national(self) -> dict | None:
        if self.settings.partners is None and not self._partner_tables()["pin"]:
            return None
        level0, level1 = self.level0, self.level1
        areas0 = self.data.areas(level0) if level0 else []
        rows = [("national", "all"), *((level0, a) for a in areas0 if level0)]
        fine = level1 or level0
        fine_areas = self.data.areas(fine) if fine else []
        parents = {
            a: p
            for a in fine_areas
            for p in areas0
            if level1 and a in self.data.children(level0 or "", p, level1)
        }
        return {
            "matrix": self.partner_matrix(rows, f"Need and partners by {self._lower(level0)}"),
            "gaps": self.gaps([(fine, a) for a in fine_areas] if fine else [], parents if level1 else None),
            "gap_level": self._lower(fine),
            "pin": self.pin_table(rows, f"People in need by {self._lower(level0)}"),
            "maps": self.partner_maps(),
            "file_note": self.partner_file_note(),
            "sentences": self.partner_sentences(),
            "min_cell": self.settings.min_cell,
        }

    def partners_region(self, area: str) -> dict | None:
        if self.settings.partners is None and not self._partner_tables()["pin"]:
            return None
        assert self.level0 is not None
        children = self.data.children(self.level0, area, self.level1) if self.level1 else []
        rows = [(self.level0, area), *((self.level1, c) for c in children if self.level1)]
        keys = [(self.level1, c) for c in children] if self.level1 else [(self.level0, area)]
        return {
            "matrix": self.partner_matrix(
                rows, f"Need and partners by {self._lower(self.level1 or self.level0)}"
            ),
            "gaps": self.gaps(keys),
            "gap_level": self._lower(self.level1 or self.level0),
            "pin": self.pin_table(rows, f"People in need by {self._lower(self.level1 or self.level0)}"),
            "maps": self.region_map(area, children),
            "file_note": self.partner_file_note(),
            "sentences": [],
            "min_cell": self.settings.min_cell,
        }

    def _lower(self, level: str | None) -> str:
        return self.data.level_label(level).lower() if level else ""

    def partner_sentences(self) -> list[str]:
        """The national summary's plain sentences: gaps, thin coverage and people in need."""
        out = []
        cov, pin, spec = (
            self._partner_tables()["coverage"],
            self._partner_tables()["pin"],
            self.settings.partners,
        )
        if spec is not None and cov:
            fine = self.level1 or self.level0 or "national"
            cells = [c for (lv, _, _), c in cov.items() if lv == fine]
            gaps = sorted((c for c in cells if c[8] == "gap"), key=lambda c: -(c[5] or 0))
            thin = [c for c in cells if c[8] == "thin"]
            where = self._lower(fine)
            if gaps:
                top = gaps[0]
                out.append(
                    f"{len(gaps)} {where} x sector combinations have a need of {self.text.pct(spec.high_need)} or more "
                    f"and no active partner; the largest is {top[2]} – {self.cluster_label(top[2])} in "
                    f"{self.data.area_label(fine, top[1])}: {self.text.pct(top[5])} ({self.text.pct_ci(top[6], top[7])})."
                )
            else:
                out.append(f"No {where} has a sector with high need and no active partner.")
            if thin:
                out.append(f"{len(thin)} more have a single active partner.")
            unsure = sum(1 for c in cells if c[9])
            if unsure:
                out.append(
                    f"In {unsure} {where} x sector combinations the 95% CI of the need crosses "
                    f"{self.text.pct(spec.high_need)}, so their class is uncertain."
                )
        overall = pin.get(("national", "all", "overall"))
        if overall is not None:
            unit = overall[3]
            out.append(
                f"People in need (intersectoral, severity 3+): {self.text.count(round(overall[5]))} {unit} "
                f"({self.text.count(round(overall[6]))}–{self.text.count(round(overall[7]))}) of "
                f"{self.text.count(round(overall[4]))}."
            )
            by_sector = [
                f"{label} {self.text.count(round(p[5]))}"
                for s, label in self.pin_sectors()[:-1]
                if (p := pin.get(("national", "all", s))) is not None
            ]
            if by_sector:
                out.append(f"By sector: {', '.join(by_sector)} {unit}; these overlap and are never added up.")
        return out


def add_partner_pages(ctx: dict, partners: dict | None, before: str = "s-methodology") -> dict:
    """Put the partner pages into a report context (and its contents list, before the methodology)."""
    ctx["partners"] = partners
    toc = ctx.get("toc")
    if partners and isinstance(toc, list):
        at = next((i for i, t in enumerate(toc) if t["id"] == before), len(toc))
        toc.insert(at, {"id": "s-partners", "title": "Needs and partners"})
    return ctx
