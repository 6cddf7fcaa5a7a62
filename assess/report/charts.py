"""Hand-written SVG marks for the report charts: sorted horizontal bars with confidence-interval whiskers.

No plotting library: each SVG is a handful of elements, fast to write and fast for WeasyPrint to draw, with
the same look in every report. A chart is an HTML table (label | bar strip | value): the bars, whiskers,
reference marks and the axis are SVG, while labels and values are HTML text. WeasyPrint's SVG text does
not shape or reorder right-to-left scripts (Arabic came out as reversed, unjoined letters), HTML text does;
so no XLSForm label ever goes into an SVG, and the only SVG text is axis numbers (escaped anyway).
Colours are safe for colour-blind readers and the marks differ by shape as well as colour, so the chart
reads the same in grey-scale print: bars are filled, CI whiskers are black lines with caps, the national
reference is an open diamond.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from xml.sax.saxutils import escape

BAR = "#2c6a9e"  # mid-dark blue: prints as a mid grey
BAR_MUTED = "#c9d6e3"  # suppressed cells: a pale stub, no value
WHISKER = "#1a1a1a"
REFERENCE = "#b35806"  # dark orange; distinct from blue for all common colour-vision types
GRID = "#d9d9d9"
FONT = "Liberation Sans, DejaVu Sans, sans-serif"


@dataclass(frozen=True)
class Bar:
    """One bar: `value` on the chart's scale (a share 0..1 or a mean); `text` is printed beside it."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    text: str = ""
    reference: float | None = None  # e.g. the national figure in a region report
    suppressed: bool = False


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * exp >= value:
            return step * exp
    return 10 * exp


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


STRIP_W = 300.0  # user units of a bar strip; drawn at the column's width
STRIP_H = 18.0
PAD = 6.0  # room for whisker caps and the reference diamond at either end


@dataclass(frozen=True)
class Scale:
    vmax: float
    percent: bool
    rtl: bool

    def x(self, v: float) -> float:
        frac = min(max(v, 0.0), self.vmax) / self.vmax
        inner = STRIP_W - 2 * PAD
        return STRIP_W - PAD - frac * inner if self.rtl else PAD + frac * inner


def scale_for(bars: list[Bar], *, percent: bool, rtl: bool) -> Scale:
    """0..100% cut down to the smallest of 20/40/60/80/100% that holds every mark; means: a nice maximum."""
    top_value = max(
        (v for b in bars if not b.suppressed for v in (b.value, b.high, b.reference) if v is not None),
        default=1.0,
    )
    if percent:
        vmax = next((c for c in (0.2, 0.4, 0.6, 0.8, 1.0) if top_value <= c - 0.01), 1.0)
    else:
        vmax = _nice_max(top_value)
    return Scale(vmax=vmax, percent=percent, rtl=rtl)


def sort_bars(bars: list[Bar]) -> list[Bar]:
    """Largest first; suppressed and empty cells last."""
    return sorted(bars, key=lambda b: (b.suppressed or b.value is None, -(b.value or 0.0)))


def _svg(width: float, height: float, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" font-family="{FONT}">' + "".join(body) + "</svg>"
    )


def _grid(scale: Scale, height: float) -> list[str]:
    return [
        f'<line x1="{_f(scale.x(t))}" y1="0" x2="{_f(scale.x(t))}" y2="{_f(height)}" stroke="{GRID}" '
        f'stroke-width="0.8"/>'
        for t in (scale.vmax * i / 4 for i in range(1, 5))
    ]


def bar_strip(bar: Bar, scale: Scale) -> str:
    """One row of a chart: grid, bar from the baseline, CI whisker with caps, reference diamond."""
    h, cy, bh = STRIP_H, STRIP_H / 2, 11.0
    x0 = scale.x(0.0)
    out = _grid(scale, h)
    if bar.suppressed or bar.value is None:
        stub = 5.0
        out.append(
            f'<rect x="{_f(x0 - stub if scale.rtl else x0)}" y="{_f(cy - bh / 2)}" width="{_f(stub)}" '
            f'height="{_f(bh)}" fill="{BAR_MUTED}"/>'
        )
    else:
        xv = scale.x(bar.value)
        bx, bw = (xv, x0 - xv) if scale.rtl else (x0, xv - x0)
        out.append(
            f'<rect x="{_f(bx)}" y="{_f(cy - bh / 2)}" width="{_f(max(bw, 0.6))}" height="{_f(bh)}" '
            f'fill="{BAR}"/>'
        )
        if bar.low is not None and bar.high is not None:
            xl, xh = scale.x(bar.low), scale.x(bar.high)
            out.append(
                f'<line x1="{_f(xl)}" y1="{_f(cy)}" x2="{_f(xh)}" y2="{_f(cy)}" stroke="{WHISKER}" '
                'stroke-width="1.3"/>'
            )
            out += [
                f'<line x1="{_f(e)}" y1="{_f(cy - 4.5)}" x2="{_f(e)}" y2="{_f(cy + 4.5)}" '
                f'stroke="{WHISKER}" stroke-width="1.3"/>'
                for e in (xl, xh)
            ]
    if bar.reference is not None:
        out.append(_diamond(scale.x(bar.reference), cy))
    out.append(f'<line x1="{_f(x0)}" y1="0" x2="{_f(x0)}" y2="{_f(h)}" stroke="#444" stroke-width="1"/>')
    return _svg(STRIP_W, h, out)


def _diamond(x: float, cy: float) -> str:
    return (
        f'<path d="M{_f(x)} {_f(cy - 6)} L{_f(x + 4.5)} {_f(cy)} L{_f(x)} {_f(cy + 6)} L{_f(x - 4.5)} {_f(cy)} Z" '
        f'fill="#ffffff" stroke="{REFERENCE}" stroke-width="1.8"/>'
    )


def axis_strip(scale: Scale, decimal_comma: bool = False) -> str:
    """Tick marks and numbers under the bars (numbers only: safe in SVG text in any language)."""
    h = 14.0
    out = [
        f'<line x1="{_f(scale.x(0))}" y1="0" x2="{_f(scale.x(scale.vmax))}" y2="0" stroke="#444" '
        'stroke-width="0.8"/>'
    ]
    for i in range(5):
        t = scale.vmax * i / 4
        label = f"{round(t * 100)}%" if scale.percent else _f(t)
        if decimal_comma:
            label = label.replace(".", ",")
        anchor = "middle"
        if i == 0:
            anchor = "end" if scale.rtl else "start"
        out.append(
            f'<line x1="{_f(scale.x(t))}" y1="0" x2="{_f(scale.x(t))}" y2="3" stroke="#444" '
            'stroke-width="0.8"/>'
        )
        xt = scale.x(t) + (-2 if i == 0 and scale.rtl else 2 if i == 0 else 0)
        out.append(
            f'<text x="{_f(xt)}" y="12" font-size="8.5" fill="#555" text-anchor="{anchor}">'
            f"{escape(label)}</text>"
        )
    return _svg(STRIP_W, h, out)


def legend_icon(kind: str) -> str:
    """Small icons for the HTML legend: 'bar', 'ci' or 'reference'."""
    if kind == "bar":
        return _svg(16, 10, [f'<rect x="1" y="1" width="14" height="8" fill="{BAR}"/>'])
    if kind == "ci":
        return _svg(
            16,
            10,
            [
                f'<line x1="2" y1="5" x2="14" y2="5" stroke="{WHISKER}" stroke-width="1.3"/>',
                f'<line x1="2" y1="1" x2="2" y2="9" stroke="{WHISKER}" stroke-width="1.3"/>',
                f'<line x1="14" y1="1" x2="14" y2="9" stroke="{WHISKER}" stroke-width="1.3"/>',
            ],
        )
    return _svg(16, 14, [_diamond(8, 7)])


PYRAMID_W = 150.0  # user units of one half of the age/sex pyramid
FEMALE = "#b35806"  # the pyramid's two sides differ by colour and by side; orange and blue as elsewhere


def pyramid_half(value: float, largest: float, *, toward_centre: str, female: bool) -> str:
    """One half-bar of the age/sex pyramid: `value` of `largest`, drawn from the centre line outwards
    (`toward_centre` 'right': the bar ends at the right edge, as on the left half of the pyramid)."""
    width = 0.0 if largest <= 0 else PYRAMID_W * max(0.0, value) / largest
    x = PYRAMID_W - width if toward_centre == "right" else 0.0
    colour = FEMALE if female else BAR
    return _svg(PYRAMID_W, 14, [f'<rect x="{_f(x)}" y="1" width="{_f(width)}" height="12" fill="{colour}"/>'])
