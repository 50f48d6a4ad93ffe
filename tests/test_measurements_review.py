"""Norms measured: overlapping totals, a quarter of late acknowledgements, a yearly norm in the editors' panel, a
revised share in the summary, a file that starts with an empty line, the repeated hour of the autumn night. Found by
the measurements review of stop 31; each test failed before its fix."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from wagtail.models import ModelLogEntry

from cases.measurements.attainment import norm_attainment
from cases.measurements.charter_report import charter_report_build, charter_report_to_data
from cases.measurements.importing import MeasurementFileRefused, measurements_import
from cases.models import Measurement
from cases.reporting.rollup import rollup_refresh
from cms.models import ServiceNorm
from tests.test_aggregates_data import D, at, build_case, norms_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")


def run(content: bytes, source: str = "telephony", name: str = "export.csv"):
    return measurements_import(stream=io.BytesIO(content), file_name=name, source=source)


def periods_of(code, start, end, as_of):
    (item,) = norm_attainment(start=start, end=end, norms=ServiceNorm.objects.filter(code=code), as_of=as_of)
    return item


def calls(month: str, within: int, late: int) -> list[str]:
    values = ["25"] * within + ["26"] * late
    return [f"TEL-25SEC,{month}-{1 + i % 27:02d}T{8 + i % 9:02d}:{i % 60:02d}:00,{v}" for i, v in enumerate(values)]


# --- findings ---------------------------------------------------------------------------------------


def test_overlapping_totals_for_the_same_calls_are_not_counted_twice(norms):
    """A supplier first exports March up to the 30th, then a corrected export of the whole month: the later
    total, which covers the earlier one wholly, replaces it (900 + 1000 observations of March is impossible).
    A total that overlaps another only in part, in the file or stored, is refused in Dutch."""
    header = b"norm,period_start,period_end,observations,within_target\n"
    run(header + b"TEL-25SEC,2026-03-01,2026-03-30,900,700\n")
    assert run(header + b"TEL-25SEC,2026-03-01,2026-03-31,1000,780\n").replaced == 1  # the stored total it covers is replaced, not a line of the file
    (march,) = periods_of("TEL-25SEC", D(2026, 3, 1), D(2026, 4, 1), D(2026, 5, 1)).periods
    assert (march.observations, march.within) == (1000, 780)
    with pytest.raises(MeasurementFileRefused) as partly:
        run(header + b"TEL-25SEC,2026-03-15,2026-04-15,500,400\n")
    assert "overlapt met het eerder ingelezen totaal" in str(partly.value)
    with pytest.raises(MeasurementFileRefused) as in_file:
        run(header + b"TEL-25SEC,2026-05-01,2026-05-31,100,80\nTEL-25SEC,2026-05-15,2026-06-15,100,80\n")
    assert "overlapt met die van regel 2" in str(in_file.value)
    (march,) = periods_of("TEL-25SEC", D(2026, 3, 1), D(2026, 4, 1), D(2026, 5, 1)).periods
    assert march.observations == 1000  # the refused files changed nothing


def test_a_file_starting_with_an_empty_line_is_read_not_refused_as_empty(norms):
    content = b"\r\nnorm,observed_at,value\r\nTEL-25SEC,2026-03-02T09:15:00,18\r\n"
    try:
        result = run(content)
    except MeasurementFileRefused as exc:
        pytest.fail(f"refused: {exc.messages}")
    assert result.added == 1


def test_the_report_does_not_say_no_measurements_for_a_quarter_of_late_acknowledgements(norms):
    # Received Thursday 2 April 2026: due Friday 10 April. Ten acknowledgements late, one in time.
    build_case(received_on=D(2026, 4, 2), acknowledged=at(D(2026, 4, 7)))
    for _ in range(10):
        build_case(received_on=D(2026, 4, 2), acknowledged=at(D(2026, 4, 20)))
    rollup_refresh()
    report = charter_report_build(year=2026, as_of=D(2026, 12, 5), charts=False)
    (item,) = [norm for norm in report.norms if norm.code == "POST-ONTVANGSTBEVESTIGING"]
    q2 = next(p for p in item.attainment.periods if p.period == "2026-Q2")
    assert q2.observations == 11
    assert q2.met is False
    assert "Nog geen metingen" not in item.summary


def test_a_yearly_norm_is_judged_per_year_in_the_editors_panel_as_in_the_report(norms):
    from cases.workspace.revision import _attainment_context

    norm = ServiceNorm.objects.get(code="TEL-25SEC")
    norm.measurement_period = "year"
    norm.save()
    run(("norm,observed_at,value\n" + "\n".join(calls("2025-11", within=85, late=15) + calls("2025-03", within=10, late=90))).encode())
    report = charter_report_to_data(charter_report_build(year=2025, as_of=D(2026, 12, 5), charts=False))
    (in_report,) = [n for n in report["norms"] if n["code"] == "TEL-25SEC"]
    assert [p["period"] for p in in_report["periods"]] == ["2025"]
    assert in_report["periods"][0]["met"] is False  # 95 of 200 within
    panel = _attainment_context(norm, D(2026, 12, 5), D(2027, 1, 1))["attainment"]
    # The panel must not judge November 2025 on its own ("gehaald") when the norm is judged per year.
    assert [p.period for p in panel.periods] in (["2025", "2026"], ["2026"]), [p.period for p in panel.periods]


def _published_long_ago(norm):
    ModelLogEntry.objects.filter(object_id=str(norm.pk), action="wagtail.publish").update(timestamp=datetime.datetime(2025, 1, 1, tzinfo=AMS))


def test_the_text_alternative_does_not_claim_the_new_share_for_periods_judged_by_the_old_one(harlingen):
    run(("norm,observed_at,value\n" + "\n".join(calls("2026-01", 85, 15) + calls("2026-02", 85, 15) + calls("2026-03", 85, 15))).encode())
    norm = ServiceNorm.objects.get(code="TEL-25SEC")
    _published_long_ago(norm)
    norm.target_percentage = 90
    revision = norm.save_revision()
    revision.publish()
    ModelLogEntry.objects.filter(revision=revision, action="wagtail.publish").update(timestamp=datetime.datetime(2026, 2, 15, 12, tzinfo=AMS))
    report = charter_report_build(year=2026, as_of=D(2026, 4, 1))
    (item,) = [n for n in report.norms if n.code == "TEL-25SEC"]
    assert [(p.attained, p.met) for p in item.attainment.periods] == [(0.85, True), (0.85, True), (0.85, False), (None, None)]
    # "Gehaald in 2 van de 3 perioden met metingen (nodig: 90% binnen de norm)": yet the two
    # periods counted as met reached only 85%. The 80% that judged them must be named.
    assert "80" in item.summary, item.summary


def test_an_overlapping_export_with_offsets_on_the_autumn_dst_night_adds_no_calls(norms):
    """Sunday 25 October 2026, 02:30 happens twice in Amsterdam: a local time of that hour without an offset is
    refused, asking for one, so an export of the same two calls with offsets counts each once."""
    with pytest.raises(MeasurementFileRefused) as ambiguous:
        run(b"norm,observed_at,value\nTEL-25SEC,2026-10-25T02:30:00,10\nTEL-25SEC,2026-10-25T02:30:00,10\n")
    assert "bestaat twee keer" in str(ambiguous.value)
    run(b"norm,observed_at,value\nTEL-25SEC,2026-10-25T02:30:00+02:00,10\nTEL-25SEC,2026-10-25T02:30:00+01:00,10\n")
    moments = sorted(Measurement.objects.values_list("observed_at", flat=True))
    assert len(moments) == 2, moments
