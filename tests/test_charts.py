"""SVG chart marks: valid XML, sorted bars, scale, right-to-left mirroring, no label text inside SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from assess.report import charts
from assess.report.charts import Bar

NS = "{http://www.w3.org/2000/svg}"


def _rects(svg: str) -> list[ET.Element]:
    return ET.fromstring(svg).findall(f"{NS}rect")


def test_sort_puts_largest_first_and_suppressed_last():
    bars = [Bar("a", 0.2), Bar("b", None, suppressed=True), Bar("c", 0.7), Bar("d", 0.4)]
    assert [b.label for b in charts.sort_bars(bars)] == ["c", "d", "a", "b"]


def test_percent_scale_is_cut_to_the_smallest_step_holding_every_mark():
    assert charts.scale_for([Bar("a", 0.3, 0.25, 0.35)], percent=True, rtl=False).vmax == 0.4
    assert charts.scale_for([Bar("a", 0.3, 0.25, 0.35, reference=0.55)], percent=True, rtl=False).vmax == 0.6
    assert charts.scale_for([Bar("a", 0.95, 0.9, 1.02)], percent=True, rtl=False).vmax == 1.0
    assert charts.scale_for([Bar("a", 5.9, 5.7, 6.2)], percent=False, rtl=False).vmax == 8


def test_bar_strip_is_valid_svg_with_bar_whisker_and_reference():
    scale = charts.scale_for([Bar("a", 0.5)], percent=True, rtl=False)
    root = ET.fromstring(charts.bar_strip(Bar("a", 0.5, 0.4, 0.6, reference=0.3), scale))
    assert root.tag == f"{NS}svg"
    assert len(root.findall(f"{NS}rect")) == 1
    assert len(root.findall(f"{NS}path")) == 1  # the national diamond
    assert root.findall(f"{NS}text") == []  # labels are HTML, never SVG text


def test_suppressed_bar_is_a_stub_without_whisker():
    scale = charts.Scale(vmax=1.0, percent=True, rtl=False)
    svg = charts.bar_strip(Bar("a", 0.5, 0.4, 0.6, suppressed=True), scale)
    (rect,) = _rects(svg)
    assert rect.get("fill") == charts.BAR_MUTED
    assert float(rect.get("width")) < 10


def test_rtl_mirrors_bars_to_grow_leftwards():
    ltr = charts.Scale(vmax=1.0, percent=True, rtl=False)
    rtl = charts.Scale(vmax=1.0, percent=True, rtl=True)
    (a,) = _rects(charts.bar_strip(Bar("a", 0.5), ltr))
    (b,) = _rects(charts.bar_strip(Bar("a", 0.5), rtl))
    assert float(a.get("x")) == charts.PAD
    assert float(b.get("x")) + float(b.get("width")) == charts.STRIP_W - charts.PAD
    assert rtl.x(0) > rtl.x(1)


def test_axis_numbers_and_decimal_comma():
    texts = [
        t.text for t in ET.fromstring(charts.axis_strip(charts.Scale(0.4, True, False))).iter(f"{NS}text")
    ]
    assert texts == ["0%", "10%", "20%", "30%", "40%"]
    texts = [
        t.text
        for t in ET.fromstring(charts.axis_strip(charts.Scale(3, False, False), True)).iter(f"{NS}text")
    ]
    assert "1,5" in texts


def test_legend_icons_are_valid_svg():
    for kind in ("bar", "ci", "reference"):
        assert ET.fromstring(charts.legend_icon(kind)).tag == f"{NS}svg"
