"""The demo's partner material: district populations in the frame, a 3W list and invented admin boundaries.

Boundaries are nested and never overlap: the country is an irregular convex outline, each region is its
Voronoi cell around the region's centre (clipped to the country), and each district the Voronoi cell of its
own centre clipped to its region. Cells are cut by half-planes here, so no geometry library is needed.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

Point = tuple[float, float]  # (lon, lat)

THREE_W_PATH = Path("data/partners/3w.csv")
ADM1_PATH = Path("data/forms/adm1.geojson")
ADM2_PATH = Path("data/forms/adm2.geojson")

CONFIG_TEXT = """
# [partners] Who does what where (3W/5W list): coverage and gaps per area and sector. A sector is a Global
# Cluster code (or its name) mapped to the estimates that show its need; severity:<sector> is the share of
# households in severity 3+. A sector is a gap where the need is at least high_need and no partner is active.
[partners]
file = "data/partners/3w.csv"
high_need = 0.5

[partners.sectors]
WSH = ["priority_needs/water", "severity:wash"]
FSC = ["priority_needs/food", "severity:food"]
SHL = ["priority_needs/shelter", "severity:shelter"]
HEA = ["priority_needs/health"]
EDU = ["priority_needs/education"]

# [report.boundaries] Admin boundaries for the maps (GeoJSON), matched to the regions' choice names by a property.
[report.boundaries]
admin1 = { file = "data/forms/adm1.geojson", key = "ADM1_PCODE" }
admin2 = { file = "data/forms/adm2.geojson", key = "ADM2_PCODE" }
"""

# (organisation, acronym, type, sector, admin1, admin2, activity, status, start, end)
THREE_W = (
    (
        "Demo Red Cross Society",
        "DRCS",
        "National Society",
        "WSH",
        "Karsa North",
        "",
        "Water trucking and hygiene kits",
        "Active",
        "2026-09-01",
        "2027-03-31",
    ),
    (
        "Demo Red Cross Society",
        "DRCS",
        "National Society",
        "HEA",
        "R01",
        "D0101",
        "Mobile health clinic",
        "ongoing",
        "2026-06-01",
        "",
    ),
    (
        "Demo Red Cross Society",
        "DRCS",
        "National Society",
        "SHL",
        "Karsa South",
        "Seldra",
        "Shelter repair kits",
        "active",
        "2026-10-15",
        "2027-01-31",
    ),
    (
        "Ministry of Health",
        "MoH",
        "Government",
        "Health",
        "R03",
        "",
        "Cholera vaccination",
        "active",
        "2026-08-01",
        "2026-12-31",
    ),
    (
        "Ministry of Health",
        "MoH",
        "Government",
        "HEA",
        "R05",
        "",
        "Primary health care support",
        "active",
        "2026-01-01",
        "2026-12-31",
    ),
    (
        "World Food Programme",
        "WFP",
        "UN Agency",
        "FSC",
        "R02",
        "",
        "General food distribution",
        "active",
        "2026-07-01",
        "2027-06-30",
    ),
    (
        "World Food Programme",
        "WFP",
        "UN Agency",
        "Food Security",
        "R06",
        "D0601",
        "Cash for food",
        "active",
        "2026-09-01",
        "2027-02-28",
    ),
    (
        "UNICEF",
        "UNICEF",
        "UN Agency",
        "WSH",
        "R02",
        "",
        "Borehole rehabilitation",
        "ongoing",
        "2026-05-01",
        "2027-04-30",
    ),
    (
        "UNICEF",
        "UNICEF",
        "UN Agency",
        "EDU",
        "R03",
        "D0301",
        "Temporary learning spaces",
        "active",
        "2026-09-01",
        "2027-06-30",
    ),
    (
        "UNHCR",
        "UNHCR",
        "UN Agency",
        "SHL",
        "R02",
        "",
        "Emergency shelter for displaced households",
        "active",
        "2026-10-01",
        "2027-03-31",
    ),
    (
        "Action Water International",
        "AWI",
        "International NGO",
        "WASH",
        "R05",
        "D0502",
        "Latrine construction",
        "active",
        "2026-09-15",
        "2027-01-15",
    ),
    (
        "Action Water International",
        "AWI",
        "International NGO",
        "WSH",
        "R02",
        "D0202",
        "Water points",
        "active",
        "2026-10-01",
        "2027-05-31",
    ),
    (
        "Hope Health Alliance",
        "HHA",
        "International NGO",
        "HEA",
        "R04",
        "D0401",
        "Nutrition and health screening",
        "active",
        "2026-07-01",
        "2027-01-31",
    ),
    (
        "Plateau Women's Network",
        "PWN",
        "National NGO",
        "FSC",
        "Tesh Plateau",
        "",
        "Seed and tools distribution",
        "active",
        "2026-08-15",
        "2026-12-15",
    ),
    # ended before the survey: not active
    (
        "Coastal Relief",
        "CR",
        "National NGO",
        "WSH",
        "R03",
        "",
        "Flood response water supply",
        "completed",
        "2026-03-01",
        "2026-08-31",
    ),
    # planned: not active yet
    (
        "Norwegian Refugee Council",
        "NRC",
        "International NGO",
        "SHL",
        "R03",
        "D0302",
        "Shelter upgrades",
        "planned",
        "2027-01-01",
        "2027-12-31",
    ),
    # an area the form does not know: kept aside with its reason
    (
        "Hope Health Alliance",
        "HHA",
        "International NGO",
        "HEA",
        "Northern Highlands",
        "",
        "Mobile clinics",
        "active",
        "2026-09-01",
        "2027-03-31",
    ),
)


def district_populations(
    populations: dict[str, int], districts: dict[str, tuple]
) -> dict[tuple[str, str], int]:
    """Split each region's population unequally over its districts (exact integers that sum to the region's)."""
    shares = (0.47, 0.31, 0.22, 0.15)
    out: dict[tuple[str, str], int] = {}
    for region, total in populations.items():
        codes = [d[0] for d in districts[region]]
        weights = [shares[i % len(shares)] for i in range(len(codes))]
        parts = [int(total * w / sum(weights)) for w in weights]
        parts[0] += total - sum(parts)
        out.update({(region, c): p for c, p in zip(codes, parts, strict=True)})
    return out


def write_frame(path: Path, populations: dict[str, int], districts: dict[str, tuple]) -> None:
    """The sampling frame, one row per district: the strata (regions) get the sum of their districts."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("admin1,admin2,population\n")
        fh.writelines(f"{r},{d},{p}\n" for (r, d), p in district_populations(populations, districts).items())


def write_three_w(dest: Path) -> Path:
    path = dest / THREE_W_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    header = ["organisation", "org_acronym", "org_type", "sector", "admin1", "admin2", "activity", "status"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*header, "start", "end", "donor"])
        for i, row in enumerate(THREE_W):
            w.writerow([*row, "ECHO" if i % 3 == 0 else "CERF" if i % 3 == 1 else ""])
    return path


# ------------------------------------------------------------------------------------------- boundaries
def clip(polygon: list[Point], keep: Point, other: Point) -> list[Point]:
    """The part of a convex polygon nearer to `keep` than to `other` (one Sutherland-Hodgman pass)."""
    mx, my = (keep[0] + other[0]) / 2, (keep[1] + other[1]) / 2
    nx, ny = keep[0] - other[0], keep[1] - other[1]

    def side(p: Point) -> float:
        return (p[0] - mx) * nx + (p[1] - my) * ny

    out: list[Point] = []
    for i, p in enumerate(polygon):
        q = polygon[(i + 1) % len(polygon)]
        sp, sq = side(p), side(q)
        if sp >= 0:
            out.append(p)
        if (sp >= 0) != (sq >= 0):
            t = sp / (sp - sq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def voronoi_cells(outline: list[Point], centres: list[Point]) -> list[list[Point]]:
    """Each centre's Voronoi cell inside the convex outline."""
    cells = []
    for i, c in enumerate(centres):
        cell = list(outline)
        for j, other in enumerate(centres):
            if i != j:
                cell = clip(cell, c, other)
        cells.append(cell)
    return cells


def _ring(cell: list[Point]) -> list[list[float]]:
    ring = [[round(x, 5), round(y, 5)] for x, y in cell]
    return [*ring, ring[0]]  # GeoJSON rings are closed and counter-clockwise (clip keeps the outline's order)


def _district_centres(cell: list[Point], n: int) -> list[Point]:
    """n points inside a convex region cell: halfway from its vertex mean towards n vertices spread round it."""
    cx, cy = sum(p[0] for p in cell) / len(cell), sum(p[1] for p in cell) / len(cell)
    picks = [cell[(i * len(cell)) // n] for i in range(n)]
    return [(cx + 0.5 * (x - cx), cy + 0.5 * (y - cy)) for x, y in picks]


def write_boundaries(dest: Path, regions: tuple, districts: dict[str, tuple]) -> list[Path]:
    """adm1.geojson and adm2.geojson for the demo's invented regions (see the module docstring)."""
    centres = [(r[5], r[4]) for r in regions]  # (lon, lat)
    xs, ys = [c[0] for c in centres], [c[1] for c in centres]
    cx, cy = sum(xs) / len(xs), sum(ys) / len(ys)
    rx, ry = (max(xs) - min(xs)) / 2 + 0.9, (max(ys) - min(ys)) / 2 + 0.8
    wobble = (1.0, 0.86, 1.08, 0.92, 1.04, 0.83, 0.97, 1.1, 0.9, 1.02)
    outline = [
        (
            cx + rx * wobble[i] * math.cos(2 * math.pi * i / 10),
            cy + ry * wobble[i] * math.sin(2 * math.pi * i / 10),
        )
        for i in range(10)
    ]
    adm1, adm2 = [], []
    for region, cell in zip(regions, voronoi_cells(outline, centres), strict=True):
        adm1.append(
            {
                "type": "Feature",
                "properties": {"ADM1_PCODE": region[0], "ADM1_EN": region[1]},
                "geometry": {"type": "Polygon", "coordinates": [_ring(cell)]},
            }
        )
        own = districts[region[0]]
        for d, sub in zip(own, voronoi_cells(cell, _district_centres(cell, len(own))), strict=True):
            adm2.append(
                {
                    "type": "Feature",
                    "properties": {"ADM2_PCODE": d[0], "ADM2_EN": d[1], "ADM1_PCODE": region[0]},
                    "geometry": {"type": "Polygon", "coordinates": [_ring(sub)]},
                }
            )
    written = []
    for rel, feats in ((ADM1_PATH, adm1), (ADM2_PATH, adm2)):
        path = dest / rel
        path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
        written.append(path)
    return written


def write_partner_material(dest: Path, regions: tuple, districts: dict[str, tuple]) -> list[Path]:
    """The 3W list and the boundaries (the frame is written by `write_frame`)."""
    return [write_three_w(dest), *write_boundaries(dest, regions, districts)]
