"""Letters, the annual report and the charter report are accessible PDFs: tagged (PDF/UA-1, a structure tree a screen
reader follows), in Dutch, with a title shown instead of the file name."""

import io

import pytest
from pypdf import PdfReader

from cases.correspondence.pdf import letter_render_pdf
from cases.measurements.charter_report import charter_report_build, charter_report_render
from cases.reporting.report import report_build, report_render
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def accessibility(pdf: bytes) -> tuple:
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    return (
        str(root.get("/Lang")),
        "/StructTreeRoot" in root,
        bool(root.get("/MarkInfo", {}).get("/Marked")),
        bool(root.get("/ViewerPreferences", {}).get("/DisplayDocTitle")),
        reader.metadata.title,
    )


def test_a_letter_is_a_tagged_dutch_pdf_with_its_subject_as_title(gemeente):
    case = CaseFactory(email="")
    pdf = letter_render_pdf(case=case, subject="Antwoord op uw klacht", body_text="Beste inwoner,\n\nWij hebben uw klacht onderzocht.", kind="answer")
    assert accessibility(pdf) == ("nl", True, True, True, "Antwoord op uw klacht")


def test_the_annual_report_is_a_tagged_dutch_pdf_with_a_title(gemeente):
    pdf = report_render(report=report_build(year=2025), fmt="pdf")
    lang, tagged, marked, shows_title, title = accessibility(pdf)
    assert (lang, tagged, marked, shows_title) == ("nl", True, True, True)
    assert title.startswith("Klachtenrapportage 2025")


def test_the_charter_report_is_a_tagged_dutch_pdf_with_a_title(harlingen):
    pdf = charter_report_render(report=charter_report_build(year=2025), fmt="pdf")
    lang, tagged, marked, shows_title, title = accessibility(pdf)
    assert (lang, tagged, marked, shows_title) == ("nl", True, True, True)
    assert "2025" in title
