"""The charter report, "Hoe hielden wij ons aan onze beloften?": per norm of the charter its
target, per period whether it was met, and the complaints and suggestions about it.

One build (``charter_report_build``), written as JSON (the contract of DESIGN.md), CSV (one line
per norm and period) and a PDF (WeasyPrint, with a chart per measured norm, in Dutch), and shown
to citizens on the ``cms.CharterReportPage`` (``cases.public.charter_report``). Written by
``manage.py charter_report``. Counts only: complaints and suggestions follow the small-cell rule
(``<3``), as do the norms measured from the cases; satisfaction (``cases.reporting.satisfaction``) is the
count and average of the scores given that year, null for a norm without any.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from dataclasses import dataclass, field

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy

from cases.measurements.attainment import NormAttainment, norm_attainment
from cases.measurements.charts import attainment_chart, attainment_summary
from cases.reporting.aggregates import norm_overview
from cases.reporting.figures import Figure, small_cell_threshold
from cases.reporting.report import ReportError, report_check_year
from cases.reporting.satisfaction import satisfaction_per_norm
from cms.models import Channel, MunicipalitySettings, ServiceNorm

FORMATS = ("json", "csv", "pdf")
CONTENT_TYPES = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8", "json": "application/json"}
TITLE = gettext_lazy("Hoe hielden wij ons aan onze beloften?")
FORMAT_UNKNOWN = gettext_lazy("Onbekend formaat '%(format)s'; kies json, csv of pdf.")
CSV_HEADER = ("code", "target", "period", "observations", "within_target", "attained", "met", "complaints", "suggestions")


@dataclass
class ReportNorm:
    """A norm in the report: its attainment per period and the complaints and suggestions about it."""

    attainment: NormAttainment
    complaints: Figure
    suggestions: Figure
    chart: SafeString | None = None

    @property
    def norm(self) -> ServiceNorm:
        return self.attainment.norm

    @property
    def code(self) -> str:
        return self.attainment.code

    @property
    def channel_label(self) -> str:
        return str(Channel(self.norm.channel).label) if self.norm.channel in Channel.values else self.norm.channel

    @property
    def has_observations(self) -> bool:
        return any(period.observations for period in self.attainment.periods)

    @property
    def summary(self) -> str:
        return attainment_summary(self.attainment.periods, self.attainment.versions[-1].required_share)


@dataclass
class CharterReport:
    municipality: str
    year: int
    as_of: datetime.date
    threshold: int
    norms: list[ReportNorm] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(TITLE)

    @property
    def by_channel(self) -> list[tuple[str, list[ReportNorm], list[ReportNorm]]]:
        """(channel label, measured norms, qualitative norms) in the charter's order. A promise without a number whose
        counts were imported (a mystery shopper's sample) is shown with them, among the measured ones, not judged."""
        groups: dict[str, tuple[list, list]] = {}
        for item in self.norms:
            measured, qualitative = groups.setdefault(item.channel_label, ([], []))
            (measured if item.attainment.measurable or item.has_observations else qualitative).append(item)
        return [(label, measured, qualitative) for label, (measured, qualitative) in groups.items()]


def _norms_of(year: int):
    started = datetime.date(year, 1, 1)
    return ServiceNorm.objects.filter(Q(active=True) | Q(retired_on__gte=started), live=True)


def charter_report_build(*, year: int, as_of: datetime.date | None = None, charts: bool = True) -> CharterReport:
    """The report of ``year`` as on ``as_of`` (default today); raises ``ReportError`` (Dutch) for a year not yet begun."""
    as_of = as_of or timezone.localdate()
    report_check_year(year=year, today=as_of)
    attainments = norm_attainment(start=datetime.date(year, 1, 1), end=datetime.date(year + 1, 1, 1), norms=_norms_of(year), as_of=as_of)
    counts = {row.code: row.figures for row in norm_overview(period=str(year), include_retired=True)}
    threshold = small_cell_threshold()
    report = CharterReport(municipality=MunicipalitySettings.load().name, year=year, as_of=as_of, threshold=threshold)
    for item in attainments:
        figures = counts.get(item.code)
        entry = ReportNorm(
            attainment=item,
            complaints=figures.complaints if figures else Figure(0, threshold),
            suggestions=figures.suggestions if figures else Figure(0, threshold),
        )
        if charts and item.measurable and entry.has_observations:
            entry.chart = attainment_chart(
                ident=f"chart-{item.code.lower()}",
                title="Hoe vaak binnen de norm, per periode",  # the section heading names the promise; no code for the public
                periods=item.periods,
                required=item.versions[-1].required_share,
            )
        report.norms.append(entry)
    return report


def _period_data(period) -> dict:
    return {
        "period": period.period,
        "observations": period.observations_value,
        "within_target": period.within_value,
        "attained": period.attained,
        "met": period.met,
    }


def charter_report_to_data(report: CharterReport) -> dict:
    """The report as plain data: what the JSON carries (DESIGN.md)."""
    norms = []
    # Satisfaction after closure (cases.conversation), per norm: counts and averages only; None without answers.
    satisfaction = satisfaction_per_norm(year=report.year)
    for item in report.norms:
        latest = item.attainment.versions[-1]
        norms.append(
            {
                "code": item.code,
                "channel": item.norm.channel,
                "promise": item.norm.promise,
                "target": item.attainment.target,
                "measured_from": latest.measured_from,
                "required_share": None if latest.required_share is None else float(latest.required_share),
                "periods": [_period_data(period) for period in item.attainment.periods],
                "complaints": item.complaints.value,
                "suggestions": item.suggestions.value,
                "satisfaction": satisfaction.get(item.code),
            }
        )
    return {"year": report.year, "title": report.title, "municipality": report.municipality, "as_of": report.as_of.isoformat(), "norms": norms}


def charter_report_to_json(report: CharterReport) -> str:
    return json.dumps(charter_report_to_data(report), ensure_ascii=False, indent=2)


def charter_report_to_csv(report: CharterReport) -> str:
    """One line per norm and period (a norm without periods: one line with the period empty)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for norm in charter_report_to_data(report)["norms"]:
        for period in norm["periods"] or [dict.fromkeys(("period", "observations", "within_target", "attained", "met"))]:
            met = "" if period["met"] is None else str(period["met"]).lower()
            values = (period["observations"], period["within_target"], period["attained"])
            writer.writerow(
                (
                    norm["code"],
                    norm["target"],
                    period["period"] or "",
                    *("" if value is None else value for value in values),
                    met,
                    norm["complaints"],
                    norm["suggestions"],
                )
            )
    return buffer.getvalue()


def charter_report_to_html(report: CharterReport) -> str:
    return render_to_string("cases/report/charter_report.html", {"report": report})


def charter_report_to_pdf(report: CharterReport) -> bytes:
    # Imported here: WeasyPrint is heavy, and only the PDF needs it (not JSON, CSV or the pages).
    from weasyprint import HTML

    return HTML(string=charter_report_to_html(report)).write_pdf(pdf_variant="pdf/ua-1")  # tagged, with the language and title of the HTML


def charter_report_render(*, report: CharterReport, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise ReportError(FORMAT_UNKNOWN % {"format": fmt})
    if fmt == "pdf":
        return charter_report_to_pdf(report)
    if fmt == "csv":
        return charter_report_to_csv(report).encode("utf-8")
    return charter_report_to_json(report).encode("utf-8")


def charter_report_filename(*, year: int, fmt: str) -> str:
    return f"handvestrapportage-{year}.{fmt}"
