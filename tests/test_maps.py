"""Admin boundaries for the maps: matching features to areas (a missing and an extra area), winding, and the
demo's invented boundaries (nested, non-overlapping)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assess.core.partner_settings import BoundarySpec
from assess.demo import DISTRICTS, REGIONS
from assess.demo.partners import write_boundaries
from assess.report.maps import BoundaryError, _clockwise, _signed_area, class_map, match_boundaries, share_map


def _square(x: float, y: float) -> list[list[list[float]]]:
    ring = [[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]  # counter-clockwise (RFC 7946)
    return [ring]


def _geojson(path: Path, codes: list[str]) -> Path:
    feats = [
        {
            "type": "Feature",
            "properties": {"PCODE": c},
            "geometry": {"type": "Polygon", "coordinates": _square(i, 0)},
        }
        for i, c in enumerate(codes)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def test_features_match_areas_by_the_key_property_with_a_missing_and_an_extra_area(tmp_path):
    spec = BoundarySpec(_geojson(tmp_path / "adm.geojson", ["R01", "R02", "R99"]), "PCODE")
    found = match_boundaries(spec, ["R01", "R02", "R03"])
    assert sorted(found.features) == ["R01", "R02"]
    assert found.missing_areas == ["R03"] and found.unmatched_features == ["R99"]
    # area keys written <admin1>/<admin2> (names repeating across regions) match on the name
    assert sorted(match_boundaries(spec, ["A/R01", "B/R02"]).features) == ["A/R01", "B/R02"]
    values = {"R01": 0.6, "R02": None}
    assert share_map(found, values, {}, title="t", source="s", no_value="n", legend="l").startswith(
        b"\x89PNG"
    )
    names = {"gap": "Gap", "thin": "Thin", "covered": "Covered", "low_need": "Low", "unknown": "?"}
    assert class_map(found, {"R01": "gap"}, {}, names, title="t", source="s", legend="l").startswith(
        b"\x89PNG"
    )


def test_a_wrong_key_or_file_names_what_to_fix(tmp_path):
    spec = BoundarySpec(_geojson(tmp_path / "adm.geojson", ["R01"]), "ADM1_PCODE")
    with pytest.raises(BoundaryError, match="no feature has the property 'ADM1_PCODE' .*properties: PCODE"):
        match_boundaries(spec, ["R01"])
    (tmp_path / "bad.geojson").write_text("{not json")
    with pytest.raises(BoundaryError, match="not a readable GeoJSON"):
        match_boundaries(BoundarySpec(tmp_path / "bad.geojson", "K"), ["R01"])


def test_rings_are_rewound_clockwise_for_vega():
    geometry = _clockwise({"type": "Polygon", "coordinates": _square(0, 0)})
    assert _signed_area(geometry["coordinates"][0]) < 0


def _area(ring: list[list[float]]) -> float:
    return abs(_signed_area(ring))


def _inside(point: list[float], ring: list[list[float]], tol: float = 1e-4) -> bool:
    """In or on a convex ring (counter-clockwise)."""
    return all(
        (b[0] - a[0]) * (point[1] - a[1]) - (b[1] - a[1]) * (point[0] - a[0]) >= -tol
        for a, b in zip(ring, ring[1:], strict=False)
    )


def test_the_demo_boundaries_are_nested_and_do_not_overlap(tmp_path):
    (tmp_path / "data/forms").mkdir(parents=True)
    adm1_path, adm2_path = write_boundaries(tmp_path, REGIONS, DISTRICTS)
    adm1 = {f["properties"]["ADM1_PCODE"]: f for f in json.loads(adm1_path.read_text())["features"]}
    adm2 = json.loads(adm2_path.read_text())["features"]
    assert sorted(adm1) == [r[0] for r in REGIONS] and len(adm2) == sum(len(d) for d in DISTRICTS.values())
    for code, region in adm1.items():
        ring = region["geometry"]["coordinates"][0]
        assert len(ring) > 5  # not a rectangle
        own = [f for f in adm2 if f["properties"]["ADM1_PCODE"] == code]
        assert len(own) == len(DISTRICTS[code])
        for f in own:  # nested: every district corner lies in its region
            assert all(_inside(p, ring) for p in f["geometry"]["coordinates"][0])
            assert _area(f["geometry"]["coordinates"][0]) > 0.02 * _area(ring)  # no slivers
        # the districts tile the region exactly: no overlap, no hole
        total = sum(_area(f["geometry"]["coordinates"][0]) for f in own)
        assert total == pytest.approx(_area(ring), rel=1e-4)  # coordinates are rounded to 1e-5 degrees
    country = sum(_area(f["geometry"]["coordinates"][0]) for f in adm1.values())
    assert country > 0
