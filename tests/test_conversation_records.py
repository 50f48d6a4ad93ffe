"""The conversation is personal data of the case too: a citizen's access export lists it, and
destroying or erasing the case's personal data blanks its words while the rows (and the figures
that count them) stay."""

import datetime

import pytest
from django.db import transaction

from cases.conversation.questions import question_answer, question_ask
from cases.conversation.satisfaction import survey_answer
from cases.models import CitizenQuestion, SatisfactionSurvey
from cases.records.subject_access import PersonQuery, subject_access_export
from cases.records.wiping import case_wipe
from tests.factories import CaseFactory, officer
from tests.test_records_subject_access import unzip

pytestmark = pytest.mark.django_db


@pytest.fixture
def talked(gemeente):
    """A case with a question the citizen answered, and a closed one with a satisfaction score."""
    case = CaseFactory(in_treatment=True, email="sietske@example.nl", name="Sietske Visser")
    question = question_ask(case_id=case.pk, text="Op welke dag stond u aan de Voorstraat?", actor=officer(), expected_state=case.state)
    question_answer(case_id=case.pk, question_id=question.pk, text="Op dinsdag 3 november, bij Voorstraat 12.")
    closed = CaseFactory(closed=True, email="sietske@example.nl", name="Sietske Visser")
    SatisfactionSurvey.objects.create(case=closed, asked_at=closed.closed_at)
    survey_answer(case_id=closed.pk, score=2, reason="Niemand belde mij terug over mijn buurman Jan Bakker.")
    return case, closed


def test_the_access_export_holds_the_questions_answers_and_scores(talked):
    _filename, archive, _match = subject_access_export(query=PersonQuery(email="sietske@example.nl"), actor=officer())
    data, pdf_text, _names = unzip(archive)
    sections = [section for row in data["registrations"] for section in row["case"]["more"]]
    titles = {section["title"] for section in sections}
    assert {"Vragen aan u en uw antwoorden", "Uw oordeel over de afhandeling", "Verzoeken om heropening"} <= titles
    items = " ".join(item for section in sections for item in section["items"])
    assert "Op welke dag stond u aan de Voorstraat?" in items and "Op dinsdag 3 november, bij Voorstraat 12." in items
    assert "2 van 5" in items and "buurman Jan Bakker" in items
    assert "Voorstraat 12" in pdf_text


def test_destroying_a_case_blanks_its_conversation_and_keeps_the_rows(talked):
    case, closed = talked
    with transaction.atomic():
        case_wipe(case)
        case_wipe(closed)
    question = CitizenQuestion.objects.get(case=case)
    assert (question.text, question.answer_text) == ("", "")
    assert question.answered_at is not None  # the waiting time still counts
    survey = SatisfactionSurvey.objects.get(case=closed)
    assert (survey.score, survey.reason) == (2, "")  # the score still counts, the words are gone
    assert not closed.reopen_requests.exclude(explanation="").exists()
    assert survey.answered_at.date() <= datetime.date.today()
