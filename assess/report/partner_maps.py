"""The maps of the needs-and-partners pages: share in need (overall, per sector) and gap class, by the region
levels that have boundaries (assess/report/maps.py draws them)."""

from __future__ import annotations

from typing import Any

from ..core.names import safe_name
from . import maps
from .partner_tables import PartnerTables


class PartnerMaps(PartnerTables):
    """Map contexts: a list of PNGs and one note (what is missing, or that there are no boundaries)."""

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
