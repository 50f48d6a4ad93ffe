"""A web form's submission is stored in the request with its number and private link; a worker registers it.

The rules (``cases.intake.web_submissions``):
- the request writes one row, numbered from the year's counter as every registration is, gap-free when
  a double click is refused;
- the thank-you page and the private link work before the worker has registered it: the number, the
  date of receipt, the terms; the link says the submission is being processed;
- the worker registers it once (delivered twice, it does nothing), with its number, its link, its files
  and its hint, and empties what the submission held; a second submission of the same files keeps none;
- destroying or erasing the case takes the submission's row with it.
"""

from __future__ import annotations

import datetime
import os
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from cases import dispatch
from cases.intake.web_submissions import submission_register, submission_store
from cases.models import Attachment, Case, RegistrationCounter, WebSubmission
from cases.records.wiping import case_wipe
from cases.workflow.deadlines import case_deadlines
from cases.workflow.registration import Sender, register_item
from tests.test_browser_flow import browser  # noqa: F401 (the fixture)
from tests.test_browser_journeys import Journey
from tests.test_intake_webform import FORM_URL, PDF_BYTES, THANKS_URL, _fresh_rate_limit  # noqa: F401 (an autouse fixture)

DESCRIPTION = "De balie was om tien uur nog dicht, terwijl de website negen uur zei."


@pytest.fixture
def no_worker(monkeypatch):
    """A web process with a worker elsewhere: what it queues is noted, not run."""
    queued = []
    monkeypatch.setattr(dispatch, "runs_eagerly", lambda: False)
    monkeypatch.setattr(dispatch, "enqueue", lambda name, *args, **kwargs: queued.append((name, args)))
    return queued


def form(description: str = DESCRIPTION, **overrides) -> dict:
    data = {
        "kind": "complaint",
        "description": description,
        "name": "Aukje Hoekstra",
        "email": "aukje@example.nl",
        "address": "",
        "phone": "",
        "hint": "",
        "website": "",
    }
    return {**data, **overrides}


def test_numbers_are_the_counters_and_a_refused_double_takes_none(client, municipality, no_worker):
    register_item(channel="letter", kind="complaint", text="Een brief.", hash_value="brief-1")  # the year's first, by letter
    assert client.post(FORM_URL, form()).status_code == 302
    assert client.post(FORM_URL, form()).status_code == 302  # a double click
    assert client.post(FORM_URL, form("Een ander verhaal over de parkeerautomaat.")).status_code == 302
    year = timezone.localdate().year
    numbers = list(WebSubmission.objects.order_by("pk").values_list("number", flat=True))
    assert numbers == [f"HLG-{year}-000002", f"HLG-{year}-000003"]
    assert RegistrationCounter.objects.get(year=year).last == 3  # the double took no number
    assert [name for name, _args in no_worker] == [dispatch.REGISTER_WEB, dispatch.REGISTER_WEB]


def test_a_number_past_a_million_keeps_all_its_digits(client, municipality, no_worker):
    year = timezone.localdate().year
    RegistrationCounter.objects.create(prefix="HLG", year=year, last=999_999)
    assert client.post(FORM_URL, form()).status_code == 302
    assert WebSubmission.objects.get().number == f"HLG-{year}-1000000"


def test_before_the_worker_the_thanks_page_and_the_link_say_what_they_can(client, municipality, no_worker):
    assert client.post(FORM_URL, form()).status_code == 302
    submission = WebSubmission.objects.get()
    page = client.get(THANKS_URL).content.decode()
    due = case_deadlines(received_on=timezone.localdate())
    assert submission.number in page and submission.token in page and "aukje@example.nl" in page
    assert f"{due['acknowledgement_due']:%-d}" in page and "klacht" in page
    status = client.get(reverse("cases:case_status", kwargs={"token": submission.token}))
    assert status.status_code == 200 and status["X-Robots-Tag"] == "noindex, nofollow"
    assert submission.number in status.content.decode() and "verwerk" in status.content.decode()
    assert client.get(reverse("cases:case_status", kwargs={"token": submission.token[:-1] + "x"})).status_code == 404

    registration = submission_register(submission_id=submission.pk)
    status = client.get(reverse("cases:case_status", kwargs={"token": submission.token}))
    assert status.status_code == 200 and "verwerk" not in status.content.decode()
    assert registration.number in status.content.decode()
    assert registration.received_on == timezone.localdate() and registration.case.acknowledgement_due == due["acknowledgement_due"]


def test_the_worker_registers_once_and_the_submission_keeps_nothing_personal(client, harlingen, no_worker, django_capture_on_commit_callbacks):
    assert client.post(FORM_URL, form(hint="norm:BALIE-WACHTTIJD")).status_code == 302
    submission = WebSubmission.objects.get()
    assert submission.payload["sender"]["email"] == "aukje@example.nl"
    with django_capture_on_commit_callbacks(execute=True):
        registration = submission_register(submission_id=submission.pk)
        assert submission_register(submission_id=submission.pk) is None  # delivered twice
    assert Case.objects.count() == 1
    case = registration.case
    assert registration.sender_name == "Aukje Hoekstra" and registration.channel == "web" and case.public_token == submission.token
    assert list(case.norm_tags.values_list("norm__code", "source")) == [("BALIE-WACHTTIJD", "citizen")]
    submission.refresh_from_db()
    assert submission.payload == {} and submission.registration_id == registration.pk
    assert [args for name, args in no_worker if name == dispatch.ACKNOWLEDGE] == [(case.pk,)]


def test_files_wait_with_the_submission_and_a_double_keeps_none_of_its_own(client, municipality, no_worker, settings):
    def upload():
        return SimpleUploadedFile("brief.pdf", PDF_BYTES, content_type="application/pdf")

    assert client.post(FORM_URL, {**form(), "attachments": [upload()]}).status_code == 302
    assert client.post(FORM_URL, {**form(), "attachments": [upload()]}).status_code == 302  # a double click
    attachment = Attachment.objects.get()
    assert attachment.registration_id is None and attachment.file.storage.exists(attachment.file.name)
    folder = os.path.dirname(attachment.file.storage.path(attachment.file.name))
    assert os.listdir(folder) == [os.path.basename(attachment.file.name)]  # the double's file was deleted
    registration = submission_register(submission_id=WebSubmission.objects.get().pk)
    assert list(registration.attachments.values_list("filename", flat=True)) == ["brief.pdf"]


def test_erasing_the_case_takes_the_submission_with_it(client, municipality):
    assert client.post(FORM_URL, form()).status_code == 302  # eager: registered after the response
    case = Case.objects.get()
    token = case.public_token
    assert WebSubmission.objects.filter(registration=case.registration).exists()
    case_wipe(case)
    assert not WebSubmission.objects.exists()
    assert client.get(reverse("cases:case_status", kwargs={"token": token})).status_code == 404
    assert client.get(THANKS_URL).status_code == 302  # the thank-you page has nothing left to show


def test_a_thanks_cookie_of_the_release_before_is_not_read_as_a_submissions(client, municipality, no_worker):
    """Before, the cookie held a registration's id: after the upgrade the same number could be another
    citizen's submission, with its private link. The new salt makes such a cookie unreadable."""
    from django.http import HttpResponse

    from cases.intake import thanks

    assert client.post(FORM_URL, form()).status_code == 302
    submission = WebSubmission.objects.get()
    client.cookies.clear()
    setter = HttpResponse()
    setter.set_signed_cookie(thanks.THANKS_COOKIE, str(submission.pk), salt="handvest.intake.thanks")
    client.cookies[thanks.THANKS_COOKIE] = setter.cookies[thanks.THANKS_COOKIE].value
    response = client.get(THANKS_URL)
    assert response.status_code == 302 and response["Location"] == FORM_URL


def test_on_a_database_without_ctes_in_inserts_the_same_row_comes_from_two_statements(municipality, monkeypatch):
    """SQLite (``make run``) cannot INSERT in a CTE: the counter and the row go in one transaction."""
    monkeypatch.setattr(connection, "vendor", "sqlite")
    submission, created = submission_store(kind="complaint", description="Geen antwoord op mijn brief.", sender=Sender(name="Jan", email="jan@example.nl"))
    monkeypatch.undo()
    again, created_again = submission_store(kind="complaint", description="Geen antwoord op mijn brief.", sender=Sender(name="Jan", email="jan@example.nl"))
    assert created and not created_again and again.pk == submission.pk
    assert submission.number.endswith("-000001") and WebSubmission.objects.get().token == submission.token


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # a live server: the transactional tests' own marker
def test_the_page_of_a_submission_being_processed_reads_well_in_chromium(browser, live_server, municipality, monkeypatch):  # noqa: F811
    """The private link before the worker registered it: its number and what happens, at 320 px (400 % zoom)
    without sideways scrolling, and axe finds no serious or critical violation."""
    monkeypatch.setattr(dispatch, "enqueue", lambda name, *args, **kwargs: None)  # no worker came yet
    submission, _ = submission_store(kind="complaint", description="De balie was dicht.", sender=Sender(name="Jan", email="jan@example.nl"))
    page = browser.new_page(viewport={"width": 320, "height": 800}, locale="nl-NL")
    journey = Journey(page, "web-submission")
    journey.visit(f"{live_server.url}{reverse('cases:case_status', kwargs={'token': submission.token})}", "processing")
    assert submission.number in page.inner_text("h1") and "verwerkt" in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_make_run_takes_up_on_start_what_a_stopped_run_left_waiting(municipality, monkeypatch, django_capture_on_commit_callbacks):
    """``make run`` has no beat: ``run_relays`` on its start registers a submission whose registration never ran
    (the run was stopped right after the response) and writes its acknowledgement."""
    import io

    from django.core.management import call_command

    from cases.models import OutgoingMessage

    with monkeypatch.context() as patched:
        patched.setattr(dispatch, "enqueue", lambda name, *args, **kwargs: None)  # the run stopped before its task ran
        submission, _ = submission_store(kind="complaint", description="De balie was dicht.", sender=Sender(name="Jan", email="jan@example.nl"))
    WebSubmission.objects.filter(pk=submission.pk).update(received_at=timezone.now() - datetime.timedelta(minutes=10))
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_relays", stdout=out)
    case = Case.objects.get(registration__number=submission.number)
    assert "1 stored submission(s) or e-mail(s) taken up" in out.getvalue()
    assert OutgoingMessage.objects.filter(case=case, kind="acknowledgement").count() == 1


def test_make_run_relays_beside_the_server_take_up_what_fails_while_it_serves(municipality, monkeypatch, caplog, django_capture_on_commit_callbacks):
    """``make run`` also runs ``run_relays --every 300`` beside the server: a submission whose registration failed
    after the response is registered by a later round, not at the next start; a failed round is logged and the next
    one tries again; a round with nothing to do writes nothing."""
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from cases.management.commands import run_relays
    from cases.models import OutgoingMessage

    with monkeypatch.context() as patched:
        patched.setattr(dispatch, "enqueue", lambda name, *args, **kwargs: None)  # the registration after the response failed
        submission, _ = submission_store(kind="complaint", description="Niemand nam op.", sender=Sender(name="Jan", email="jan@example.nl"))
    WebSubmission.objects.filter(pk=submission.pk).update(received_at=timezone.now() - datetime.timedelta(minutes=10))
    slept, rounds = [], []

    def flaky_relay():
        rounds.append(len(slept))
        if len(rounds) == 1:
            raise OSError("database is locked")
        return real_relay()

    real_relay = run_relays.inbound_relay
    monkeypatch.setattr(run_relays.time, "sleep", slept.append)
    monkeypatch.setattr(run_relays, "inbound_relay", flaky_relay)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_relays", every=300, rounds=3, stdout=out)
    assert slept == [300, 300, 300] and rounds == [1, 2, 3]  # each round after its wait
    assert "the relays failed this round; trying again in 300" in caplog.text
    case = Case.objects.get(registration__number=submission.number)
    assert OutgoingMessage.objects.filter(case=case, kind="acknowledgement").count() == 1
    lines = out.getvalue().splitlines()
    # The registration wrote the acknowledgement itself; the quiet second and third rounds wrote nothing.
    assert len(lines) == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d relays: 1 stored submission\(s\) or e-mail\(s\) taken up; 0 acknowledgement.*", lines[0])
    with pytest.raises(CommandError, match="not negative"):
        call_command("run_relays", every=-1)
