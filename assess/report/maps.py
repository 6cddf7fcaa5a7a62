"""Choropleth maps from the admin boundaries the data officer supplies (`[report.boundaries]`), drawn with
Vega-Lite through vl-convert (PNG, so that WeasyPrint never has to lay out SVG text).

Features are matched to the regions by a property holding the choice name (`key`); a region without a feature
is listed under the map, a feature without a region is drawn grey ("not surveyed"). Suppressed or missing
values are grey, said under the title. Rings are rewound clockwise, as d3's spherical geometry (used by
Vega) expects; GeoJSON files written to RFC 7946 have them the other way round.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.partner_settings import BoundarySpec

NO_VALUE = "#d0d0d0"
GAP_COLOURS = {
    "gap": "#b2182b",
    "thin": "#f4a582",
    "covered": "#4393c3",
    "low_need": "#e0ecf4",
    "unknown": NO_VALUE,
}


class BoundaryError(Exception):
    """The boundary file cannot be used (not GeoJSON, no features, the key property absent from every feature)."""


@dataclass
class Boundaries:
    """Features by area code, and what did not match."""

    features: dict[str, dict] = field(default_factory=dict)
    unmatched_features: list[str] = field(default_factory=list)  # in the file, not a region of the form
    missing_areas: list[str] = field(default_factory=list)  # regions with estimates but no feature
    extra: list[dict] = field(default_factory=list)  # the unmatched features, drawn grey


def _signed_area(ring: list[list[float]]) -> float:
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:], strict=False)) / 2


def _clockwise(geometry: dict) -> dict:
    """The geometry with outer rings clockwise and holes counter-clockwise (d3/Vega's winding)."""

    def fix(polygon: list) -> list:
        out = []
        for i, ring in enumerate(polygon):
            ccw = _signed_area(ring) > 0
            out.append(list(reversed(ring)) if (ccw if i == 0 else not ccw) else ring)
        return out

    if geometry.get("type") == "Polygon":
        return {"type": "Polygon", "coordinates": fix(geometry["coordinates"])}
    if geometry.get("type") == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": [fix(p) for p in geometry["coordinates"]]}
    return geometry


def match_boundaries(spec: BoundarySpec, areas: list[str]) -> Boundaries:
    """Read the GeoJSON and match its features to `areas` (choice names; `parent/name` keys match by name)."""
    try:
        data = json.loads(spec.file.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise BoundaryError(f"{spec.file}: not a readable GeoJSON file ({exc})") from exc
    feats = data.get("features") if isinstance(data, dict) else None
    if not isinstance(feats, list) or not feats:
        raise BoundaryError(f"{spec.file}: no features; expected a GeoJSON FeatureCollection")
    if not any(spec.key in (f.get("properties") or {}) for f in feats):
        keys = sorted({k for f in feats for k in (f.get("properties") or {})})
        raise BoundaryError(
            f"{spec.file}: no feature has the property '{spec.key}' (properties: {', '.join(keys)}); "
            "set key in [report.boundaries] to the property that holds the choice names"
        )
    by_code = {a.rsplit("/", 1)[-1]: a for a in areas}
    out = Boundaries()
    for f in feats:
        code = str((f.get("properties") or {}).get(spec.key, "")).strip()
        if code in by_code:
            out.features[by_code[code]] = {"type": "Feature", "geometry": _clockwise(f.get("geometry") or {})}
        else:
            out.unmatched_features.append(code or "(no key)")
            out.extra.append({"type": "Feature", "geometry": _clockwise(f.get("geometry") or {})})
    out.missing_areas = [a for a in areas if a not in out.features]
    return out


def _centroid(geometry: dict) -> tuple[float, float] | None:
    """The area-weighted centroid of the largest polygon (label position)."""
    polys = (
        geometry["coordinates"] if geometry.get("type") == "MultiPolygon" else [geometry.get("coordinates")]
    )
    best = None
    for poly in polys:
        if not poly:
            continue
        ring = poly[0]
        a = _signed_area(ring)
        if a == 0:
            continue
        cx = sum((p[0] + q[0]) * (p[0] * q[1] - q[0] * p[1]) for p, q in zip(ring, ring[1:], strict=False))
        cy = sum((p[1] + q[1]) * (p[0] * q[1] - q[0] * p[1]) for p, q in zip(ring, ring[1:], strict=False))
        if best is None or abs(a) > best[0]:
            best = (abs(a), (cx / (6 * a), cy / (6 * a)))
    return best[1] if best else None


def _spec(features: list[dict], labels: list[dict], colour: dict, legend_title: str, title: str, source: str,
          width: int, outline: Boundaries | None = None) -> dict[str, Any]:  # fmt: skip
    spec: dict[str, Any] = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": width,
        "height": int(width * 0.8),
        "title": {
            "text": title,
            "subtitle": source,
            "anchor": "start",
            "fontSize": 12,
            "subtitleFontSize": 8,
            "subtitleColor": "#555",
            "orient": "top",
        },  # fmt: skip
        "config": {"view": {"stroke": None}, "font": "Liberation Sans"},
        "projection": {"type": "mercator"},
        "layer": [
            {
                "data": {"values": features},
                "mark": {"type": "geoshape", "fill": NO_VALUE, "stroke": "#ffffff", "strokeWidth": 0.8},
            },
            {
                "data": {"values": [f for f in features if f["properties"]["value"] is not None]},
                "mark": {"type": "geoshape", "stroke": "#ffffff", "strokeWidth": 0.8},
                "encoding": {"color": {**colour, "legend": {"title": legend_title, "orient": "right"}}},
            },
            {
                "data": {"values": labels},
                "mark": {
                    "type": "text",
                    "fontSize": 8,
                    "stroke": "#ffffff",
                    "strokeWidth": 2.5,
                    "strokeOpacity": 0.8,
                    "strokeJoin": "round",
                },
                "encoding": {
                    "longitude": {"field": "lon", "type": "quantitative"},
                    "latitude": {"field": "lat", "type": "quantitative"},
                    "text": {"field": "text", "type": "nominal"},
                },
            },
            {
                "data": {"values": labels},
                "mark": {"type": "text", "fontSize": 8, "color": "#1a1a1a"},
                "encoding": {
                    "longitude": {"field": "lon", "type": "quantitative"},
                    "latitude": {"field": "lat", "type": "quantitative"},
                    "text": {"field": "text", "type": "nominal"},
                },
            },
        ],
    }
    if outline is not None:  # the coarser level's borders over a finer map
        borders = [{**f, "properties": {}} for f in outline.features.values()]
        spec["layer"].insert(2, {  # under the labels
            "data": {"values": borders},
            "mark": {"type": "geoshape", "filled": False, "stroke": "#333333", "strokeWidth": 1.4},
        })  # fmt: skip
    return spec


def _layers(bounds: Boundaries, values: dict[str, Any], label_of: dict[str, str]) -> tuple[list, list]:
    features: list[dict] = [{**f, "properties": {"value": None}} for f in bounds.extra]
    labels = []
    for area, f in bounds.features.items():
        features.append({**f, "properties": {"value": values.get(area)}})
        c = _centroid(f["geometry"])
        if c is not None:
            labels.append({"lon": c[0], "lat": c[1], "text": label_of.get(area, area)})
    return features, labels


def share_map(bounds: Boundaries, values: dict[str, float | None], label_of: dict[str, str], *, title: str,
              source: str, no_value: str, legend: str, width: int = 300,
              outline: Boundaries | None = None, grey: str = "Grey: {what}") -> bytes:  # fmt: skip
    """A choropleth of shares (0-1, blues); None (suppressed, not surveyed) is grey."""
    features, labels = _layers(bounds, values, label_of)
    colour = {
        "field": "properties.value",
        "type": "quantitative",
        "scale": {"domain": [0, 1], "scheme": "blues"},
    }
    spec = _spec(features, labels, colour, legend, title, source, width, outline)
    spec["layer"][1]["encoding"]["color"]["legend"]["format"] = ".0%"
    if any(f["properties"]["value"] is None for f in features):
        spec["title"]["subtitle"] = [source, grey.format(what=no_value)]
    return _png(spec)


def class_map(bounds: Boundaries, classes: dict[str, str], label_of: dict[str, str], names: dict[str, str], *,
              title: str, source: str, legend: str, width: int = 300,
              outline: Boundaries | None = None) -> bytes:  # fmt: skip
    """A map of gap classes (gap, thin, covered, low need, unknown) with fixed colours."""
    features, labels = _layers(
        bounds, {a: names[classes.get(a, "unknown")] for a in bounds.features}, label_of
    )
    order = [k for k in GAP_COLOURS if k in set(classes.values()) | {"gap", "thin", "covered", "low_need"}]
    colour = {
        "field": "properties.value",
        "type": "nominal",
        "scale": {"domain": [names[k] for k in order], "range": [GAP_COLOURS[k] for k in order]},
    }
    return _png(_spec(features, labels, colour, legend, title, source, width, outline))


def _png(spec: dict) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_png(spec, scale=2)


def write_png(folder: Path, name: str, data: bytes) -> str:
    path = folder / name
    path.write_bytes(data)
    return path.as_uri()
