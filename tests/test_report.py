"""The annual complaints report: the same numbers in PDF, CSV and JSON; known answers; no personal data."""

import csv
import datetime
import html
import io
import json
import re

import pypdf
import pytest
from django.core.management import CommandError, call_command

from cases.models import CaseFact
from cases.reporting.report import (
    CSV_HEADER,
    REPORT_YEAR_IN_FUTURE,
    REPORT_YEAR_TOO_EARLY,
    STEPS,
    ReportError,
    report_build,
    report_to_csv,
    report_to_data,
    report_to_html,
    report_to_json,
    report_to_pdf,
)
from tests.test_aggregates_data import AS_OF, D, build_case, build_compliance_cases, norms_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

SECRET_TEXT = "Mevrouw Pietersen uit de Zuiderhaven klaagt over haar aanslag"
SECRET_EMAIL = "pietersen.zuiderhaven@voorbeeld.invalid"
CELL_RE = re.compile(r'<td data-section="([^"]+)" data-row="([^"]*)" data-column="([^"]+)">(.*?)</td>')


@pytest.fixture
def cases(norms):
    cases = build_compliance_cases()
    cases["personal"] = build_case(
        received_on=D(2025, 9, 1), text=SECRET_TEXT, email=SECRET_EMAIL, channel="letter", tags={"POST-REACTIE": "confirmed", "TEL-25SEC": "suggested"}
    )
    for case in list(cases.values())[:4]:
        build_case(received_on=case.registration.received_on, tags={"POST-REACTIE": "confirmed"})
    from cases.reporting.rollup import rollup_refresh

    rollup_refresh()
    return cases


@pytest.fixture
def report(cases):
    return report_build(year=2025, as_of=AS_OF)


def personal_data(cases):
    values = [SECRET_TEXT[:25], SECRET_EMAIL, "Pietersen", "Klacht over de wachttijd"]
    for case in cases.values():
        registration = case.registration
        values += [registration.sender_name, registration.sender_email, registration.number]
    return [value for value in values if value]


def flat_json(data):
    return {(section["key"], row["key"], column): value for section in data["sections"] for row in section["rows"] for column, value in row["values"].items()}


def flat_csv(text):
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_HEADER
    return {(section, row, column): value for section, row, _label, column, value in rows[1:]}


def as_text(value) -> str:
    """How the CSV writes a JSON value."""
    return "" if value is None else str(value)


def display_matches(value, display: str) -> bool:
    if value is None:
        return display == "—"
    if isinstance(value, str):
        return display == value
    if isinstance(value, float):
        return display.rstrip("%").replace(",", ".") == f"{value:.1f}"
    return display.lstrip("+") == str(value) or display == f"{value:+d}"


# --- the three formats agree ---------------------------------------------------------------------------------


def test_csv_and_json_carry_the_same_numbers(report):
    from_json = flat_json(json.loads(report_to_json(report)))
    from_csv = flat_csv(report_to_csv(report))
    assert from_json.keys() == from_csv.keys()
    assert {key: as_text(value) for key, value in from_json.items()} == from_csv
    assert len(from_json) > 100


def test_the_pdf_tables_show_the_same_numbers_as_the_json(report):
    from_json = flat_json(report_to_data(report))
    shown = {(section, row, column): html.unescape(text) for section, row, column, text in CELL_RE.findall(report_to_html(report))}
    assert shown.keys() == from_json.keys()
    mismatches = {key: (from_json[key], display) for key, display in shown.items() if not display_matches(from_json[key], display)}
    assert mismatches == {}


def test_the_pdf_is_a_readable_pdf_with_the_totals_and_charts(report):
    content = report_to_pdf(report)
    assert content.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)
    assert "Klachtenrapportage 2025" in text
    assert "In 2025 ontvingen wij 15 klachten en <3 verbetersuggesties." in " ".join(text.split())
    for section, row, column in (("compliance", "acknowledgement", "percent"), ("handling_time", "all", "median"), ("per_norm", "POST-REACTIE", "complaints")):
        assert report.section(section).by_key[row].cells[column].display in text
    # The paragraphs name their rows by key: each sentence quotes the row it speaks of, whatever the rows' order.
    figure = {
        key: report.section(section).by_key[row].cells[column].display
        for key, section, row, column in (
            ("open", "summary", "open", "complaint"),
            ("median", "handling_time", "all", "median"),
            ("acknowledged", "compliance", "acknowledgement", "percent"),
            ("answered", "compliance", "answer_six_weeks", "percent"),
        )
    }
    flowing = " ".join(text.split())
    assert f"Op de peildatum waren nog {figure['open']} klachten" in flowing
    assert f"was binnen {figure['median']} dagen klaar" in flowing
    assert f"ging {figure['acknowledged']} van de ontvangstbevestigingen op tijd de deur uit en kwam {figure['answered']} van de antwoorden" in flowing
    assert "Ontvangen per kanaal" in text and "Binnen de termijn (%)" in text  # chart titles


# --- known answers --------------------------------------------------------------------------------------------


def test_the_report_numbers_are_the_known_answers(report):
    values = flat_json(report_to_data(report))
    assert values[("summary", "received", "complaint")] == 15  # 10 + the personal one + 4 tagged
    assert values[("summary", "received", "suggestion")] == "<3"
    assert values[("per_channel", "letter", "complaint")] == "<3"
    assert values[("per_channel", "email", "suggestion")] == "<3"
    assert values[("per_norm", "POST-REACTIE", "complaints")] == 5
    assert values[("per_norm", "TEL-25SEC", "unconfirmed")] == "<3"
    assert values[("per_norm", "TEL-25SEC", "trend")] == 0
    assert values[("outcomes_complaints", "gegrond", "count")] == "<3"
    assert values[("outcomes_suggestions", "adopted", "count")] == "<3"
    assert values[("handling_histogram", "71+", "complaint")] == "<3"


def test_the_compliance_section_matches_the_compliance_figures(cases):
    # Only the eleven hand-built cases: leave out the ones this module adds.
    extra = [case.pk for key, case in cases.items() if key == "personal"] + list(
        CaseFact.objects.exclude(case__in=[case.pk for case in cases.values()]).values_list("case_id", flat=True)
    )
    CaseFact.objects.filter(case_id__in=extra).delete()
    values = flat_json(report_to_data(report_build(year=2025, as_of=AS_OF)))
    assert [values[("compliance", "acknowledgement", column)] for column in ("on_time", "total", "percent")] == [6, 9, 66.6]  # rounded down
    assert [values[("compliance", "answer_six_weeks", column)] for column in ("on_time", "total", "percent")] == [5, 8, 62.5]
    assert [values[("compliance", "answer_term", column)] for column in ("on_time", "total", "percent")] == [6, 8, 75.0]
    # interim notices: the part is hidden as <3, so no percentage (33.3 % would give the hidden 1 away)
    assert [values[("compliance", "interim_notice", column)] for column in ("on_time", "total", "percent")] == ["<3", 3, None]
    assert [values[("handling_time", "all", column)] for column in ("handled", "median", "p90")] == [7, 42.0, 66.4]
    assert [values[("handling_time", "suggestion", column)] for column in ("handled", "median", "p90")] == ["<3", None, None]


def compliance_labels(report):
    return {row.key: row.label for row in report.section("compliance").rows}


def test_the_compliance_rows_name_the_terms_the_years_cases_were_held_to(cases):
    # Every case of 2025 was registered under the charter's 4 working days and 6 weeks: the report says so.
    report = report_build(year=2025, as_of=AS_OF)
    labels = compliance_labels(report)
    assert labels["acknowledgement"] == "ontvangstbevestiging binnen 4 werkdagen"
    assert labels["answer_six_weeks"] == "antwoord binnen 6 weken"
    assert "Wij beloven binnen 4 werkdagen een ontvangstbevestiging" in report_to_html(report)


def test_a_term_changed_since_the_year_is_not_put_on_that_years_figures(cases):
    # The charter now promises an acknowledgement within 2 working days. The 2025 figures measure each case
    # against the 4 working days it was registered under, so the 2025 report must not say "2 werkdagen";
    # the answer term did not change and is still named.
    from cases.workflow.deadlines import forget_charter_terms
    from cms.models import ServiceNorm

    before = report_to_data(report_build(year=2025, as_of=AS_OF))
    ServiceNorm.objects.filter(code="POST-ONTVANGSTBEVESTIGING").update(target_amount=2)
    forget_charter_terms()
    report = report_build(year=2025, as_of=AS_OF)
    labels = compliance_labels(report)
    assert labels["acknowledgement"] == "ontvangstbevestiging binnen de termijn die gold bij ontvangst"
    assert labels["answer_six_weeks"] == "antwoord binnen 6 weken"
    page = report_to_html(report)
    assert "ontvangstbevestiging binnen 2 werkdagen" not in page and "binnen 2 werkdagen een ontvangstbevestiging" not in page  # the call-back's 2 may stand
    assert "Wij beloven binnen 4 werkdagen" not in page
    assert "elke zaak is gemeten aan de termijn die gold toen zij binnenkwam" in page
    # The figures themselves do not move: they were measured against each case's stored due date.
    after = report_to_data(report)
    assert flat_json(after)[("compliance", "acknowledgement", "percent")] == flat_json(before)[("compliance", "acknowledgement", "percent")]
    # A case registered under the new term, in a year of its own, gets the new term named.
    build_case(received_on=D(2026, 1, 5))
    from cases.reporting.rollup import rollup_refresh

    rollup_refresh()
    assert compliance_labels(report_build(year=2026, as_of=D(2026, 3, 1)))["acknowledgement"] == "ontvangstbevestiging binnen 2 werkdagen"


# --- privacy ---------------------------------------------------------------------------------------------------


def test_no_personal_data_in_any_format(report, cases):
    outputs = [report_to_csv(report), report_to_json(report), report_to_html(report)]
    pdf = report_to_pdf(report)
    outputs.append("\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages))
    for output in outputs:
        for value in personal_data(cases):
            assert value not in output, f"personal data in the report: {value!r}"


# --- the command ----------------------------------------------------------------------------------------------


def test_the_command_writes_json_to_stdout(cases):
    out, err = io.StringIO(), io.StringIO()
    call_command("complaints_report", "--year", "2025", "--format", "json", "--as-of", "2025-12-31", stdout=out, stderr=err)
    data = json.loads(out.getvalue())
    assert data["year"] == 2025 and data["as_of"] == "2025-12-31"
    assert flat_json(data) == flat_json(report_to_data(report_build(year=2025, as_of=AS_OF)))


def test_the_command_writes_csv_to_a_file_and_shows_progress(cases, tmp_path):
    target = tmp_path / "rapport.csv"
    err = io.StringIO()
    call_command("complaints_report", "--year", "2025", "--format", "csv", "--output", str(target), "--as-of", "2025-12-31", stderr=err)
    assert flat_csv(target.read_text()) == flat_csv(report_to_csv(report_build(year=2025, as_of=AS_OF)))
    assert "rapportage 2025" in err.getvalue() and str(target) in err.getvalue()


def test_the_progress_bar_counts_every_step_the_report_takes(cases):
    taken = []
    report_build(year=2025, as_of=AS_OF, progress=taken.append)
    assert taken == list(STEPS)  # the command sizes its progress bar by STEPS


def test_the_command_writes_the_pdf_to_its_default_name(cases, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    call_command("complaints_report", "--year", "2025", "--format", "pdf", "--refresh", "-v", "0")
    assert (tmp_path / "klachtenrapportage-2025.pdf").read_bytes().startswith(b"%PDF")


def test_the_command_refuses_a_year_that_has_not_begun(norms, tmp_path):
    target = tmp_path / "r.json"
    with pytest.raises(CommandError) as error:
        call_command("complaints_report", "--year", "2999", "--format", "json", "--output", str(target))
    assert "Het jaar 2999 is nog niet begonnen" in str(error.value)
    assert not target.exists()


def test_the_command_refuses_a_folder_that_does_not_exist(norms, tmp_path):
    with pytest.raises(CommandError, match="bestaat niet"):
        call_command("complaints_report", "--year", "2025", "--format", "csv", "--output", str(tmp_path / "nope" / "r.csv"))


def test_the_command_refuses_an_unknown_format(norms):
    with pytest.raises(CommandError):
        call_command("complaints_report", "--year", "2025", "--format", "xlsx")


def test_years_before_2000_are_refused(norms):
    with pytest.raises(ReportError) as error:
        report_build(year=1999)
    assert str(error.value) == REPORT_YEAR_TOO_EARLY % {"first": 2000}
    assert "%(year)s" in str(REPORT_YEAR_IN_FUTURE)


def test_an_empty_year_gives_a_report_of_zeros(norms):
    values = flat_json(report_to_data(report_build(year=2020, as_of=D(2021, 1, 1))))
    assert values[("summary", "received", "complaint")] == 0
    assert values[("compliance", "acknowledgement", "percent")] is None


def test_the_time_waited_for_the_citizen_is_shown_apart_from_the_handling_time(cases):
    from cases.models import CitizenQuestion, QuestionStatus

    case = cases["personal"]
    asked = datetime.datetime(2025, 10, 6, 9, 0, tzinfo=datetime.UTC)
    for days in (2, 4, 10):
        CitizenQuestion.objects.create(
            case=case, text="Wanneer belde u?", status=QuestionStatus.ANSWERED, asked_at=asked, answered_at=asked + datetime.timedelta(days=days)
        )
    CitizenQuestion.objects.create(case=case, text="Nog open", asked_at=asked)  # not answered: not counted
    before = flat_json(report_to_data(report_build(year=2025, as_of=AS_OF)))
    assert [before[("handling_time", "waiting", column)] for column in ("handled", "median", "p90")] == [3, 4.0, 8.8]
    assert before[("handling_time", "all", "median")] == 42.0  # the handling time is not changed by the waiting
    assert "Wanneer belde u?" not in json.dumps(report_to_data(report_build(year=2025, as_of=AS_OF)))
