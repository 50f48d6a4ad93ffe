"""Measurements as the quality officer imports them and as editors and citizens read them: the import's own counts,
spreadsheet headers, single observations beside a total of the same days, a file of daily totals read again, the
target beside the period it judged, the counts of a promise without a number, and drafts.

Each test states the rule; the docstrings also say what went wrong before the fix (a review of December 6).
"""

import contextlib
import datetime
import io
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.models import ModelLogEntry

from cases.measurements import storing
from cases.measurements.attainment import latest_attainment, norm_attainment
from cases.measurements.charter_report import charter_report_build, charter_report_to_html
from cases.measurements.importing import MeasurementFileRefused, measurements_import
from cases.models import Measurement
from cms.models import ServiceNorm
from cms.roles import EDITORS
from tests.factories import UserFactory
from tests.test_aggregates_data import D, norms_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
TOTALS_HEADER = "norm,period_start,period_end,observations,within_target\n"


def run(content: bytes, source: str = "telephony", name: str = "export.csv"):
    return measurements_import(stream=io.BytesIO(content), file_name=name, source=source)


def calls(month: str, within: int, late: int, *, code: str = "TEL-25SEC", fast: str = "25", slow: str = "26") -> list[str]:
    values = [fast] * within + [slow] * late
    return [f"{code},{month}-{1 + i % 27:02d}T{8 + i % 9:02d}:{i % 60:02d}:00,{v}" for i, v in enumerate(values)]


def periods_of(code, start, end, as_of):
    (item,) = norm_attainment(start=start, end=end, norms=ServiceNorm.objects.filter(code=code), as_of=as_of)
    return item


def upload(client, name: str, content: bytes):
    return client.post(
        reverse("handvest_measurements:upload"),
        {"file": SimpleUploadedFile(name, content, content_type="text/csv"), "source": "telephony"},
        follow=True,
    )


# --- the import ------------------------------------------------------------------------------------------


def test_a_corrected_month_total_never_reports_a_negative_number_already_there(officer_client, norms):
    """The quality officer imports the phone exchange's total for 1–30 March, then the corrected total for the whole
    month, which replaces it. The confirmation counts the lines of the file: 1 line, 1 new (the old total replaced).
    It must never say that '-1' lines were there already (and after a month of daily totals replaced: '-31')."""
    upload(officer_client, "maart-tot-30.csv", (TOTALS_HEADER + "TEL-25SEC,2026-03-01,2026-03-30,900,700\n").encode())
    page = upload(officer_client, "maart.csv", (TOTALS_HEADER + "TEL-25SEC,2026-03-01,2026-03-31,1000,780\n").encode())
    (message,) = [str(m) for m in page.context["messages"] if "maart.csv" in str(m)]
    assert "-1" not in message, message
    # The same through the service, for a month of daily totals replaced by one monthly total.
    days = "".join(f"TEL-25SEC,2026-05-{d:02d},2026-05-{d:02d},100,80\n" for d in range(1, 32))
    run((TOTALS_HEADER + days).encode())
    result = run((TOTALS_HEADER + "TEL-25SEC,2026-05-01,2026-05-31,3100,2480\n").encode())
    assert result.unchanged >= 0, result


@pytest.mark.parametrize(
    "content",
    [
        # Excel, a sheet whose first row was left empty: saved as ';;' before the header.
        pytest.param(b";;\r\nnorm;observed_at;value\r\nTEL-25SEC;2026-03-02T09:15:00;12,5\r\n", id="empty-excel-row-before-header"),
        # Excel, a sheet where a column right of C once held something: every row ends in ';;'.
        pytest.param(b"norm;observed_at;value;;\r\nTEL-25SEC;2026-03-02T09:15:00;12,5;;\r\n", id="trailing-empty-columns"),
        # The same columns, in another order than the import expects.
        pytest.param(b"observed_at,norm,value\n2026-03-02T09:15:00,TEL-25SEC,18\n", id="columns-in-another-order"),
    ],
)
def test_the_header_of_an_excel_file_is_never_read_as_a_measurement(norms, content):
    """'Empty lines, also before the header, are skipped' (README) and a wrong header gets a clear Dutch message.
    A header that Excel wrote with an empty row above it, with empty columns after it, or with the columns in
    another order must not be read as a measurement of a norm called 'norm' or 'observed_at' (today: 'regel 1:
    onbekende norm ‘norm’; ‘observed_at’ is geen datum …'), which tells the officer nothing about what to fix."""
    if content.startswith(b"observed_at"):  # a header of known names in another order: refused as a header
        with pytest.raises(MeasurementFileRefused) as refused:
            run(content)
        assert "onbekende kop" in " ".join(refused.value.messages) and "onbekende norm" not in " ".join(refused.value.messages)
    else:  # the empty row and the empty columns are Excel's, not the officer's: the file is read
        assert run(content).added == 1


def test_a_raw_export_and_the_monthly_total_of_the_same_calls_are_not_counted_twice(norms):
    """The officer imports the phone exchange's call list of March (30 calls, 24 within 25 seconds) and later
    the exchange's monthly report for March (30 calls, 24 within). They are the same 30 calls: March has 30
    observations, not 60. ('one that overlaps … is refused, since the same calls would count twice', README.)
    Either the second file is refused in Dutch, or March still counts 30."""
    raw = "norm,observed_at,value\n" + "".join(f"TEL-25SEC,2026-03-{d:02d}T10:00:00,{10 if d % 5 else 40}\n" for d in range(1, 31))
    run(raw.encode())
    with contextlib.suppress(MeasurementFileRefused):  # refusing the second file is one right answer
        run((TOTALS_HEADER + "TEL-25SEC,2026-03-01,2026-03-31,30,24\n").encode())
    (march,) = periods_of("TEL-25SEC", D(2026, 3, 1), D(2026, 4, 1), D(2026, 5, 1)).periods
    assert (march.observations, march.within) == (30, 24)


def test_a_file_of_daily_totals_is_imported_again_well_within_the_web_servers_60_seconds(norms):
    """README: the admin takes files up to 25 MB ('about 650,000 lines, imported well within the web server's
    60 s'). A phone exchange's daily totals of four norms since 2021 is 8,000 lines, 0.35 MB. Importing it, and
    importing it again next month, must each take seconds, not minutes (today the checks on overlapping periods
    compare every line with every other line and with every stored total: the second import took 30 to 70 s
    on this machine, so the officer's upload ends in a gateway time-out)."""
    lines = []
    day = datetime.date(2021, 1, 1)
    while len(lines) < 8000:
        lines.extend(f"{code},{day},{day},100,90\n" for code in ("TEL-25SEC", "BALIE-WACHTTIJD", "BALIE-AFSPRAAK", "TEL-TERUGBELLEN"))
        day += datetime.timedelta(days=1)
    content = (TOTALS_HEADER + "".join(lines)).encode()
    assert len(content) < 400_000
    first = run(content)
    compared = []
    original = storing.PeriodIndex.overlapping

    def counted(self, other):
        found = original(self, other)
        compared.append(len(found))
        return found

    with mock.patch.object(storing.PeriodIndex, "overlapping", counted):
        again = run(content)
    assert (first.added, again.added, again.replaced, again.unchanged) == (8000, 0, 0, 8000)
    # Each stored total is compared with the new totals of its own days only (bench_measurements times it).
    assert max(compared) <= 1 and len(compared) <= 2 * 8000


# --- what editors and officers see ---------------------------------------------------------------------------


def _revise(code: str, when: datetime.datetime, **fields) -> None:
    norm = ServiceNorm.objects.get(code=code)
    ModelLogEntry.objects.filter(object_id=str(norm.pk), action="wagtail.publish").update(timestamp=datetime.datetime(2025, 1, 1, tzinfo=AMS))
    for name, value in fields.items():
        setattr(norm, name, value)
    revision = norm.save_revision()
    revision.publish()
    ModelLogEntry.objects.filter(revision=revision, action="wagtail.publish").update(timestamp=when)


def test_the_latest_period_is_shown_beside_the_target_that_judged_it(harlingen):
    """On 15 October 2026 the editor raises TEL-25SEC from 80% to 90% (it applies from November). On 20
    November the phone exchange's October export is in, November's not yet. /beheer/metingen/ shows October:
    85% within, 'gehaald' — by the 80% that judged October. Beside it the target must be that 80%, not the 90%
    that October fell short of ('Doel: 90% …', '85,0%', 'gehaald' reads as an untrue figure)."""
    run(("norm,observed_at,value\n" + "\n".join(calls("2026-09", 85, 15) + calls("2026-10", 85, 15))).encode())
    _revise("TEL-25SEC", datetime.datetime(2026, 10, 15, 12, tzinfo=AMS), target_percentage=90)
    row = {r.code: r for r in latest_attainment(as_of=D(2026, 11, 20))}["TEL-25SEC"]
    assert (row.latest.period, row.latest.percent_display, row.latest.met_display) == ("2026-10", "85,0%", "gehaald")
    assert row.target.startswith("80%"), row.target


def test_imported_counts_of_a_promise_without_a_number_are_shown_in_the_report(norms):
    """The import refuses single calls for TEL-GROET ('answered with a greeting') and asks for 'tellingen per
    periode' instead. The officer imports the mystery-shopper sample of March 2025: 47 of 50 calls with a greeting.
    Those counts must show in the charter report that the PDF and the public page render, not only in the JSON;
    today the promise lands in 'Beloften zonder getal' with its complaints and the 47 of 50 is nowhere."""
    with pytest.raises(MeasurementFileRefused) as single:
        run(b"norm,observed_at,value\nTEL-GROET,2025-03-02T09:15:00,1\n")
    assert "tellingen per periode" in str(single.value)
    run((TOTALS_HEADER + "TEL-GROET,2025-03-01,2025-03-31,50,47\n").encode())
    html = charter_report_to_html(charter_report_build(year=2025, as_of=D(2026, 1, 15), charts=False))
    assert "47 van 50" in html or "94,0%" in html


def test_the_editors_panel_of_a_promise_without_a_number_shows_its_imported_counts(client, harlingen):
    """The editor revising TEL-GROET opens its figures: the mystery-shopper counts imported for it (47 of 50 in
    March) belong beside the complaints, as they do for every other norm; today the panel only says the promise is
    not judged and shows no count at all."""
    run((TOTALS_HEADER + "TEL-GROET,2026-03-01,2026-03-31,50,47\n").encode())
    client.force_login(UserFactory(username="redacteur", role=EDITORS))
    norm = ServiceNorm.objects.get(code="TEL-GROET")
    html = client.get(reverse("handvest_revision:norm_panel", args=[norm.pk])).content.decode()
    assert "47 van 50" in html, "no imported count in the panel"


def test_a_draft_norm_never_published_is_not_judged_on_the_measurements_page(harlingen):
    """'Drafts never count' (README). The editor prepares a new promise in Wagtail, TEL-SNEL ('90% of calls answered
    within 10 seconds'), and saves it as a draft for the council to decide on. Until it is published it is no promise
    of the municipality: /beheer/metingen/ (and the officer's dashboard, both ``latest_attainment``) must not list
    it and judge November's calls against it, as the charter report (``live=True``) already does not."""
    from cms.models import Charter

    draft = ServiceNorm(
        charter=Charter.objects.get(),
        code="TEL-SNEL",
        channel="telefoon",
        promise="Wij nemen 90% van de telefoontjes binnen 10 seconden op.",
        target_kind="share_within",
        target_percentage=90,
        target_amount=10,
        target_unit="seconds",
        live=False,
    )
    draft.save()
    draft.save_revision()
    run(b"norm,observed_at,value\nTEL-25SEC,2026-11-02T09:00:00,12\n")
    codes = [row.code for row in latest_attainment(as_of=D(2026, 11, 20))]
    assert "TEL-25SEC" in codes
    assert "TEL-SNEL" not in codes


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("TEL-25SEC,2026-03-02T09:15:00,1_8", "‘1_8’ is geen getal"),  # Python's Decimal would read 18
        ("TEL-25SEC,2026-03-02T09:15:00,1e3", "‘1e3’ is geen getal"),
        ("TEL-25SEC,2026-03-02,18", "‘2026-03-02’ is geen datum en tijd"),  # a date alone: which call?
        ("TEL-25SEC,0001-01-01T00:00:00+05:00,18", "ligt vóór 2000"),  # an empty spreadsheet cell; stored BC, unreadable
    ],
)
def test_a_value_or_moment_python_would_read_but_nobody_meant_is_refused(norms, line, reason):
    """Bad input gets a clear Dutch reason and nothing is stored: a number with an underscore or an exponent, a date
    without a time, a moment from before 2000."""
    with pytest.raises(MeasurementFileRefused) as refused:
        run(f"norm,observed_at,value\n{line}\n".encode())
    assert reason in " ".join(refused.value.messages), refused.value.messages
    assert not Measurement.objects.exists()


def test_a_total_from_before_2000_is_refused(norms):
    with pytest.raises(MeasurementFileRefused) as refused:
        run((TOTALS_HEADER + "TEL-25SEC,0001-01-01,0001-01-31,100,80\n").encode())
    assert "ligt vóór 2000" in " ".join(refused.value.messages)
