"""The attainment chart: per period the share within the target (0–100 %), with the required
share as a dashed line, as SVG that WeasyPrint draws and browsers show.

Met or not is never told by colour alone: every column carries its percentage, a period not met
gets a hatched column and an ✗ under it, and the chart's ``<desc>`` says in words how often the
norm was met (its text alternative; the table beside it carries every number).
Used by the editor's figures panel, the charter report (PDF) and the public report page.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from cases.measurements.attainment import PeriodAttainment
from cases.reporting.charts import FONT, GRID_COLOUR, SERIES_COLOURS, TEXT_COLOUR
from cases.reporting.periods import period_short_label

MET_COLOUR = SERIES_COLOURS[0]
NOT_MET_COLOUR = SERIES_COLOURS[1]


def attainment_summary(periods: Sequence[PeriodAttainment], required: Decimal | None) -> str:
    """In words: how often the norm was met, e.g. 'Gehaald in 9 van de 11 perioden met metingen (norm: 80%).'"""
    judged = [period for period in periods if period.attained is not None or period.met is not None]
    if not judged:
        return _("Nog geen metingen in deze perioden.")
    if required is None:
        return _("Gemeten in %(count)s perioden; deze belofte heeft geen getal als norm.") % {"count": len(judged)}
    met = sum(1 for period in judged if period.met)
    # Each period is judged by the share required then: a revision's new share is named from its first period on.
    shares: list[tuple[str, Decimal]] = []
    for period in judged:
        share = period.required if period.required is not None else required
        if not shares or shares[-1][1] != share:
            shares.append((period_short_label(period.period), share))
    later = "".join(_(", vanaf %(period)s %(required)s%%") % {"period": label, "required": percent_text(share)} for label, share in shares[1:])
    return _("Gehaald in %(met)s van de %(count)s perioden met metingen (nodig: %(required)s%% binnen de norm%(later)s).") % {
        "met": met,
        "count": len(judged),
        "required": percent_text(shares[0][1]),
        "later": later,
    }


def percent_text(share: Decimal) -> str:
    """0.8 → '80', 0.925 → '92,5' (Dutch decimal comma)."""
    return f"{(share * 100).normalize():f}".replace(".", ",")


def _column(parts: list[str], period: PeriodAttainment, x: float, width: float, top: float, plot_height: float, hatch: str) -> None:
    if period.attained is None:
        parts.append(f'<text x="{x + width / 2:.1f}" y="{top + plot_height - 3:.1f}" font-size="11" text-anchor="middle" fill="{TEXT_COLOUR}">—</text>')
        return
    height = plot_height * period.attained
    colour = NOT_MET_COLOUR if period.met is False else MET_COLOUR
    fill = f"url(#{hatch})" if period.met is False else colour
    y = top + plot_height - height
    parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" fill="{fill}" stroke="{colour}"/>')
    parts.append(
        f'<text x="{x + width / 2:.1f}" y="{y - 3:.1f}" font-size="11" text-anchor="middle" fill="{TEXT_COLOUR}">{escape(period.percent_display)}</text>'
    )


def attainment_chart(
    *, ident: str, title: str, periods: Sequence[PeriodAttainment], required: Decimal | None, width: int = 560, height: int = 200
) -> SafeString:
    """Columns of the share within per period, the required share as a line; ``ident`` makes the ids unique on a page."""
    top, bottom, left = 28, 34, 34
    plot_height, plot_width = height - top - bottom, width - left - 10
    group = plot_width / max(len(periods), 1)
    column = max(4.0, min(36.0, group - 6))
    summary = attainment_summary(periods, required)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{ident}-t {ident}-d" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="{FONT}">',
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(summary)}</desc>',
        f'<defs><pattern id="{ident}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="6" stroke="{NOT_MET_COLOUR}" stroke-width="3"/></pattern></defs>',
        f'<text x="0" y="16" font-size="13" font-weight="bold" fill="{TEXT_COLOUR}">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_height}" x2="{width - 10}" y2="{top + plot_height}" stroke="{GRID_COLOUR}"/>',
        f'<text x="{left - 4}" y="{top + 8}" font-size="11" text-anchor="end" fill="{TEXT_COLOUR}">100%</text>',
        f'<text x="{left - 4}" y="{top + plot_height}" font-size="11" text-anchor="end" fill="{TEXT_COLOUR}">0%</text>',
    ]
    spans_years = len({period.period[:4] for period in periods}) > 1
    for index, period in enumerate(periods):
        x = left + index * group + (group - column) / 2
        _column(parts, period, x, column, top, plot_height, f"{ident}-hatch")
        mark = " ✗" if period.met is False else ""
        name = period_short_label(period.period)
        label_y = top + plot_height + 13
        parts.append(f'<text x="{x + column / 2:.1f}" y="{label_y:.1f}" font-size="11" text-anchor="middle" fill="{TEXT_COLOUR}">{escape(name + mark)}</text>')
        # Over more than one year a month or quarter name repeats ("okt" twice): the year stands under its first one.
        if spans_years and period.period[4:5] == "-" and (index == 0 or period.period[:4] != periods[index - 1].period[:4]):
            parts.append(
                f'<text x="{x:.1f}" y="{label_y + 13:.1f}" font-size="11" text-anchor="start" fill="{TEXT_COLOUR}">{escape(period.period[:4])}</text>'
            )
    for first, last, share in _required_steps(periods, required):
        # Each period is judged by the share required then: a revision mid-year moves the line from its first period on.
        y = top + plot_height * (1 - float(share))
        x1, x2 = left + first * group, (width - 10 if last == len(periods) - 1 else left + (last + 1) * group)
        parts.append(f'<line x1="{x1:.1f}" y1="{y:.1f}" x2="{x2:.1f}" y2="{y:.1f}" stroke="{TEXT_COLOUR}" stroke-dasharray="5 3"/>')
        parts.append(f'<text x="{x2 - 2:.1f}" y="{y - 3:.1f}" font-size="11" text-anchor="end" fill="{TEXT_COLOUR}">norm {percent_text(share)}%</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _required_steps(periods: Sequence[PeriodAttainment], required: Decimal | None) -> list[tuple[int, int, Decimal]]:
    """(first index, last index, share) for each run of periods judged by the same required share; a period
    without its own share (none measurable then) takes ``required``. Nothing when there is no share at all."""
    steps: list[tuple[int, int, Decimal]] = []
    for index, period in enumerate(periods):
        share = period.required if period.required is not None else required
        if share is None:
            continue
        if steps and steps[-1][2] == share and steps[-1][1] == index - 1:
            steps[-1] = (steps[-1][0], index, share)
        else:
            steps.append((index, index, share))
    if not periods and required is not None:
        steps.append((0, 0, required))
    return steps
