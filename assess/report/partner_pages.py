"""Report pages on who does what where: the needs-versus-presence matrix, the ranked gaps, people in need and
the maps (partner_tables.py, partner_maps.py), assembled for the national report and each region report, plus
the national summary's sentences on them.
"""

from __future__ import annotations

from .partner_maps import PartnerMaps


class PartnerPages(PartnerMaps):
    """Contexts of the partner pages (`_partners.html.j2`), for the national report and each region report."""

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
