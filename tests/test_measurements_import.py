"""Importing measurements of the norms: observations and totals, idempotent, and all or nothing."""

import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from cases.measurements.importing import (
    BAD_MOMENT,
    BAD_NUMBER,
    BROKEN_CSV,
    EMPTY_FILE,
    NEGATIVE,
    NORM_FROM_CASES,
    NOT_UTF8,
    UNKNOWN_NORM,
    WITHIN_EXCEEDS,
    MeasurementFileRefused,
    measurements_import,
)
from cases.models import Measurement, MeasurementImport, MeasurementTotal
from cms.models import ServiceNorm
from tests.test_aggregates_data import norms_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
RAW = b"norm,observed_at,value\nTEL-25SEC,2026-03-02T09:15:00,18\nTEL-25SEC,2026-03-02T09:16:10+00:00,31.5\nBALIE-WACHTTIJD,2026-03-03T10:00:00,12\n"
TOTALS = b"norm,period_start,period_end,observations,within_target\nTEL-25SEC,2026-04-01,2026-04-30,1000,783\nBALIE-AFSPRAAK,2026-04-01,2026-04-30,120,118\n"


def run(content: bytes, source: str = "telephony", name: str = "export.csv"):
    return measurements_import(stream=io.BytesIO(content), file_name=name, source=source)


def refused(content: bytes) -> list[str]:
    with pytest.raises(MeasurementFileRefused) as caught:
        run(content)
    return caught.value.messages


def test_observations_are_imported_with_their_norm_moment_value_and_source(norms):
    result = run(RAW)
    assert (result.kind, result.rows, result.added, result.unchanged) == ("raw", 3, 3, 0)
    first = Measurement.objects.get(norm__code="TEL-25SEC", value=Decimal("18"))
    assert first.source == "telephony"
    # Without an offset a moment is local (Amsterdam) time; with one it is taken as given.
    assert first.observed_at == datetime.datetime(2026, 3, 2, 9, 15, tzinfo=AMS)
    assert Measurement.objects.get(value=Decimal("31.5")).observed_at == datetime.datetime(2026, 3, 2, 9, 16, 10, tzinfo=datetime.UTC)
    assert MeasurementImport.objects.get().added == 3


def test_totals_per_period_are_imported(norms):
    result = run(TOTALS, source="counter_queue")
    assert (result.kind, result.rows, result.added) == ("totals", 2, 2)
    total = MeasurementTotal.objects.get(norm__code="TEL-25SEC")
    assert (total.period_start, total.period_end, total.observations, total.within_target) == (datetime.date(2026, 4, 1), datetime.date(2026, 4, 30), 1000, 783)


def test_importing_the_same_observations_again_changes_nothing(norms):
    run(RAW)
    again = run(RAW)
    assert (again.added, again.unchanged) == (0, 3)
    assert Measurement.objects.count() == 3
    assert MeasurementImport.objects.count() == 1


def test_importing_the_same_totals_again_changes_nothing(norms):
    run(TOTALS)
    again = run(TOTALS)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    assert MeasurementTotal.objects.count() == 2
    assert MeasurementImport.objects.count() == 1


def test_an_overlapping_export_adds_only_its_new_rows(norms):
    run(RAW)
    result = run(RAW + b"TEL-25SEC,2026-03-04T11:00:00,40\n")
    assert (result.added, result.unchanged) == (1, 3)


def test_identical_rows_in_one_file_are_separate_observations(norms):
    content = b"norm,observed_at,value\n" + b"TEL-25SEC,2026-03-02T09:15:00,18\n" * 3
    assert run(content).added == 3
    assert run(content).added == 0
    assert Measurement.objects.count() == 3


def test_a_corrected_total_replaces_the_earlier_counts(norms):
    run(TOTALS)
    result = run(b"TEL-25SEC,2026-04-01,2026-04-30,1000,790\n")
    assert (result.added, result.updated) == (0, 1)
    assert MeasurementTotal.objects.get(norm__code="TEL-25SEC").within_target == 790


def test_a_file_with_bad_lines_is_refused_whole_with_line_numbers_and_leaves_the_data_as_it_was(norms):
    run(RAW)
    before = list(Measurement.objects.order_by("pk").values_list("pk", "observed_at", "value"))
    bad = (
        b"norm,observed_at,value\n"
        b"TEL-25SEC,2026-03-05T09:00:00,20\n"
        b"TEL-99,2026-03-05T09:00:00,20\n"
        b"TEL-25SEC,5 maart,20\n"
        b"TEL-25SEC,2026-03-05T09:01:00,snel\n"
        b"TEL-25SEC,2026-03-05T09:02:00,-3\n"
    )
    messages = refused(bad)
    assert messages == [
        f"regel 3: {UNKNOWN_NORM % {'code': 'TEL-99'}}",
        f"regel 4: {BAD_MOMENT % {'value': '5 maart'}}",
        f"regel 5: {BAD_NUMBER % {'value': 'snel'}}",
        f"regel 6: {NEGATIVE % {'value': '-3'}}",
    ]
    assert list(Measurement.objects.order_by("pk").values_list("pk", "observed_at", "value")) == before
    assert MeasurementImport.objects.count() == 1


def test_a_bad_total_is_refused_with_its_line(norms):
    messages = refused(TOTALS + b"TEL-25SEC,2026-05-01,2026-05-31,10,11\n")
    assert messages == [f"regel 4: {WITHIN_EXCEEDS % {'within': 11, 'observations': 10}}"]
    assert MeasurementTotal.objects.count() == 0


def test_a_norm_that_handvest_measures_from_the_cases_cannot_be_imported(norms):
    messages = refused(b"POST-ONTVANGSTBEVESTIGING,2026-03-02T09:00:00,3\n")
    assert messages == [f"regel 1: {NORM_FROM_CASES % {'code': 'POST-ONTVANGSTBEVESTIGING'}}"]


def test_a_semicolon_file_may_use_decimal_commas(norms):
    run(b"norm;observed_at;value\nTEL-25SEC;2026-03-02T09:15:00;24,5\n")
    assert Measurement.objects.get().value == Decimal("24.5")


def test_a_file_without_header_is_read_by_its_columns(norms):
    assert run(b"TEL-25SEC,2026-03-02T09:15:00,18\n").added == 1
    assert run(b"TEL-25SEC,2026-04-01,2026-04-30,10,9\n").kind == "totals"


def test_a_file_that_is_not_utf8_is_refused_with_the_line_of_the_bad_byte(norms):
    messages = refused(b"norm,observed_at,value\nTEL-25SEC,2026-03-02T09:15:00,18\nTEL-25SEC,2026-03-02T09:15:00,1\xe9\n")
    assert messages == [f"regel 3: {NOT_UTF8}"]


def test_an_empty_file_is_refused(norms):
    assert refused(b"") == [f"regel 1: {EMPTY_FILE}"]
    assert refused(b"norm,observed_at,value\n") == [f"regel 1: {EMPTY_FILE}"]


def test_a_moment_in_the_future_is_refused(norms):
    (message,) = refused(b"TEL-25SEC,2999-01-01T00:00:00,18\n")
    assert message.startswith("regel 1: ") and "toekomst" in message


def test_a_stray_quote_as_excel_leaves_it_is_refused_from_its_line_in_dutch(norms, tmp_path, caplog):
    """One unclosed quote turns the rest of the file into one field (csv: 'field larger than field limit')."""
    content = TOTALS + b'BALIE-AFSPRAAK,2026-05-01,2026-05-31,"120,118\n' + b"TEL-25SEC,2026-05-01,2026-05-31,1,1\n" * 20_000
    with caplog.at_level("WARNING"):
        assert refused(content) == [f"regel 4: {BROKEN_CSV}"]
    assert "no CSV after line 3" in caplog.text
    path = tmp_path / "excel.csv"
    path.write_bytes(content)
    err = io.StringIO()
    with pytest.raises(CommandError, match="geweigerd"):
        call_command("import_measurements", str(path), "--no-progress", stdout=io.StringIO(), stderr=err)
    assert "aanhalingsteken" in err.getvalue()
    assert MeasurementTotal.objects.count() == 0


@pytest.mark.parametrize(("count", "reason"), [("3000000000", "te groot"), ("1²", "geen geheel getal")])
def test_a_count_beyond_reason_or_a_digit_that_is_no_digit_is_refused(norms, count, reason):
    (message,) = refused(b"TEL-25SEC,2026-04-01,2026-04-30," + count.encode() + b",1\n")
    assert message.startswith("regel 1: ") and reason in message
    assert MeasurementTotal.objects.count() == 0


def test_totals_of_a_period_that_has_not_begun_are_refused(norms):
    (message,) = refused(b"TEL-25SEC,2999-01-01,2999-01-31,10,9\n")
    assert message.startswith("regel 1: ") and "toekomst" in message


def test_an_unknown_source_is_refused(norms):
    with pytest.raises(ValueError, match="Onbekende bron"):
        run(RAW, source="fax")


def test_the_command_imports_and_says_what_it_did(norms, tmp_path):
    path = tmp_path / "telefonie.csv"
    path.write_bytes(RAW)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_measurements", str(path), "--source", "telephony", stdout=out, stderr=err)
    assert "3 regels gelezen: 3 nieuw, 0 bijgewerkt, 0 waren er al." in out.getvalue()
    call_command("import_measurements", str(path), "--no-progress", stdout=out, stderr=err)
    assert "3 regels gelezen: 0 nieuw, 0 bijgewerkt, 3 waren er al." in out.getvalue()
    assert Measurement.objects.filter(source="telephony").count() == 3


def test_the_command_prints_every_bad_line_and_exits_non_zero(norms, tmp_path):
    path = tmp_path / "fout.csv"
    path.write_bytes(b"norm,observed_at,value\nTEL-25SEC,2026-03-02T09:15:00,18\nTEL-99,2026-03-02T09:15:00,18\nTEL-25SEC,gisteren,18\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="geweigerd"):
        call_command("import_measurements", str(path), "--no-progress", stdout=io.StringIO(), stderr=err)
    assert "regel 3: onbekende norm ‘TEL-99’" in err.getvalue()
    assert "regel 4: ‘gisteren’ is geen datum en tijd" in err.getvalue()
    assert Measurement.objects.count() == 0


def test_many_bad_lines_are_listed_up_to_a_limit_and_counted_beyond(norms):
    with pytest.raises(MeasurementFileRefused) as caught:
        run(b"TEL-99,2026-03-02T09:15:00,18\n" * 250)
    assert len(caught.value.problems) == 200
    assert caught.value.messages[-1] == "en nog 50 regels met fouten"


def test_norms_in_the_file_need_not_be_active_but_must_exist(norms):
    ServiceNorm.objects.filter(code="BALIE-WACHTTIJD").update(active=False)
    assert run(RAW).added == 3


def test_the_same_moment_written_with_an_offset_is_the_same_observation(norms):
    run(b"TEL-25SEC,2026-03-02T09:15:00,18\n")  # local time: 08:15 UTC in winter
    assert run(b"TEL-25SEC,2026-03-02T08:15:00+00:00,18.000\n").added == 0
    assert Measurement.objects.count() == 1
