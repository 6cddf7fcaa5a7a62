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
from .partner_words import PartnerWords

GAP_CLASSES = ("gap", "thin", "covered", "low_need", "unknown")
TOP_GAPS = 15


class PartnerPages(Context):
    """Contexts of the partner pages (`_partners.html.j2`), for the national report and each region report."""

    @property
    def pw(self) -> PartnerWords:
        return PartnerWords(self.code)

    def gap_names(self) -> dict[str, str]:
        return {k: self.pw[k] for k in GAP_CLASSES}

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
        return [*sev, ("overall", self.pw["intersectoral"])]

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
                    "partners": c[4] or self.pw["none"],
                    "gap": self.pw[c[8]],
                    "cls": c[8],
                    "uncertain": self.pw["uncertain"] if c[9] else "",
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
        return {
            "title": title,
            "headers": [label for _, label in sectors],
            "rows": out_rows,
            "unit": self.pw[unit],
        }

    # -- maps -----------------------------------------------------------------------------------------------
    def _source(self, n: int) -> str:
        return self.pw.fill("source", title=self.title, round=self.settings.round, n=self.text.count(n))

    def _matched(self, notes: list[str]) -> dict[str, maps.Boundaries]:
        """Every configured level's boundaries matched to its areas; what did not match goes into `notes`."""
        data, pw = self.data, self.pw
        out: dict[str, maps.Boundaries] = {}
        for level, spec in self.settings.boundaries.items():
            try:
                b = maps.match_boundaries(spec, data.areas(level))
            except maps.BoundaryError as exc:
                notes.append(str(exc))
                continue
            out[level] = b
            if b.missing_areas:
                areas = ", ".join(data.area_label(level, a) for a in b.missing_areas)
                notes.append(pw.fill("no_boundary_for", level=data.level_label(level), areas=areas))
            if b.unmatched_features:
                names = ", ".join(b.unmatched_features[:5])
                k = len(b.unmatched_features)
                notes.append(pw.fill("unmatched", level=data.level_label(level), k=k, names=names))
        return out

    def _shares(self, b: maps.Boundaries, level: str, indicator: str) -> dict[str, float | None]:
        """Area -> its share in severity 3+ where shown (None: suppressed or not estimated)."""
        return {
            a: (e.estimate if self.shown(e := self.estimate(level, a, indicator, "3+")) else None)
            for a in b.features
        }

    def partner_maps(self) -> dict:
        """The national maps, or the one note that there are none."""
        pw = self.pw
        if not self.settings.boundaries:
            return {"maps": [], "note": pw["no_boundaries"]}
        data, cov = self.data, self._partner_tables()["coverage"]
        source = self._source(data.dates()[2])
        notes: list[str] = []
        matched = self._matched(notes)
        levels = [lv for lv in self.settings.region_levels if lv in matched]
        finest = levels[-1] if levels else None
        outline = matched.get(levels[0]) if len(levels) > 1 else None
        common: dict[str, Any] = {
            "source": source,
            "no_value": pw["no_value"],
            "legend": pw["share"],
            "grey": pw["grey"],
        }
        out = []
        for level in levels:
            b = matched[level]
            labels = {a: data.plain_area_label(level, a) for a in b.features}
            png = maps.share_map(
                b, self._shares(b, level, "severity_overall"), labels, **common, width=420,
                title=pw.fill("map_need", level=self._lower(level)), outline=outline if level == finest else None,
            )  # fmt: skip
            out.append({"src": maps.write_png(self.chart_dir, f"map-need-{level}.png", png), "wide": True})
        if finest:
            b = matched[finest]
            labels = {a: data.plain_area_label(finest, a) for a in b.features}
            for s, label in self.pin_sectors()[:-1]:
                png = maps.share_map(
                    b, self._shares(b, finest, f"severity_{s}"), labels, **common, outline=outline,
                    title=pw.fill("map_sector", sector=label),
                )  # fmt: skip
                out.append(
                    {"src": maps.write_png(self.chart_dir, f"map-{s}-{finest}.png", png), "wide": False}
                )
            for code in self.settings.partners.sectors if self.settings.partners and cov else []:
                classes = {a: c[8] for (lv, a, s), c in cov.items() if lv == finest and s == code}
                png = maps.class_map(
                    b, classes, labels, self.gap_names(), source=source, legend=pw["coverage"], outline=outline,
                    title=pw.fill("map_gaps", sector=f"{code} – {self.cluster_label(code)}"),
                )  # fmt: skip
                out.append(
                    {
                        "src": maps.write_png(self.chart_dir, f"map-gap-{code}-{finest}.png", png),
                        "wide": False,
                    }
                )
        return {"maps": out, "note": " ".join(notes)}

    def region_map(self, area: str, children: list[str]) -> dict:
        """The share in need by district inside one region (from the finer level's boundaries)."""
        level, pw = self.level1, self.pw
        if not self.settings.boundaries:
            return {"maps": [], "note": pw["no_boundaries"]}
        if level is None or level not in self.settings.boundaries or not children:
            return {"maps": [], "note": ""}
        try:
            b = maps.match_boundaries(self.settings.boundaries[level], children)
        except maps.BoundaryError as exc:
            return {"maps": [], "note": str(exc)}
        if not b.features:
            return {"maps": [], "note": ""}
        b.unmatched_features, b.extra = [], []  # the other regions' districts: not drawn
        png = maps.share_map(
            b, self._shares(b, level, "severity_overall"), {a: self.data.plain_area_label(level, a) for a in b.features},
            title=pw.fill("map_need", level=self._lower(level)), source=self._source(self.data.dates(self.level0, area)[2]),
            no_value=pw["no_value"], legend=pw["share"], grey=pw["grey"], width=360,
        )  # fmt: skip
        name = f"map-need-{level}-{safe_name(area)}.png"
        missing = ", ".join(self.data.area_label(level, a) for a in b.missing_areas)
        note = (
            pw.fill("no_boundary_for", level=self.data.level_label(level), areas=missing) if missing else ""
        )
        return {"maps": [{"src": maps.write_png(self.chart_dir, name, png), "wide": False}], "note": note}

    # -- assembled ------------------------------------------------------------------------------------------
    def partner_file_note(self) -> str:
        f, pw = self._partner_tables()["file"], self.pw
        if f is None:
            return ""
        if f[4] == "rejected":
            return pw.fill("file_rejected", file=f[0], reason=f[5])
        kept = pw.fill("file_kept", k=self.text.count(f[3])) if f[3] else ""
        return pw.fill("file_used", file=f[0], used=self.text.count(f[2]), rows=self.text.count(f[1])) + kept

    def _common(self) -> dict:
        spec, pw = self.settings.partners, self.pw
        high = self.text.pct(spec.high_need) if spec else ""
        unit = pw[self.settings.population_unit] if self.settings.population_unit else ""
        return {
            "w": pw.strings,
            "file_note": self.partner_file_note(),
            "matrix_note": pw.fill("matrix_note", high=high),
            "pin_note": pw.fill("pin_note", unit=unit),
            "m_pin": pw.fill("m_pin", unit=unit, min=self.settings.min_cell),
            "m_cov": pw.fill("m_cov", high=high),
        }

    def partners_national(self) -> dict | None:
        if self.settings.partners is None and not self._partner_tables()["pin"]:
            return None
        pw, level0, level1 = self.pw, self.level0, self.level1
        areas0 = self.data.areas(level0) if level0 else []
        rows = [("national", "all"), *((level0, a) for a in areas0 if level0)]
        fine = level1 or level0
        fine_areas = self.data.areas(fine) if fine else []
        parents = {
            a: p
            for p in areas0
            if level1
            for a in self.data.children(level0 or "", p, level1)
            if a in fine_areas
        }
        return {
            **self._common(),
            "matrix": self.partner_matrix(rows, pw.fill("matrix_title", level=self._lower(level0))),
            "gaps": self.gaps([(fine, a) for a in fine_areas] if fine else [], parents if level1 else None),
            "gaps_title": pw.fill("gaps_title", level=self._lower(fine)),
            "pin": self.pin_table(rows, pw.fill("pin_title", level=self._lower(level0))),
            "maps": self.partner_maps(),
            "sentences": self.partner_sentences(),
        }

    def partners_region(self, area: str) -> dict | None:
        if self.settings.partners is None and not self._partner_tables()["pin"]:
            return None
        assert self.level0 is not None
        pw, finer = self.pw, self.level1 or self.level0
        children = self.data.children(self.level0, area, self.level1) if self.level1 else []
        rows = [(self.level0, area), *((self.level1, c) for c in children if self.level1)]
        keys = [(self.level1, c) for c in children] if self.level1 else [(self.level0, area)]
        return {
            **self._common(),
            "matrix": self.partner_matrix(rows, pw.fill("matrix_title", level=self._lower(finer))),
            "gaps": self.gaps(keys),
            "gaps_title": pw.fill("gaps_title", level=self._lower(finer)),
            "pin": self.pin_table(rows, pw.fill("pin_title", level=self._lower(finer))),
            "maps": self.region_map(area, children),
            "sentences": [],
        }

    def _lower(self, level: str | None) -> str:
        return self.data.level_label(level).lower() if level else ""

    def partner_sentences(self) -> list[str]:
        """The national summary's plain sentences: gaps, thin coverage and people in need."""
        out, pw, text = [], self.pw, self.text
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
            where, high = self._lower(fine), text.pct(spec.high_need)
            if gaps:
                top = gaps[0]
                out.append(
                    pw.fill(
                        "s_gaps",
                        k=len(gaps),
                        where=where,
                        high=high,
                        sector=f"{top[2]} – {self.cluster_label(top[2])}",
                        area=self.data.area_label(fine, top[1]),
                        value=text.pct(top[5]),
                        ci=text.pct_ci(top[6], top[7]),
                    )  # fmt: skip
                )
            else:
                out.append(pw.fill("s_no_gaps", where=where))
            if thin:
                out.append(pw.fill("s_thin", k=len(thin)))
            unsure = sum(1 for c in cells if c[9])
            if unsure:
                out.append(pw.fill("s_uncertain", k=unsure, where=where, high=high))
        overall = pin.get(("national", "all", "overall"))
        if overall is not None:
            unit = pw[overall[3]]
            out.append(
                pw.fill(
                    "s_pin",
                    pin=text.count(round(overall[5])),
                    unit=unit,
                    low=text.count(round(overall[6])),
                    high=text.count(round(overall[7])),
                    population=text.count(round(overall[4])),
                )  # fmt: skip
            )
            items = [
                f"{label} {text.count(round(p[5]))}"
                for s, label in self.pin_sectors()[:-1]
                if (p := pin.get(("national", "all", s))) is not None
            ]
            if items:
                out.append(pw.fill("s_pin_sectors", items=", ".join(items), unit=unit))
        return out


def add_partner_pages(ctx: dict, partners: dict | None, before: str = "s-methodology") -> dict:
    """Put the partner pages into a report context (and its contents list, before the methodology)."""
    ctx["partners"] = partners
    toc = ctx.get("toc")
    if partners and isinstance(toc, list):
        at = next((i for i, t in enumerate(toc) if t["id"] == before), len(toc))
        toc.insert(at, {"id": "s-partners", "title": partners["w"]["title"]})
    return ctx
