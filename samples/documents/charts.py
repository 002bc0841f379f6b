"""Small charts drawn on the server as inline SVG, so pages need no chart library or network.

Each chart is an ``<svg role="img">`` whose ``aria-label`` states the figures in words; pages
show the same figures in a table next to it for those who cannot see the picture.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

COLOURS = ["#2f6f9f", "#c4622d", "#5b8c3a", "#8a5aa8"]  # one per series, readable on white
INK = "#16202a"
GRID = "#d5dde4"


def _number(value: float) -> str:
    return f"{value:g}"


def bar_chart(
    label: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    unit: str = "",
    width: int = 560,
) -> SafeString:
    """Horizontal bars: one group per category, one bar per series (for example the median
    and the 90th percentile of each assay), each bar labelled with its value."""
    bar, gap, right = 14, 10, 70
    # Room for the longest category name (12 px text: about 7 px a character).
    left = max(80, 12 + 7 * max((len(c) for c in categories), default=0))
    group = bar * len(series) + gap
    legend = 22
    height = legend + group * len(categories) + gap
    top = max((v for _, values in series for v in values), default=0) or 1
    scale = (width - left - right) / top
    parts = [_open(label, width, height)]
    for index, (name, _values) in enumerate(series):
        x = left + index * 160
        parts.append(
            f'<rect x="{x}" y="4" width="12" height="12" fill="{COLOURS[index % len(COLOURS)]}"/>'
            f'<text x="{x + 16}" y="14" font-size="12" fill="{INK}">{escape(name)}</text>'
        )
    for row, category in enumerate(categories):
        y0 = legend + gap + row * group
        parts.append(
            f'<text x="{left - 6}" y="{y0 + bar * len(series) / 2 + 4}" font-size="12" '
            f'text-anchor="end" fill="{INK}">{escape(category)}</text>'
        )
        for index, (_name, values) in enumerate(series):
            value = values[row]
            y = y0 + index * bar
            length = max(value * scale, 1)
            parts.append(
                f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar - 2}" '
                f'fill="{COLOURS[index % len(COLOURS)]}"/>'
                f'<text x="{left + length + 4:.1f}" y="{y + bar - 4}" font-size="11" '
                f'fill="{INK}">{_number(value)}{escape(unit)}</text>'
            )
    parts.append(
        f'<line x1="{left}" y1="{legend}" x2="{left}" y2="{height}" stroke="{GRID}"/></svg>'
    )
    return mark_safe("".join(parts))  # every text in it is escaped above


def column_chart(
    label: str,
    points: Sequence[tuple[str, float]],
    *,
    unit: str = "",
    target: float | None = None,
    width: int = 560,
    height: int = 160,
) -> SafeString:
    """Vertical columns, one per point (for example one per day), with an optional dashed
    target line; the first and last labels are written under the axis."""
    left, bottom, top_pad = 40, 20, 10
    values = [value for _, value in points]
    top = max([*values, target or 0]) or 1
    plot_h = height - bottom - top_pad
    step = (width - left - 10) / max(len(points), 1)
    parts = [_open(label, width, height)]
    parts.append(
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" '
        f'stroke="{GRID}"/>'
        f'<text x="{left - 4}" y="{top_pad + 8}" font-size="11" text-anchor="end" '
        f'fill="{INK}">{_number(round(top, 1))}{escape(unit)}</text>'
    )
    for index, (name, value) in enumerate(points):
        h = value / top * plot_h
        x = left + index * step + step * 0.15
        parts.append(
            f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{step * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{COLOURS[0]}"><title>{escape(name)}: '
            f"{_number(value)}{escape(unit)}</title></rect>"
        )
    if points:
        for index in {0, len(points) - 1}:
            anchor = "start" if index == 0 else "end"
            x = left if index == 0 else width - 10
            parts.append(
                f'<text x="{x}" y="{height - 5}" font-size="11" text-anchor="{anchor}" '
                f'fill="{INK}">{escape(points[index][0])}</text>'
            )
    if target is not None:
        y = height - bottom - target / top * plot_h
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" '
            f'stroke="{COLOURS[1]}" stroke-dasharray="4 3"/>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text in it is escaped above


def _open(label: str, width: int, height: int) -> str:
    return (
        f'<svg role="img" aria-label="{escape(label)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="chart">'
    )
