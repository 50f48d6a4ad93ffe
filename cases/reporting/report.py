"""The annual complaints report (Awb 9:12a: the municipality registers its complaints and publishes them
yearly): one set of tables, written as PDF (with charts and a short text per section), CSV and JSON that
carry the same numbers. The report holds counts, shares and days only: every count goes through ``Figure``
(small-cell suppression) and every share or handling time of too few cases is left out, so the report can
be published as it is. Its terms are the charter's own (``charter_terms``), named where every case of
the year was held to them (``compliance.held_terms``).
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import ComplaintOutcome, IntakeChannel, Kind, SuggestionOutcome
from cases.reporting import aggregates, compliance, figures, periods, satisfaction, waiting
from cases.reporting.charts import Series, bar_chart
from cases.reporting.compliance import ComplianceFigures, HeldTerms, Share
from cases.reporting.figures import Figure, Trend
from cases.reporting.report_counts import ReportCounts, report_counts
from cms.models import MunicipalitySettings

logger = logging.getLogger(__name__)

FORMATS = ("pdf", "csv", "json")
FIRST_YEAR = 2000
REPORT_YEAR_IN_FUTURE = gettext_lazy("Het jaar %(year)s is nog niet begonnen; kies %(latest)s of eerder.")
REPORT_YEAR_TOO_EARLY = gettext_lazy("Kies een jaar vanaf %(first)s.")
REPORT_FORMAT_UNKNOWN = gettext_lazy("Onbekend formaat '%(format)s'; kies pdf, csv of json.")
CONTENT_TYPES = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8", "json": "application/json"}
TOP_NORMS_IN_CHART = 10


class ReportError(ValueError):
    """The report cannot be made as asked; ``str(exc)`` is a Dutch message."""


# --- the tables ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One number of the report: ``value`` is what CSV and JSON carry (an int, a float, the
    string ``<3``, or None when not shown); ``display`` is how the PDF prints it, in Dutch."""

    value: int | float | str | None
    display: str

    @property
    def plotted(self) -> float | None:
        return self.value if isinstance(self.value, int | float) and not isinstance(self.value, bool) else None


def count_cell(value: Figure) -> Cell:
    return Cell(value.value, str(value))


def share_cell(value: Share) -> Cell:
    return Cell(value.percent, str(value))


def days_cell(value: float | None) -> Cell:
    return Cell(value, "—" if value is None else f"{value:.1f}".replace(".", ","))


def trend_cell(value: Trend) -> Cell:
    return Cell(value.delta, str(value))


@dataclass
class Row:
    key: str
    label: str
    cells: dict[str, Cell]
    note: str = ""  # shown under the label in the PDF only (e.g. a norm's promise)


@dataclass
class Section:
    key: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[Row]
    chart: SafeString | None = None

    @property
    def by_key(self) -> dict[str, Row]:
        """For templates and tests: ``section.by_key.callback``, a row named, not counted by position."""
        return {item.key: item for item in self.rows}


@dataclass
class AnnualReport:
    municipality: str
    year: int
    as_of: datetime.date
    generated_at: datetime.datetime
    threshold: int
    # The charter's terms the year's cases were held to (``compliance.held_terms``); None: not every case.
    terms: HeldTerms
    sections: list[Section] = field(default_factory=list)

    def section(self, key: str) -> Section:
        for item in self.sections:
            if item.key == key:
                return item
        raise KeyError(key)

    @property
    def by_key(self) -> dict[str, Section]:
        """For templates: ``report.by_key.summary``."""
        return {item.key: item for item in self.sections}


# --- building ---------------------------------------------------------------------------------


def report_check_year(*, year: int, today: datetime.date | None = None) -> None:
    today = today or timezone.localdate()
    if year < FIRST_YEAR:
        raise ReportError(REPORT_YEAR_TOO_EARLY % {"first": FIRST_YEAR})
    if year > today.year:
        raise ReportError(REPORT_YEAR_IN_FUTURE % {"year": year, "latest": today.year})


def _kind_columns() -> list[tuple[str, str]]:
    return [(Kind.COMPLAINT.value, _("klachten")), (Kind.SUGGESTION.value, _("suggesties"))]


def _chart_of(section: Section, title: str, columns: list[tuple[str, str]] | None = None, maximum: float | None = None, unit: str = "") -> SafeString:
    columns = columns or section.columns
    series = [
        Series(name=label, values=[row.cells[key].plotted for row in section.rows], labels=[row.cells[key].display for row in section.rows])
        for key, label in columns
    ]
    return bar_chart(title=title, categories=[row.label for row in section.rows], series=series, maximum=maximum, unit=unit)


def _summary(by_kind: dict[str, ComplianceFigures]) -> Section:
    rows = [
        ("received", _("ontvangen"), lambda f: f.received),
        ("handled", _("afgehandeld met antwoord of besluit"), lambda f: f.handling.handled),
        ("open", _("nog open op de peildatum"), lambda f: f.open_cases),
        ("overdue", _("waarvan over de termijn"), lambda f: f.overdue_cases),
    ]
    return Section(
        key="summary",
        title=_("Samenvatting"),
        columns=_kind_columns(),
        rows=[Row(key, label, {kind: count_cell(get(by_kind[kind])) for kind, _label in _kind_columns()}) for key, label, get in rows],
    )


def _per_quarter(counts: ReportCounts) -> Section:
    rows = [Row(key, periods.period_label(key), {kind: count_cell(cells[kind]) for kind, _label in _kind_columns()}) for key, cells in counts.quarters.items()]
    section = Section(key="per_quarter", title=_("Per kwartaal"), columns=_kind_columns(), rows=rows)
    section.chart = _chart_of(section, _("Ontvangen per kwartaal"))
    return section


def _per_channel(counts: ReportCounts) -> Section:
    rows = [
        Row(channel.value, str(channel.label), {kind: count_cell(counts.channels[channel.value][kind]) for kind, _label in _kind_columns()})
        for channel in IntakeChannel
    ]
    section = Section(key="per_channel", title=_("Per kanaal"), columns=_kind_columns(), rows=rows)
    section.chart = _chart_of(section, _("Ontvangen per kanaal"))
    return section


def _per_norm(year: int) -> Section:
    overview = aggregates.norm_overview(period=str(year))
    columns = [
        ("complaints", _("klachten")),
        ("suggestions", _("suggesties")),
        ("unconfirmed", _("nog niet bevestigd")),
        ("previous_complaints", _("klachten %(year)s") % {"year": year - 1}),
        ("trend", _("verschil klachten")),
    ]
    rows = [
        Row(
            item.code,
            item.code,
            {
                "complaints": count_cell(item.figures.complaints),
                "suggestions": count_cell(item.figures.suggestions),
                "unconfirmed": count_cell(item.figures.unconfirmed),
                "previous_complaints": count_cell(item.figures.previous_complaints),
                "trend": trend_cell(item.figures.complaint_trend),
            },
            note=item.promise,
        )
        for item in overview
    ]
    section = Section(key="per_norm", title=_("Per norm"), columns=columns, rows=rows)
    busiest = sorted(overview, key=lambda item: (-(item.figures.complaints.count + item.figures.suggestions.count), item.code))[:TOP_NORMS_IN_CHART]
    busiest = [item for item in busiest if item.figures.complaints.count + item.figures.suggestions.count > 0]
    top = Section(key="", title="", columns=columns[:2], rows=[row for item in busiest for row in rows if row.key == item.code])
    section.chart = _chart_of(top, _("Normen met de meeste klachten en suggesties")) if top.rows else None
    return section


def _satisfaction(year: int) -> Section:
    """Scores given in ``year`` after closure: per kind, then per confirmed norm and kind (counts and averages only)."""
    per_kind, per_norm = satisfaction.satisfaction_scores(year=year)
    groups = [(kind, str(Kind(kind).label), scores) for kind, scores in sorted(per_kind.items())]
    groups += [(f"{code}:{kind}", f"{code} ({Kind(kind).label})", scores) for (code, kind), scores in sorted(per_norm.items())]
    shown = {None: "—"}
    rows = [
        Row(key, label, {name: Cell(value, shown.get(value, str(value).replace(".", ","))) for name, value in satisfaction.satisfaction_cell(scores).items()})
        for key, label, scores in groups
    ]
    columns = [("answered", _("beantwoord")), ("average", _("gemiddeld (1–5)")), ("not_satisfied", _("niet tevreden (1–2)"))]
    return Section(key="satisfaction", title=_("Tevredenheid na afloop"), columns=columns, rows=rows)


def _outcomes(by_kind: dict[str, ComplianceFigures], kind: str) -> Section:
    if kind == Kind.COMPLAINT:
        choices, key, title = ComplaintOutcome, "outcomes_complaints", _("Uitkomst van klachten")
    else:
        choices, key, title = SuggestionOutcome, "outcomes_suggestions", _("Wat er met suggesties gebeurde")
    outcomes = by_kind[kind].outcomes
    rows = [Row(choice.value, str(choice.label), {"count": count_cell(outcomes[choice.value])}) for choice in choices]
    if kind == Kind.SUGGESTION:
        rows.append(Row("withdrawn", _("ingetrokken of zonder uitkomst gesloten"), {"count": count_cell(outcomes[""])}))
    section = Section(key=key, title=title, columns=[("count", _("aantal"))], rows=rows)
    section.chart = _chart_of(section, title)
    return section


def _handling_time(by_kind: dict[str, ComplianceFigures], combined: ComplianceFigures, year: int) -> Section:
    """Days from receipt to answer per kind; and, apart, the days waited for the citizen's answers to our questions."""
    rows = []
    for key, label, handling in (
        (Kind.COMPLAINT.value, _("klachten"), by_kind[Kind.COMPLAINT].handling),
        (Kind.SUGGESTION.value, _("suggesties"), by_kind[Kind.SUGGESTION].handling),
        ("all", _("alle zaken"), combined.handling),
        ("waiting", _("wachten op antwoord van de indiener (vragen)"), waiting.question_waiting(year=year)),
    ):
        rows.append(Row(key, label, {"handled": count_cell(handling.handled), "median": days_cell(handling.median), "p90": days_cell(handling.p90)}))
    columns = [("handled", _("afgehandeld")), ("median", _("mediaan (dagen)")), ("p90", _("90e percentiel (dagen)"))]
    section = Section(key="handling_time", title=_("Behandelduur"), columns=columns, rows=rows)
    section.chart = _chart_of(section, _("Behandelduur in kalenderdagen"), columns=columns[1:], unit=" d")
    return section


def _handling_histogram(by_kind: dict[str, ComplianceFigures]) -> Section:
    rows = []
    for index, (label, _upper) in enumerate(compliance.HANDLING_BUCKETS):
        cells = {kind: count_cell(by_kind[kind].handling.buckets[index][1]) for kind, _kind_label in _kind_columns()}
        rows.append(Row(label, _("%(days)s dagen") % {"days": label}, cells))
    section = Section(key="handling_histogram", title=_("Verdeling van de behandelduur"), columns=_kind_columns(), rows=rows)
    section.chart = _chart_of(section, _("Afgehandeld na … dagen"))
    return section


def _compliance(combined: ComplianceFigures, terms: HeldTerms) -> Section:
    # The charter's own terms (a municipality may promise less than the law's six weeks), as far as they held.
    metrics = [
        ("acknowledgement", _("ontvangstbevestiging binnen %(term)s") % {"term": terms.text(terms.acknowledgement)}, combined.acknowledgement_on_time),
        ("answer_six_weeks", _("antwoord binnen %(term)s") % {"term": terms.text(terms.answer)}, combined.answer_within_six_weeks),
        ("answer_term", _("antwoord binnen de (verlengde) termijn"), combined.answer_within_term),
        ("interim_notice", _("tussentijds bericht op tijd wanneer nodig"), combined.interim_notice_in_time),
        ("callback", _("teruggebeld binnen %(term)s, zoals toegezegd") % {"term": terms.text(terms.callback)}, combined.callback_on_time),
    ]
    rows = [
        Row(key, label, {"on_time": count_cell(share.part_figure), "total": count_cell(share.whole_figure), "percent": share_cell(share)})
        for key, label, share in metrics
    ]
    columns = [("on_time", _("op tijd")), ("total", _("van")), ("percent", _("percentage"))]
    section = Section(key="compliance", title=_("Onze eigen termijnen"), columns=columns, rows=rows)
    section.chart = _chart_of(section, _("Binnen de termijn (%)"), columns=[("percent", _("percentage"))], maximum=100)
    return section


STEPS = ("compliance", "per_quarter", "per_channel", "per_norm", "outcomes", "handling", "satisfaction")


def report_build(*, year: int, as_of: datetime.date | None = None, progress: Callable[[str], None] | None = None) -> AnnualReport:
    """The annual report of the cases received in ``year``, as on ``as_of`` (default today).

    ``progress`` is called with the name of each step as it starts (the command shows it).
    """
    report_check_year(year=year)
    as_of = as_of or timezone.localdate()
    step = progress or (lambda name: None)
    start, end = datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)
    step("compliance")
    by_kind = compliance.compliance_by_kind(start=start, end=end, as_of=as_of)
    combined = by_kind[compliance.ALL_KINDS]
    report = AnnualReport(
        municipality=MunicipalitySettings.load().name,
        year=year,
        as_of=as_of,
        generated_at=timezone.now(),
        threshold=figures.small_cell_threshold(),
        terms=compliance.held_terms(start=start, end=end),
    )
    step("per_quarter")
    counts = report_counts(year, by_kind)  # before any cell is written: they protect one another's small counts
    report.sections.append(_summary(by_kind))
    report.sections.append(_per_quarter(counts))
    step("per_channel")
    report.sections.append(_per_channel(counts))
    step("per_norm")
    report.sections.append(_per_norm(year))
    step("outcomes")
    report.sections.append(_outcomes(by_kind, Kind.COMPLAINT))
    report.sections.append(_outcomes(by_kind, Kind.SUGGESTION))
    step("handling")
    report.sections.append(_handling_time(by_kind, combined, year))
    report.sections.append(_handling_histogram(by_kind))
    report.sections.append(_compliance(combined, report.terms))
    step("satisfaction")
    report.sections.append(_satisfaction(year))
    logger.info("annual report %s built (as of %s)", year, as_of)
    return report


# --- writing ----------------------------------------------------------------------------------


def report_to_data(report: AnnualReport) -> dict:
    """The report as plain data: what the JSON carries."""
    return {
        "municipality": report.municipality,
        "year": report.year,
        "as_of": report.as_of.isoformat(),
        "small_cell_threshold": report.threshold,
        "sections": [
            {
                "key": section.key,
                "title": section.title,
                "columns": [{"key": key, "label": label} for key, label in section.columns],
                "rows": [
                    {"key": row.key, "label": row.label, "values": {key: row.cells[key].value for key, _label in section.columns}} for row in section.rows
                ],
            }
            for section in report.sections
        ],
    }


def report_to_json(report: AnnualReport) -> str:
    return json.dumps(report_to_data(report), ensure_ascii=False, indent=2)


CSV_HEADER = ("section", "row", "row_label", "column", "value")


def report_to_csv(report: AnnualReport) -> str:
    """One line per number: section, row, row label, column, value (``<3`` when suppressed, empty when not shown)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for section in report.sections:
        for row in section.rows:
            for key, _label in section.columns:
                value = row.cells[key].value
                writer.writerow((section.key, row.key, row.label, key, "" if value is None else value))
    return buffer.getvalue()


def report_to_html(report: AnnualReport) -> str:
    return render_to_string("cases/report/annual.html", {"report": report})


def report_to_pdf(report: AnnualReport) -> bytes:
    # Imported here: WeasyPrint is heavy, and only the PDF needs it (not JSON, CSV or the dashboard).
    from weasyprint import HTML

    # PDF/UA-1: a tagged PDF with its language and title, readable with a screen reader.
    return HTML(string=report_to_html(report)).write_pdf(pdf_variant="pdf/ua-1")


def report_render(*, report: AnnualReport, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise ReportError(REPORT_FORMAT_UNKNOWN % {"format": fmt})
    if fmt == "pdf":
        return report_to_pdf(report)
    if fmt == "csv":
        return report_to_csv(report).encode("utf-8")
    return report_to_json(report).encode("utf-8")


def report_filename(*, year: int, fmt: str) -> str:
    return f"klachtenrapportage-{year}.{fmt}"
