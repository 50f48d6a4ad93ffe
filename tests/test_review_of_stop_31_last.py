"""Found by the review of stop 31's last commits: the kept figures once an answer leaves, an HTML reply's quote, a
correction that never waits for a PDF. Each test failed before its fix."""

import pytest
from django.utils import timezone

from cases.correspondence.composing import letter_compose
from cases.correspondence.post import letters_mark_posted
from cases.correspondence.steps import case_step_with_letter
from cases.models import CaseFact, OutboxStatus, OutgoingMessage, Registration
from cms.roles import MAILROOM
from tests.factories import CaseFactory, UserFactory, officer

pytestmark = pytest.mark.django_db


def _answer(case):
    draft = letter_compose(case=case, kind="answer", findings="F.", judgement="J.", conclusions="C.")
    return case_step_with_letter(case_id=case.pk, name="answer", kind="answer", subject=draft.subject, body_text=draft.body_text, actor=officer())


# --- 1. the kept figures never learn that an answer letter left ----------------------------------------


@pytest.mark.parametrize("by_post", [False, True], ids=["email", "post"])
def test_the_kept_figures_count_an_answer_as_handled_once_its_letter_has_left(by_post, municipality, django_capture_on_commit_callbacks):
    """An answer is not given while its letter waits (rollup.fact_queryset); once the letter leaves, by e-mail or
    posted, the kept figures are counted again at once (not only at the nightly rebuild) and show it handled."""
    case = CaseFactory(by_post=True, explained=True) if by_post else CaseFactory(explained=True)
    with django_capture_on_commit_callbacks(execute=True):
        _case, message = _answer(case)
    if by_post:
        assert OutgoingMessage.objects.get(pk=message.pk).status == OutboxStatus.TO_PRINT
        with django_capture_on_commit_callbacks(execute=True):
            letters_mark_posted(outgoing_ids=[message.pk], posted_on=timezone.localdate(), actor=UserFactory(username="postkamer", role=MAILROOM))
    assert OutgoingMessage.objects.get(pk=message.pk).status in (OutboxStatus.SENT, OutboxStatus.POSTED)
    assert CaseFact.objects.get(case=case).handled_on == timezone.localdate()


# --- 2. an HTML-only reply keeps the quoted letter as the citizen's answer ------------------------------


def test_an_html_only_reply_does_not_keep_the_quoted_letter_as_the_citizens_answer():
    """An HTML-only reply becomes text through html_to_text: its quote is a <blockquote>, with no '>' marks. The reply
    ends at the 'Op ... schreef ...:' line then, so our quoted letter is not taken as the citizen's answer."""
    from cases.intake.parsing.html import html_to_text
    from cases.intake.parsing.rules import reply_without_quote

    html = (
        "<div>Ja, het was op dinsdag 3 november.</div><br>"
        "<div>Op di 1 dec. 2026 om 10:00 schreef Gemeente Harlingen &lt;info@harlingen.nl&gt;:</div>"
        "<blockquote><div>Geachte mevrouw De Vries,</div><div>Op welke dag stond u aan de balie?</div>"
        "<div>Met vriendelijke groet, Gemeente Harlingen</div></blockquote>"
    )
    assert reply_without_quote(html_to_text(html)) == "Ja, het was op dinsdag 3 november."


# --- 3. a PDF that cannot be rendered makes the rectification itself fail ------------------------------


def test_a_rectification_is_stored_even_when_the_waiting_letter_cannot_be_rendered_again(gemeente, monkeypatch, django_capture_on_commit_callbacks):
    """The correction never waits for a PDF: the waiting letter goes back to the outbox, which renders it with its
    own retries. A renderer that fails (WeasyPrint, fonts, storage) leaves the correction stored and the letter
    queued, never in the print queue with the old address."""
    from cases.correspondence import delivery
    from cases.correspondence.delivery import outgoing_send
    from cases.correspondence.outbox import acknowledgement_queue
    from cases.records import erasure
    from cases.records.subject_access import PersonQuery, person_find

    case = CaseFactory(email="", channel="letter", name="Sietske de Vries", address="Voorstraat 1\n8861 BL Harlingen")
    message = acknowledgement_queue(case_id=case.pk)
    assert outgoing_send(outgoing_id=message.pk) == "to_print"

    def broken(**kwargs):
        raise OSError("weasyprint: cannot load font")

    monkeypatch.setattr(delivery, "letter_render_pdf", broken)
    match = person_find(PersonQuery(number=case.registration.number))
    with django_capture_on_commit_callbacks(execute=True):
        erasure.registrations_rectify(match=match, corrections={"sender_address": "Zoutsloot 4\n8861 AB Harlingen"}, reason="verhuisd", actor=officer())
    assert "Zoutsloot 4" in Registration.objects.get(pk=case.registration.pk).sender_address
    message.refresh_from_db()
    assert message.status == OutboxStatus.QUEUED and "Zoutsloot 4" in message.to_address and not message.pdf