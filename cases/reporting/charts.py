"""Small SVG charts for the editor's panel and the annual report (WeasyPrint draws SVG itself).

Plain functions from figures to SVG markup; no plotting library. A suppressed figure (``<3``)
gets no bar, only its label, so a chart never shows more than the table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Colours with enough contrast on white (WCAG AA for the text, 3:1 for the bars).
SERIES_COLOURS = ("#1f5f8b", "#b3541e", "#4d7c0f", "#6b21a8")
TEXT_COLOUR = "#1a1a1a"
GRID_COLOUR = "#c8c8c8"
FONT = "font-family:Helvetica,Arial,sans-serif"


@dataclass(frozen=True)
class Series:
    """One series of a chart: a name and per category a value (None when not shown) and its label."""

    name: str
    values: Sequence[float | None]
    labels: Sequence[str]


def _scale_max(series: Sequence[Series], fixed: float | None) -> float:
    if fixed is not None:
        return fixed
    largest = max((value for item in series for value in item.values if value is not None), default=0)
    return max(largest, 1)


def _legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    parts = []
    if len(series) < 2:
        return parts
    for index, item in enumerate(series):
        left = x + index * 150
        parts.append(f'<rect x="{left:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{SERIES_COLOURS[index % len(SERIES_COLOURS)]}"/>')
        parts.append(f'<text x="{left + 14:.1f}" y="{y:.1f}" font-size="11" fill="{TEXT_COLOUR}">{escape(item.name)}</text>')
    return parts


def bar_chart(*, title: str, categories: Sequence[str], series: Sequence[Series], width: int = 640, maximum: float | None = None, unit: str = "") -> SafeString:
    """Horizontal bars: one row per category, one bar per series; the label sits after the bar."""
    label_width = min(260, 24 + 7 * max((len(category) for category in categories), default=4))
    bar_height = 12
    row_height = bar_height * len(series) + 8
    top = 28 + (16 if len(series) > 1 else 0)
    height = top + row_height * len(categories) + 10
    plot_width = width - label_width - 60
    scale = _scale_max(series, maximum)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="{FONT}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="13" font-weight="bold" fill="{TEXT_COLOUR}">{escape(title)}</text>',
        *_legend(series, label_width, 36),
        f'<line x1="{label_width}" y1="{top - 4}" x2="{label_width}" y2="{height - 6}" stroke="{GRID_COLOUR}"/>',
    ]
    for row, category in enumerate(categories):
        y = top + row * row_height
        parts.append(
            f'<text x="{label_width - 6}" y="{y + row_height / 2 + 2:.1f}" font-size="11" text-anchor="end" fill="{TEXT_COLOUR}">{escape(category)}</text>'
        )
        for index, item in enumerate(series):
            value = item.values[row]
            bar_y = y + index * bar_height + 2
            length = 0.0 if value is None else plot_width * max(value, 0) / scale
            if length:
                colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
                parts.append(f'<rect x="{label_width}" y="{bar_y:.1f}" width="{length:.1f}" height="{bar_height - 2}" fill="{colour}"/>')
            label = f"{item.labels[row]}{unit}" if value is not None else item.labels[row]
            parts.append(
                f'<text x="{label_width + length + 4:.1f}" y="{bar_y + bar_height - 3:.1f}" font-size="10" fill="{TEXT_COLOUR}">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def column_chart(*, title: str, categories: Sequence[str], series: Sequence[Series], width: int = 640, height: int = 220) -> SafeString:
    """Vertical columns over time: one group per category (period), one column per series."""
    top, bottom, left = 28 + (16 if len(series) > 1 else 0), 36, 30
    plot_height = height - top - bottom
    plot_width = width - left - 10
    group_width = plot_width / max(len(categories), 1)
    column_width = max(3.0, (group_width - 6) / max(len(series), 1))
    scale = _scale_max(series, None)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="{FONT}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="13" font-weight="bold" fill="{TEXT_COLOUR}">{escape(title)}</text>',
        *_legend(series, left, 36),
        f'<line x1="{left}" y1="{top + plot_height}" x2="{width - 10}" y2="{top + plot_height}" stroke="{GRID_COLOUR}"/>',
        f'<text x="{left - 4}" y="{top + 8}" font-size="9" text-anchor="end" fill="{TEXT_COLOUR}">{scale:g}</text>',
    ]
    for column, category in enumerate(categories):
        x = left + column * group_width + 3
        for index, item in enumerate(series):
            value = item.values[column]
            bar = 0.0 if value is None else plot_height * max(value, 0) / scale
            colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
            column_x = x + index * column_width
            if bar:
                parts.append(f'<rect x="{column_x:.1f}" y="{top + plot_height - bar:.1f}" width="{column_width - 1:.1f}" height="{bar:.1f}" fill="{colour}"/>')
            if value is None:
                parts.append(
                    f'<text x="{column_x + column_width / 2:.1f}" y="{top + plot_height - 3:.1f}" font-size="8" text-anchor="middle" '
                    f'fill="{TEXT_COLOUR}">{escape(item.labels[column])}</text>'
                )
        parts.append(
            f'<text x="{x + group_width / 2 - 3:.1f}" y="{top + plot_height + 14:.1f}" font-size="9" text-anchor="middle" fill="{TEXT_COLOUR}">'
            f"{escape(category)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))
