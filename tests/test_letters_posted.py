"""A PDF letter's own life: queued → printed → posted. Only posting makes it sent."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from cases.correspondence.delivery import outgoing_send
from cases.correspondence.outbox import acknowledgement_queue
from cases.correspondence.post import NOTHING_CHOSEN, POSTED_IN_FUTURE, letters_mark_posted, outgoing_mark_printed
from cases.intake.letters import letter_correct_text, letter_register
from cases.models import CaseFact, CaseState, OutboxStatus, OutgoingMessage
from cases.reporting.rollup import rollup_refresh
from cms.roles import EDITORS, MAILROOM
from tests.factories import CaseFactory, UserFactory, officer
from tests.test_intake_letters import SENDER, typed_letter_pdf, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailroom():
    return UserFactory(username="postkamer", role=MAILROOM)


def queued_pdf_acknowledgement(case):
    message = acknowledgement_queue(case_id=case.pk)
    assert outgoing_send(outgoing_id=message.pk) == "to_print"
    message.refresh_from_db()
    return message


def test_a_posting_date_in_the_future_is_refused_and_nothing_changes(municipality, mailroom):
    message = queued_pdf_acknowledgement(CaseFactory(email=""))
    with pytest.raises(ValidationError) as excinfo:
        letters_mark_posted(outgoing_ids=[message.pk], posted_on=timezone.localdate() + datetime.timedelta(days=1), actor=mailroom)
    assert excinfo.value.message_dict["posted_on"] == [str(POSTED_IN_FUTURE)]
    message.refresh_from_db()
    assert message.status == OutboxStatus.TO_PRINT


def test_a_batch_is_posted_all_or_nothing(municipality, mailroom):
    """A letter that was never in the mailroom (sent by e-mail, or sent back to the outbox) refuses the batch; one a
    colleague marked posted already is skipped and named, and the rest of the batch is posted."""
    first = queued_pdf_acknowledgement(CaseFactory(email=""))
    emailed = queued_pdf_acknowledgement(CaseFactory(email=""))
    OutgoingMessage.objects.filter(pk=emailed.pk).update(status=OutboxStatus.SENT)
    with pytest.raises(ValidationError):
        letters_mark_posted(outgoing_ids=[first.pk, emailed.pk], posted_on=timezone.localdate(), actor=mailroom)
    first.refresh_from_db()
    assert first.status == OutboxStatus.TO_PRINT and first.case.state == CaseState.RECEIVED
    by_colleague = queued_pdf_acknowledgement(CaseFactory(email=""))
    letters_mark_posted(outgoing_ids=[by_colleague.pk], posted_on=timezone.localdate(), actor=mailroom)
    posting = letters_mark_posted(outgoing_ids=[first.pk, by_colleague.pk], posted_on=timezone.localdate(), actor=mailroom)
    assert [letter.pk for letter in posting.posted] == [first.pk] and [letter.pk for letter in posting.already] == [by_colleague.pk]
    first.refresh_from_db()
    assert first.status == OutboxStatus.POSTED
    with pytest.raises(ValidationError) as excinfo:
        letters_mark_posted(outgoing_ids=[], posted_on=timezone.localdate(), actor=mailroom)
    assert excinfo.value.message_dict["letters"] == [str(NOTHING_CHOSEN)]


def test_only_the_mailroom_and_officers_mark_letters(municipality):
    message = queued_pdf_acknowledgement(CaseFactory(email=""))
    editor = UserFactory(username="redacteur", role=EDITORS)
    with pytest.raises(PermissionDenied):
        outgoing_mark_printed(outgoing_id=message.pk, actor=editor)
    with pytest.raises(PermissionDenied):
        letters_mark_posted(outgoing_ids=[message.pk], posted_on=timezone.localdate(), actor=editor)


def test_the_acknowledgement_term_counts_to_the_posting_date(municipality, mailroom):
    received = timezone.localdate() - datetime.timedelta(days=20)
    case = CaseFactory(email="", received_on=received)
    message = queued_pdf_acknowledgement(case)
    outgoing_mark_printed(outgoing_id=message.pk, actor=mailroom)
    letters_mark_posted(outgoing_ids=[message.pk], posted_on=timezone.localdate(), actor=mailroom)
    rollup_refresh()
    fact = CaseFact.objects.get(case=case)
    assert fact.acknowledged_on == timezone.localdate() and fact.acknowledged_on > fact.acknowledgement_due


def test_the_mailroom_may_correct_a_letters_text_until_its_acknowledgement_is_posted(municipality, mailroom):
    registration = letter_register(
        scan_file=upload(typed_letter_pdf(), "brief.pdf"), sender=SENDER, received_on=timezone.localdate(), actor=mailroom, kind="complaint"
    ).registration
    message = queued_pdf_acknowledgement(registration.case)
    outgoing_mark_printed(outgoing_id=message.pk, actor=mailroom)
    letter_correct_text(registration_id=registration.pk, text="De balie was dicht terwijl de website zei dat hij open was.", actor=mailroom)
    letters_mark_posted(outgoing_ids=[message.pk], posted_on=timezone.localdate(), actor=officer())
    with pytest.raises(PermissionDenied):
        letter_correct_text(registration_id=registration.pk, text="Nog een correctie.", actor=mailroom)


def test_the_mailroom_opens_only_the_letters_in_its_queue(client, municipality, mailroom):
    queued = queued_pdf_acknowledgement(CaseFactory(email=""))
    posted = queued_pdf_acknowledgement(CaseFactory(email=""))
    letters_mark_posted(outgoing_ids=[posted.pk], posted_on=timezone.localdate(), actor=mailroom)
    client.force_login(mailroom)
    assert client.get(reverse("handvest_workspace:letter_pdf", args=[queued.pk])).status_code == 200
    assert client.get(reverse("handvest_workspace:letter_pdf", args=[posted.pk])).status_code == 404
    client.force_login(officer())
    assert client.get(reverse("handvest_workspace:letter_pdf", args=[posted.pk])).status_code == 200
