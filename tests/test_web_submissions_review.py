"""A web form's stored submission meets the rest of the system: beat's relay, the private link while the
worker commits, a registration of the same words made before, the year's end, eager mode and parallel posts.
Found or checked by the review of the stored submissions; each rule below failed before its fix where it names one.

- beat's relay registers the waiting submissions even when a stored e-mail cannot be processed (it is
  logged and waits; it used to stop the relay before its web part, every round);
- the private link never answers 404 for a submission being registered at that moment;
- a submission whose words were registered before (Back and send again across the upgrade, when the release
  before registered in the request) shows that registration's number, and leaves no files without a case;
- after an erasure, the same words sent again the same day are a new case (the fingerprint was erased too);
- a submission at 23:59 on 31 December keeps its year and its date of receipt when registered in January;
- six posts at once (three the same) take one number per submission, gap-free; the relay and the task at once register once.
"""

from __future__ import annotations

import datetime
import logging
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cases import dispatch, tasks
from cases.intake.web_submissions import submission_hash, submission_register, submission_store
from cases.models import Attachment, Case, InboundMessage, Registration, WebSubmission
from cases.public import status
from cases.records.wiping import case_wipe
from cases.workflow.registration import Sender, register_item
from tests.conftest import requires_postgres
from tests.test_web_submissions import DESCRIPTION, FORM_URL, PDF_BYTES, THANKS_URL, _fresh_rate_limit, form, no_worker  # noqa: F401 (fixtures)


# --- 1. beat's relay: one stored e-mail that fails starves every web form submission -----------------
def test_relay_registers_waiting_web_submissions_even_when_a_stored_mail_cannot_be_resumed(client, municipality, no_worker, caplog):  # noqa: F811 (the fixture)
    """A stored e-mail whose raw file is gone (or any mail that makes inbound_resume raise) used to stop the
    relay before its web part, every round: the citizen's complaint, whose task was lost, was never registered."""
    ten_minutes_ago = timezone.now() - datetime.timedelta(minutes=10)
    InboundMessage.objects.create(source="webhook:mailgun", raw="inbound/2026/12/gone.eml", received_at=ten_minutes_ago)
    assert client.post(FORM_URL, form()).status_code == 302  # its task lost (no worker ran it)
    WebSubmission.objects.update(received_at=timezone.now() - datetime.timedelta(minutes=5))

    with caplog.at_level(logging.ERROR, logger="cases.tasks"):
        assert tasks.inbound_relay() == 2
    submission = WebSubmission.objects.get()
    assert submission.registration_id is not None, "the waiting web submission was not registered by the relay"
    gone = InboundMessage.objects.get()
    assert gone.outcome == "" and f"stored mail {gone.pk} could not be processed" in caplog.text  # it waits, logged


# --- 2. the private link: a 404 when the worker commits between the page's two look-ups -----------
def test_private_link_is_never_a_404_while_the_worker_commits_the_registration(client, municipality, no_worker, monkeypatch):  # noqa: F811 (the fixture)
    assert client.post(FORM_URL, form()).status_code == 302
    submission = WebSubmission.objects.get()
    real_case = status._case

    def case_then_worker_commits(token):
        found = real_case(token)  # not registered yet: no case with this token
        submission_register(submission_id=submission.pk)  # the worker commits right now
        return found

    monkeypatch.setattr(status, "_case", case_then_worker_commits)
    response = client.get(reverse("cases:case_status", kwargs={"token": submission.token}))
    assert response.status_code == 200, "the citizen's fresh private link answered 404"


# --- 3. a submission whose words were registered before (the release before, or after an erasure) ----
@pytest.fixture
def registered_before(municipality):
    """The same form, registered in the request by the release before the upgrade (same day, same hash)."""
    sender = Sender(name="Aukje Hoekstra", email="aukje@example.nl")
    hash_value = submission_hash(kind="complaint", description=DESCRIPTION, sender=sender)
    registration, created = register_item(channel="web", kind="complaint", text=DESCRIPTION, sender=sender, hash_value=hash_value)
    assert created
    return registration


def test_thanks_page_shows_the_number_the_complaint_is_registered_under(client, registered_before, no_worker):  # noqa: F811 (the fixture)
    """Back and send again across the upgrade: the worker links the submission to the registration made
    before, but the thank-you page keeps showing the submission's own number, which no case carries."""
    assert client.post(FORM_URL, form()).status_code == 302
    submission = WebSubmission.objects.get()
    registration = submission_register(submission_id=submission.pk)
    assert registration.pk == registered_before.pk and Registration.objects.count() == 1
    page = client.get(THANKS_URL).content.decode()
    assert registration.number in page, f"the page shows {submission.number}, a number no registration carries"


def test_files_of_a_submission_registered_before_are_not_left_without_a_registration(client, registered_before, no_worker):  # noqa: F811 (the fixture)
    """Its uploaded files stay as Attachment rows and files with no registration: never shown, never wiped
    nor destroyed with the case (personal data kept without term)."""
    upload = SimpleUploadedFile("brief.pdf", PDF_BYTES, content_type="application/pdf")
    assert client.post(FORM_URL, {**form(), "attachments": [upload]}).status_code == 302
    submission_register(submission_id=WebSubmission.objects.get().pk)
    orphans = Attachment.objects.filter(registration__isnull=True, inbound_message__isnull=True)
    assert not orphans.exists(), f"{orphans.count()} attachment(s) left without registration or message"
    assert Case.objects.count() == 1


def test_without_a_failing_mail_the_relay_registers_the_submission(client, municipality, no_worker):  # noqa: F811 (the fixture)
    """The relay's web part alone: a submission waiting over two minutes is registered."""
    assert client.post(FORM_URL, form()).status_code == 302
    WebSubmission.objects.update(received_at=timezone.now() - datetime.timedelta(minutes=5))
    assert tasks.inbound_relay() == 1
    assert WebSubmission.objects.get().registration_id is not None


def test_a_submission_at_2359_on_31_december_registered_in_january_keeps_its_year(municipality, no_worker, monkeypatch):  # noqa: F811 (the fixture)
    from django.utils import timezone as tz

    amsterdam = ZoneInfo("Europe/Amsterdam")
    monkeypatch.setattr(tz, "now", lambda: datetime.datetime(2026, 12, 31, 23, 59, 30, tzinfo=amsterdam).astimezone(datetime.UTC))
    submission, created = submission_store(kind="complaint", description=DESCRIPTION, sender=Sender(name="Jan", email="jan@example.nl"))
    assert created and submission.number == "HLG-2026-000001"
    monkeypatch.setattr(tz, "now", lambda: datetime.datetime(2027, 1, 1, 0, 1, tzinfo=amsterdam).astimezone(datetime.UTC))
    registration = submission_register(submission_id=submission.pk)
    assert registration.number == "HLG-2026-000001" and registration.received_on == datetime.date(2026, 12, 31)
    assert registration.case.public_token == submission.token
    january, _ = register_item(channel="letter", kind="complaint", text="Een brief.", hash_value="brief-jan")
    assert january.number == "HLG-2027-000001"


def test_eager_make_run_registers_after_the_response_with_its_file(client, municipality):
    upload = SimpleUploadedFile("brief.pdf", PDF_BYTES, content_type="application/pdf")
    assert client.post(FORM_URL, {**form(), "attachments": [upload]}).status_code == 302
    case = Case.objects.get()
    submission = WebSubmission.objects.get()
    assert case.registration.number == submission.number and case.public_token == submission.token and submission.payload == {}
    assert list(case.registration.attachments.values_list("filename", flat=True)) == ["brief.pdf"]
    page = client.get(THANKS_URL).content.decode()
    assert submission.number in page and case.public_token in page
    assert client.post(FORM_URL, {**form()}).status_code == 302  # a double click after registration
    assert Case.objects.count() == 1 and WebSubmission.objects.count() == 1


@pytest.mark.postgres
@requires_postgres()
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_posts_of_one_form_take_one_number_and_others_stay_gap_free(municipality, monkeypatch):
    from django.test import Client

    from cases.models import RegistrationCounter

    monkeypatch.setattr(dispatch, "runs_eagerly", lambda: False)
    monkeypatch.setattr(dispatch, "enqueue", lambda name, *args, **kwargs: None)
    barrier, results = threading.Barrier(6), []

    def post(data):
        from django.db import connections

        try:
            barrier.wait()
            results.append(Client().post(FORM_URL, data).status_code)
        finally:
            connections.close_all()

    datas = [form()] * 3 + [form(f"Een ander verhaal nummer {n}.", name=f"Inwoner {n}") for n in range(3)]
    threads = [threading.Thread(target=post, args=(data,)) for data in datas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [302] * 6
    year = timezone.localdate().year
    numbers = sorted(WebSubmission.objects.values_list("number", flat=True))
    assert numbers == [f"HLG-{year}-{n:06d}" for n in range(1, 5)]
    assert RegistrationCounter.objects.get(year=year).last == 4


@pytest.mark.postgres
@requires_postgres()
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_relay_and_task_at_once_register_once(municipality, monkeypatch):
    from django.db import connections

    monkeypatch.setattr(dispatch, "enqueue", lambda name, *args, **kwargs: None)
    submission, _ = submission_store(kind="complaint", description=DESCRIPTION, sender=Sender(name="Jan", email="jan@example.nl"))
    barrier, results = threading.Barrier(4), []

    def register():
        try:
            barrier.wait()
            results.append(submission_register(submission_id=submission.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and sum(result is not None for result in results) == 1
    assert Case.objects.count() == 1 and Registration.objects.get().number == submission.number


def test_after_an_erasure_the_same_words_sent_again_are_a_new_case(client, municipality):
    """The erasure blanks the registration's fingerprint of words and sender: before, the same words sent
    again the same day were taken for the erased case, and the citizen's new text was lost with it."""
    assert client.post(FORM_URL, form()).status_code == 302  # eager: registered after the response
    first = Case.objects.get()
    case_wipe(first)
    assert client.post(FORM_URL, form()).status_code == 302
    second = Case.objects.exclude(pk=first.pk).get()
    assert second.registration.text == DESCRIPTION and second.registration.number != first.registration.number
