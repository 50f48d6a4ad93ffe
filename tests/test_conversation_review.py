"""The conversation with the citizen as it happens: a double click with a photo, a question left open when its
case ends or is merged, a withdrawn suggestion, a reopened case's terms and letters, a date already past, an
e-mail reply to another letter, a reply to a withdrawn question, chosen files after an error, and a letter in
the print queue when the private link is renewed.

Each test states the rule the citizen (or the officer who reads the reply) expects; the docstrings also say
what went wrong before the fix (a review of December 6).
"""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

from cases.conversation.questions import question_ask, question_withdraw
from cases.models import Case, CitizenQuestion, QuestionStatus, ReopenRequest
from tests.factories import CaseFactory, officer

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def page(client, case) -> str:
    return client.get(reverse("cases:case_status", kwargs={"token": case.public_token})).content.decode()


def reply_url(case, question) -> str:
    return reverse("cases:question_reply", kwargs={"token": case.public_token, "pk": question.pk})


def photo(name="stoep.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def reopened(case, actor):
    """The citizen gave a 1 after closure and the officer reopened the case."""
    from cases.conversation.reopening import reopen_decide
    from cases.conversation.satisfaction import survey_answer, survey_ask

    survey_ask(case_id=case.pk)
    survey_answer(case_id=case.pk, score=1, reason="Er is niets veranderd aan de stoep.")
    request = ReopenRequest.objects.get(case=case)
    reopen_decide(case_id=case.pk, request_id=request.pk, reopen=True, explanation="Wij kijken er opnieuw naar.", actor=actor)
    case.refresh_from_db()
    return case


# --- double submits -------------------------------------------------------------------------------------


def test_a_double_click_on_a_reply_with_a_photo_keeps_the_reply_and_the_photo_once(client, gemeente):
    """README: "every answer is stored once"; a double click on *Antwoord versturen* is kept once. That must
    also hold when the citizen attached a file: Sietske answers "Ja, hierbij de foto" with one PDF and her
    browser sends the form twice. Today the second post becomes an 'Aanvulling' with the same text and a
    second copy of the file, the officer's queue shows it again, and Sietske is told her question "was al
    beantwoord of niet meer nodig"."""
    case = CaseFactory(in_treatment=True, name="Sietske de Vries", email="sietske@example.nl")
    question = question_ask(case_id=case.pk, text="Heeft u een foto van de kapotte stoep?", actor=officer())
    first = client.post(reply_url(case, question), {"text": "Ja, hierbij de foto.", "attachments": [photo()]})
    second = client.post(reply_url(case, question), {"text": "Ja, hierbij de foto.", "attachments": [photo()]})
    assert first.status_code == second.status_code == 302
    question.refresh_from_db()
    assert question.answer_text == "Ja, hierbij de foto.", question.answer_text
    assert question.attachments.count() == 1
    assert "verstuurd=aanvulling" not in second["Location"]


# --- a question left open when the case ends --------------------------------------------------------------


def test_a_withdrawn_complaint_no_longer_asks_the_citizen_to_answer(client, gemeente):
    """When the case ends (here: the complainant withdraws the complaint by phone), an open question is no
    longer something we wait for. Today the private page says "U heeft uw klacht ingetrokken. Wij doen er
    daarom niets meer mee." and, above it, "Wij wachten op uw antwoord" with the reply form; the question
    also stays in the officers' *Gesprekken* list of questions waiting for the citizen forever."""
    from cases.conversation.questions import question_ask as ask
    from cases.workflow.transitions import case_transition

    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    ask(case_id=case.pk, text="Op welke dag stond u voor een dichte balie?", actor=officer())
    case_transition(case_id=case.pk, name="withdraw", actor=officer())
    html = page(client, case)
    assert "U heeft uw klacht ingetrokken" in html
    assert "Wij wachten op uw antwoord" not in html
    assert 'name="text"' not in html
    assert not CitizenQuestion.objects.filter(case=case, status=QuestionStatus.OPEN).exists()


def test_a_merged_case_does_not_keep_asking_for_an_answer_on_its_page(client, gemeente):
    """Piet sent the same complaint twice; the officer had asked on the second one "Welke stoep bedoelt u?" and then
    merged it into the first. The merged page says "Op deze pagina verandert daarom niets meer" and, above it,
    still "Wij wachten op uw antwoord" with a reply form; the merged case has left the inbox and the officer's
    case page offers no step on it, so the question hangs there (``case_merge`` leaves it open)."""
    from cases.workflow.handling import case_merge
    from tests.factories import duplicate_of

    actor = officer()
    first = CaseFactory(in_treatment=True, name="Piet Hoekstra", email="piet@example.nl")
    second = duplicate_of(first, in_treatment=True)
    question_ask(case_id=second.pk, text="Welke stoep bedoelt u?", actor=actor)
    case_merge(case_id=second.pk, into_number=first.registration.number, actor=actor)
    html = page(client, second)
    assert "Op deze pagina verandert daarom niets meer" in html
    assert "Wij wachten op uw antwoord" not in html


# --- status texts ---------------------------------------------------------------------------------------


def test_a_withdrawn_suggestion_says_it_was_withdrawn_not_handled(client, gemeente):
    """The private page tells the citizen how the case ended: a withdrawn complaint reads "U heeft uw klacht
    ingetrokken". A withdrawn suggestion gets no outcome (``Case.withdraw`` sets one for complaints only), so
    ``next_step_template`` falls back to closed.html: "Uw verbetersuggestie is afgehandeld" — untrue, nothing
    was done with it."""
    from cases.workflow.transitions import case_transition

    case = CaseFactory(suggestion=True, acknowledged=True, email="piet@example.nl", text="Zet een bankje bij de bushalte op de Zuiderhaven.")
    case_transition(case_id=case.pk, name="withdraw", actor=officer())
    html = page(client, case)
    assert "is afgehandeld" not in html
    assert "ingetrokken" in html


def test_a_reopened_case_does_not_show_an_old_extension_as_its_term(client, gemeente):
    """A reopened case is answered within a new term (README: ``reopened_answer_due``). The facts on the private
    page must not also say "Termijn verlengd tot" an earlier date that lies months in the past: the citizen
    reads two contradicting deadlines ("Antwoord uiterlijk 18 januari 2027" and "Termijn verlengd tot
    12 oktober 2026")."""
    actor = officer()
    case = CaseFactory(closed=True, email="piet@example.nl", received_on=datetime.date.today() - datetime.timedelta(days=120))
    # Back then the answer was postponed once with an interim notice (Awb 9:11 lid 2).
    Case.objects.filter(pk=case.pk).update(extended_answer_due=case.answer_due + datetime.timedelta(days=21), extension_reason="Wij wachten op de aannemer.")
    case = reopened(case, actor)
    assert case.reopened_answer_due > case.extended_answer_due
    html = page(client, case)
    facts = html[html.index('<dl class="facts">') : html.index("</dl>")]
    assert f"{case.reopened_answer_due.day} " in facts  # the new term is shown
    assert "Termijn verlengd" not in facts, facts


def test_a_new_explanation_after_reopening_is_not_called_the_earlier_answer(client, gemeente):
    """After a reopen, the page shows our earlier answer under "Ons eerdere antwoord — U was het niet eens met
    dit antwoord". A new explanation sent *after* the reopening is the latest letter of ``ANSWER_KINDS``, so it
    is shown under that heading too: the citizen reads that they disagreed with a letter they just received."""
    from cases.correspondence.delivery import outgoing_send
    from cases.correspondence.steps import case_step_with_letter

    actor = officer()
    case = reopened(CaseFactory(closed=True, email="piet@example.nl"), actor)
    _case, letter = case_step_with_letter(
        case_id=case.pk, name="explain", kind="explanation", subject="Uitleg over uw klacht",
        body_text="Beste Piet, wij hebben de stoep opnieuw bekeken; de aannemer herstelt hem volgende week.", actor=actor,
    )
    outgoing_send(outgoing_id=letter.pk)
    html = page(client, case)
    section = html[html.index('id="antwoord-kop"') : html.index('id="gesprek"')]
    assert "de aannemer herstelt hem volgende week" in section
    assert "Ons eerdere antwoord" not in section and "U was het niet eens met dit antwoord" not in section


def test_a_question_letter_to_an_overdue_case_does_not_promise_a_date_in_the_past(client, gemeente):
    """The question letter ends "Wij blijven intussen werken aan uw klacht. U krijgt uiterlijk <datum> ons
    antwoord." In a case whose answer term has already passed (received ten weeks ago, not extended), the
    letter written today promises a date weeks ago; the private page's "Wat gebeurt er nu?" says the same.
    A letter must not state an untrue promise."""
    today = datetime.date.today()
    case = CaseFactory(in_treatment=True, email="piet@example.nl", received_on=today - datetime.timedelta(days=70))
    assert case.effective_answer_due < today
    question = question_ask(case_id=case.pk, text="Heeft u een foto van de kapotte stoep?", actor=officer())
    with translation.override("nl"):
        past = date_format(case.effective_answer_due, "j F Y")
    body = question.letter.body_text
    promise = body[body.index("Wij blijven intussen") :].split("\n")[0]
    assert past not in promise, promise
    html = page(client, case)
    next_step = html[html.index('id="wat-nu-kop"') : html.index('<dl class="facts">')]
    assert f"uiterlijk op {past}" not in next_step, next_step


# --- e-mail replies -------------------------------------------------------------------------------------


def test_an_email_reply_to_the_consent_request_does_not_answer_an_unrelated_question(gemeente):
    """A threaded e-mail reply answers the open question (README). But a reply whose In-Reply-To names *another*
    letter of ours — here the request to wait longer (Awb 9:11 lid 3), "Ja, ik ga akkoord" — is not the answer
    to the question about a photo. Today ``question_for_inbound`` falls back to the first open question, so the
    photo question is closed with "Ja, ik ga akkoord met de nieuwe datum", it disappears from Piet's page, and
    the consent itself stays unanswered."""
    from cases.conversation.consent import consent_request
    from cases.intake.email import email_intake
    from cases.models import ConsentRequest, ConsentStatus
    from cases.workflow.transitions import case_extend

    actor = officer()
    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    case_extend(case_id=case.pk, new_due=case.answer_due + datetime.timedelta(days=21), reason="Wij wachten op de aannemer.", actor=actor)
    case.refresh_from_db()
    consent = consent_request(
        case_id=case.pk, proposed_due=case.effective_answer_due + datetime.timedelta(days=28), reason="De aannemer is ziek.", actor=actor
    )
    question = question_ask(case_id=case.pk, text="Heeft u een foto van de stoep?", actor=actor)
    letter = ConsentRequest.objects.get(pk=consent.pk).letter
    raw = (
        f"From: Piet <piet@example.nl>\nTo: info@harlingen.nl\nSubject: Re: {letter.subject}\n"
        f"Date: Wed, 02 Dec 2026 10:00:00 +0100\nMessage-ID: <akkoord-1@example.nl>\n"
        f"In-Reply-To: {letter.message_id}\nReferences: {letter.message_id}\n"
        f"Content-Type: text/plain; charset=utf-8\n\nJa, ik ga akkoord met de nieuwe datum.\n"
    ).encode()
    email_intake(raw=raw, source="eml")
    question.refresh_from_db()
    assert ConsentRequest.objects.get(pk=consent.pk).status == ConsentStatus.PENDING  # recorded by the officer, as README says
    assert question.status == QuestionStatus.OPEN, question.answer_text


# --- the reply page of a question that is no longer open --------------------------------------------------


def test_the_reply_page_of_a_withdrawn_question_does_not_say_it_was_answered(client, gemeente):
    """A citizen with the reply page left open sends it empty after the officer withdrew the question. The page
    that comes back says "U heeft deze vraag beantwoord op . U hoeft niets meer te doen." (no date: it was never
    answered) and its error summary links to ``#id_reply<pk>_text``, a field that is not on the page — a screen
    reader user follows a dead link."""
    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    question = question_ask(case_id=case.pk, text="Op welke dag was dat?", actor=officer())
    question_withdraw(case_id=case.pk, question_id=question.pk, actor=officer())
    response = client.post(reply_url(case, question), {"text": ""})
    html = response.content.decode()
    assert "beantwoord op ." not in html
    anchor = f'href="#id_reply{question.pk}_text"'
    assert anchor not in html or f'id="id_reply{question.pk}_text"' in html


def test_a_late_reply_to_a_withdrawn_question_stands_in_the_conversation_and_reaches_the_officer(client, gemeente, handler):
    """The page tells the citizen "Wij hebben uw tekst als aanvulling bij uw melding gezet. Uw behandelaar leest
    die zo snel mogelijk." For a withdrawn question the text is only a timeline event: it is not in *Ons
    gesprek* ("every message both ways") and not in the officers' *Gesprekken* queue, so nobody is led to it."""
    from cases.workspace.conversation import queues

    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    question = question_ask(case_id=case.pk, text="Op welke dag was dat?", actor=officer())
    question_withdraw(case_id=case.pk, question_id=question.pk, actor=officer())
    response = client.post(reply_url(case, question), {"text": "Het was dinsdag 3 november, om half elf.", "attachments": [photo("bon.pdf")]})
    assert "verstuurd=aanvulling" in response["Location"]
    html = page(client, case)
    conversation = html[html.index('id="gesprek"') :]
    assert "dinsdag 3 november, om half elf" in conversation
    assert "bon.pdf" in conversation
    to_read = queues()["to_read"]
    assert any(row.case_id == case.pk for row in to_read)


# --- uploads --------------------------------------------------------------------------------------------


def test_a_reply_returned_with_an_error_says_the_chosen_files_must_be_chosen_again(client, gemeente):
    """The reply form follows "the web form's own upload rules" (README). The web form, when it comes back with
    an error, tells the citizen "U had bestanden gekozen. Kies ze opnieuw" (a browser does not keep them).
    The reply page does not: a citizen whose text was too long shortens it, sends, and the photo is silently
    lost."""
    from cases.intake.uploads import FILES_CHOOSE_AGAIN

    case = CaseFactory(in_treatment=True, email="piet@example.nl")
    question = question_ask(case_id=case.pk, text="Heeft u een foto?", actor=officer())
    response = client.post(reply_url(case, question), {"text": "De stoep is kapot. " * 600, "attachments": [photo()]})
    assert response.status_code == 400
    html = response.content.decode()
    assert str(FILES_CHOOSE_AGAIN) in html


def test_a_letter_still_waiting_for_print_does_not_carry_the_link_that_was_just_revoked(client, gemeente):
    """README: a new private link makes "the old one gives 404 at once". Piet has no e-mail address; the officer's
    question to him waits in the mailroom's print queue when the officer renews the link (it went to a wrong
    address). The question letter still holds the old link, so Piet receives on paper a link that gives
    "pagina niet gevonden". Letters that have not left yet should carry the new link (or be rewritten)."""
    from cases.correspondence.links import private_link_renew
    from cases.models import OutboxStatus, OutgoingMessage

    actor = officer()
    case = CaseFactory(in_treatment=True, by_post=True, name="Piet Hoekstra")
    question = question_ask(case_id=case.pk, text="Welke stoep bedoelt u: die aan de Voorstraat of de Noorderhaven?", actor=actor)
    old = case.public_token
    private_link_renew(case_id=case.pk, reason="Link stond in een brief naar een verkeerd adres", actor=actor)
    letter = OutgoingMessage.objects.get(pk=question.letter_id)
    assert letter.status == OutboxStatus.QUEUED  # not printed yet
    assert client.get(reverse("cases:case_status", kwargs={"token": old})).status_code == 404
    assert old not in letter.body_text


@pytest.mark.parametrize("printed", [False, True])
def test_a_letter_in_the_mailroom_is_made_again_with_the_renewed_link(gemeente, django_capture_on_commit_callbacks, printed):
    """A letter already made as a PDF for the mailroom (to print, or printed and not yet posted) goes back to the
    outbox when the link is renewed: its new PDF carries the new link, and a printed one is back in the queue to print."""
    from cases.correspondence.delivery import outgoing_send
    from cases.correspondence.links import private_link_renew
    from cases.correspondence.post import outgoing_mark_printed
    from cases.intake.ocr import pdf_text_layer
    from cases.models import OutboxStatus, OutgoingMessage

    actor = officer()
    case = CaseFactory(in_treatment=True, by_post=True, name="Piet Hoekstra")
    question = question_ask(case_id=case.pk, text="Welke stoep bedoelt u?", actor=actor)
    assert outgoing_send(outgoing_id=question.letter_id) == "to_print"
    if printed:
        outgoing_mark_printed(outgoing_id=question.letter_id, actor=actor)
    with django_capture_on_commit_callbacks(execute=True):
        private_link_renew(case_id=case.pk, reason="Link stond in een brief naar een verkeerd adres", actor=actor)
    letter = OutgoingMessage.objects.get(pk=question.letter_id)
    case.refresh_from_db()
    assert letter.status == OutboxStatus.TO_PRINT
    assert case.public_token in letter.body_text
    assert case.public_token[:12] in pdf_text_layer(letter.pdf.read()).replace("\n", "")
    assert letter.printed_at is None  # a printed one is to be printed again, with the new link
