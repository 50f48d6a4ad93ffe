"""The charter report "Hoe hielden wij ons aan onze beloften?": the JSON contract, CSV, PDF and the command."""

import csv
import io
import json

import pypdf
import pytest
from django.core.management import CommandError, call_command

from cases.measurements.charter_report import CSV_HEADER, charter_report_build, charter_report_to_csv, charter_report_to_data, charter_report_to_pdf
from cases.measurements.importing import measurements_import
from cases.reporting.rollup import rollup_refresh
from tests.test_aggregates_data import D, at, build_case, norms_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

AS_OF = D(2026, 1, 15)
PERIOD_KEYS = {"period", "observations", "within_target", "attained", "met"}


@pytest.fixture
def year_2025(norms):
    lines = ["norm,period_start,period_end,observations,within_target", "TEL-25SEC,2025-03-01,2025-03-31,1000,783", "TEL-25SEC,2025-04-01,2025-04-30,1000,812"]
    measurements_import(stream=io.BytesIO("\n".join(lines).encode()), file_name="telefonie-2025.csv", source="telephony")
    for day in (3, 4, 5, 6):
        build_case(received_on=D(2025, 3, day), acknowledged=at(D(2025, 3, day + 1)), tags={"TEL-25SEC": "confirmed"})
    rollup_refresh()


def norm_of(data: dict, code: str) -> dict:
    return next(norm for norm in data["norms"] if norm["code"] == code)


def test_the_json_has_the_shape_of_the_contract(year_2025):
    out = io.StringIO()
    call_command("charter_report", "--year", "2025", "--format", "json", "--as-of", "2026-01-15", stdout=out)
    data = json.loads(out.getvalue())
    assert data["year"] == 2025
    assert isinstance(data["norms"], list) and len(data["norms"]) == 29
    for norm in data["norms"]:
        assert {"code", "target", "periods", "complaints"} <= set(norm)
        for period in norm["periods"]:
            assert set(period) == PERIOD_KEYS
    phone = norm_of(data, "TEL-25SEC")
    assert phone["target"] == "80% binnen 25 seconden (per maand)"
    assert [period["period"] for period in phone["periods"]] == [f"2025-{month:02d}" for month in range(1, 13)]
    assert phone["periods"][2] == {"period": "2025-03", "observations": 1000, "within_target": 783, "attained": 0.783, "met": False}
    assert phone["periods"][3]["met"] is True
    assert phone["periods"][0] == {"period": "2025-01", "observations": 0, "within_target": 0, "attained": None, "met": None}
    assert (phone["complaints"], phone["suggestions"], phone["satisfaction"]) == (4, 0, None)


def test_qualitative_norms_are_never_met_or_not(year_2025):
    data = charter_report_to_data(charter_report_build(year=2025, as_of=AS_OF, charts=False))
    greeting = norm_of(data, "TEL-GROET")
    assert greeting["target"] == "kwalitatief"
    assert greeting["periods"] and all(period["met"] is None for period in greeting["periods"])


def test_the_norms_measured_from_the_cases_are_in_the_report_per_quarter(year_2025):
    data = charter_report_to_data(charter_report_build(year=2025, as_of=AS_OF, charts=False))
    acknowledgement = norm_of(data, "POST-ONTVANGSTBEVESTIGING")
    assert acknowledgement["measured_from"] == "acknowledgements"
    assert acknowledgement["periods"][0] == {"period": "2025-Q1", "observations": 4, "within_target": 4, "attained": 1.0, "met": True}


def test_the_csv_has_a_line_per_norm_and_period(year_2025):
    rows = list(csv.reader(io.StringIO(charter_report_to_csv(charter_report_build(year=2025, as_of=AS_OF, charts=False)))))
    assert tuple(rows[0]) == CSV_HEADER
    march = next(row for row in rows if row[0] == "TEL-25SEC" and row[2] == "2025-03")
    assert march == ["TEL-25SEC", "80% binnen 25 seconden (per maand)", "2025-03", "1000", "783", "0.783", "false", "4", "0"]


def test_the_pdf_is_in_dutch_with_a_chart_per_measured_norm(year_2025):
    report = charter_report_build(year=2025, as_of=AS_OF)
    assert report.norms[0].chart is None or "<svg" in report.norms[0].chart
    phone = next(item for item in report.norms if item.code == "TEL-25SEC")
    assert "<desc" in phone.chart and "Gehaald in 1 van de 2 perioden" in phone.chart
    assert "TEL-25SEC" not in phone.chart  # the public reads the promise in the heading, not our code
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(charter_report_to_pdf(report))).pages)
    assert "Hoe hielden wij ons aan onze beloften?" in text
    assert "TEL-25SEC" in text and "niet gehaald" in text


def test_the_command_writes_the_pdf_to_a_file(year_2025, tmp_path):
    target = tmp_path / "rapport.pdf"
    call_command("charter_report", "--year", "2025", "--format", "pdf", "--output", str(target), "--as-of", "2026-01-15", stderr=io.StringIO())
    assert target.read_bytes().startswith(b"%PDF")


def test_a_year_not_yet_begun_is_refused(norms):
    with pytest.raises(CommandError, match="nog niet begonnen"):
        call_command("charter_report", "--year", "2999", stdout=io.StringIO())
