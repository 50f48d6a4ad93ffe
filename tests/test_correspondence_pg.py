"""The outbox under real concurrency: needs PostgreSQL (CI sets DATABASE_URL)."""

import time

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from cases.correspondence.delivery import outgoing_send
from cases.correspondence.outbox import acknowledgement_queue
from cases.models import CaseEvent, EventKind, OutgoingMessage
from cms.models import MunicipalitySettings
from tests.conftest import requires_postgres
from tests.factories import CaseFactory
from tests.support.parallel import at_once

pytestmark = [pytest.mark.postgres, requires_postgres(), pytest.mark.django_db(transaction=True, serialized_rollback=True)]


class SlowBackend(LocmemBackend):
    """Takes a while to send, so concurrent senders really overlap."""

    def send_messages(self, messages):
        time.sleep(0.3)
        return super().send_messages(messages)


@pytest.fixture
def prefix():
    settings = MunicipalitySettings.load()
    settings.registration_prefix = "HLG"
    settings.save()


def test_concurrent_sends_of_one_letter_send_it_once(prefix, settings):
    settings.EMAIL_BACKEND = "tests.test_correspondence_pg.SlowBackend"
    case = CaseFactory(email="piet@example.nl")
    message = acknowledgement_queue(case_id=case.pk)  # already written by the receiver after registration: the same row
    results = at_once(lambda _: outgoing_send(outgoing_id=message.pk), 4)
    assert sorted(results) == ["sent", "skipped", "skipped", "skipped"]
    assert len(mail.outbox) == 1
    assert CaseEvent.objects.filter(case=case, kind=EventKind.MESSAGE_OUT).count() == 1


def test_concurrent_receivers_write_one_acknowledgement(prefix):
    case = CaseFactory(email="piet@example.nl")
    OutgoingMessage.objects.filter(case=case).delete()  # undo the receiver's, to race four new ones
    results = at_once(lambda _: acknowledgement_queue(case_id=case.pk).pk, 4)
    assert len(set(results)) == 1
    assert OutgoingMessage.objects.filter(case=case).count() == 1
