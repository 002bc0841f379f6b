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


LJ_MARKS = {"in_control": "●", "warning": "▲", "rejected": "✖"}
LJ_COLOURS = {"in_control": COLOURS[0], "warning": "#7a4d00", "rejected": "#a11a1a"}


def levey_jennings(
    label: str,
    *,
    mean: float,
    sd: float,
    points: Sequence[tuple[int, float, str, Sequence[str]]],
    unit: str = "",
    width: int = 720,
    height: int = 300,
) -> SafeString:
    """A Levey-Jennings chart: the results of one control lot in order (``points``: their
    number, value, verdict and the Westgard rules broken), against the target mean and the
    ±1, ±2 and ±3 SD lines. A result breaking a rule is drawn with its verdict's symbol (▲
    warning, ✖ rejected) and the rules' names beside it; one beyond ±4 SD is drawn at the
    edge, pointing out."""
    left, right, top_pad, bottom = 70, 16, 12, 28
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    span = 4.0  # SDs either side of the mean shown

    def y_of(z: float) -> float:
        z = max(-span, min(span, z))
        return top_pad + (span - z) / (2 * span) * plot_h

    parts = [_open(label, width, height)]
    for z in (-3, -2, -1, 0, 1, 2, 3):
        y = y_of(z)
        colour = (
            INK if z == 0 else ("#a11a1a" if abs(z) == 3 else "#7a4d00" if abs(z) == 2 else GRID)
        )
        dash = "" if z == 0 else ' stroke-dasharray="4 3"'
        name = "mean" if z == 0 else f"{z:+d} SD"
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="{colour}"{dash}/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end" '
            f'fill="{INK}">{name} {_number(round(mean + z * sd, 4))}</text>'
        )
    step = plot_w / max(len(points), 1)
    previous: tuple[float, float] | None = None
    for index, (number, value, verdict, rules) in enumerate(points):
        x = left + step * (index + 0.5)
        y = y_of((value - mean) / sd)
        if previous is not None:
            parts.append(
                f'<line x1="{previous[0]:.1f}" y1="{previous[1]:.1f}" x2="{x:.1f}" '
                f'y2="{y:.1f}" stroke="{GRID}"/>'
            )
        previous = (x, y)
        colour = LJ_COLOURS.get(verdict, INK)
        said = f"result {number}: {_number(value)}{escape(unit)}"
        if rules:
            said += f", {escape(', '.join(rules))}"
        if verdict == "in_control":
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{said}</title>'
                "</circle>"
            )
        else:
            parts.append(
                f'<text x="{x:.1f}" y="{y + 5:.1f}" font-size="14" text-anchor="middle" '
                f'fill="{colour}"><title>{said}</title>{LJ_MARKS.get(verdict, "●")}</text>'
            )
        if rules and verdict != "in_control":
            above = y > top_pad + 20
            parts.append(
                f'<text x="{x:.1f}" y="{y - 9 if above else y + 20:.1f}" font-size="9" '
                f'text-anchor="middle" fill="{colour}">{escape(" ".join(rules))}</text>'
            )
    if points:
        for index in {0, len(points) - 1}:
            anchor = "start" if index == 0 else "end"
            x = left if index == 0 else width - right
            parts.append(
                f'<text x="{x}" y="{height - 8}" font-size="11" text-anchor="{anchor}" '
                f'fill="{INK}">result {points[index][0]}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text in it is escaped above
