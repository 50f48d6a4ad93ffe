"""The daily deadline scan in working days, and its digest to the quality officers."""

import datetime

import pytest
from celery.schedules import crontab
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.utils import timezone

from cases import dispatch, tasks
from cases.correspondence.composing import letter_compose
from cases.correspondence.digest import deadline_digest_send, quality_officer_emails
from cases.correspondence.outbox import acknowledgement_queue, letter_queue
from cases.models import Case, DeadlineDigest, OutboxStatus, OutgoingMessage
from cases.tasks import deadline_scan_daily
from cases.workflow.deadline_scan import deadline_scan
from cms.roles import EDITORS, MAILROOM
from tests.factories import CaseFactory, UserFactory, officer

pytestmark = pytest.mark.django_db


# A fixed week before Christmas 2026 (25 and 26 December are Friday and Saturday).
TODAY = datetime.date(2026, 12, 21)  # Monday
LONG_AGO = datetime.date(2026, 1, 5)


def case_due(*, state="in_treatment", answer_due=None, ack_due=None, extended=None, **kwargs):
    """A case received long ago, with the deadlines set as the test needs them."""
    case = CaseFactory(state=state, received_on=LONG_AGO, **kwargs)
    fields = {}
    if answer_due:
        fields["answer_due"] = answer_due
    if ack_due:
        fields["acknowledgement_due"] = ack_due
    if extended:
        fields["extended_answer_due"] = extended
        fields["extension_reason"] = "reden"
    Case.objects.filter(pk=case.pk).update(**fields)
    case.refresh_from_db()
    return case


def numbers(items):
    return [item.number for item in items]


# --- the scan ---------------------------------------------------------------------------------------
def test_scan_lists_acknowledgements_still_to_go_with_their_outbox_state(municipality):
    case = case_due(state="received", ack_due=TODAY + datetime.timedelta(days=2))
    message = acknowledgement_queue(case_id=case.pk)
    OutgoingMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.FAILED, last_error="SMTP weg")
    scan = deadline_scan(today=TODAY)
    (item,) = scan.acknowledgements_due
    assert item.number == case.registration.number
    assert item.note == "mislukt: SMTP weg"


def test_scan_lists_answers_due_within_five_working_days(municipality):
    soon = case_due(answer_due=datetime.date(2026, 12, 24))  # Thursday: 3 working days
    later = case_due(answer_due=datetime.date(2027, 1, 15))
    scan = deadline_scan(today=TODAY)
    assert numbers(scan.answers_due_soon) == [soon.registration.number]
    assert later.registration.number not in numbers(scan.answers_due_soon + scan.overdue)


def test_scan_counts_working_days_not_calendar_days(municipality):
    # From Mon 21 Dec to Mon 28 Dec: Tue, Wed, Thu, (Fri 25 and Sat 26 Christmas, Sun), Mon = 4 working days.
    case = case_due(answer_due=datetime.date(2026, 12, 28))
    scan = deadline_scan(today=TODAY)
    (item,) = [item for item in scan.answers_due_soon if item.case_id == case.pk]
    assert item.working_days_left == 4


def test_scan_honours_the_municipalitys_closing_days(municipality, settings):
    due = datetime.date(2026, 12, 30)  # Wednesday; Mon 21 -> Wed 30 is 6 working days
    case = case_due(answer_due=due)
    assert case.registration.number not in numbers(deadline_scan(today=TODAY).answers_due_soon)
    settings.HANDVEST_CLOSING_DAYS = ["2026-12-24"]
    assert case.registration.number in numbers(deadline_scan(today=TODAY).answers_due_soon)


def test_scan_lists_overdue_acknowledgements_and_answers(municipality):
    late_ack = case_due(state="received", ack_due=TODAY - datetime.timedelta(days=1))
    late_answer = case_due(answer_due=TODAY - datetime.timedelta(days=7))
    extended_but_late = case_due(answer_due=TODAY - datetime.timedelta(days=30), extended=TODAY - datetime.timedelta(days=1))
    answered = case_due(state="answered", answer_due=TODAY - datetime.timedelta(days=7))
    scan = deadline_scan(today=TODAY)
    overdue = numbers(scan.overdue)
    assert late_ack.registration.number in overdue and late_answer.registration.number in overdue
    assert extended_but_late.registration.number in overdue
    assert answered.registration.number not in overdue
    item = next(item for item in scan.overdue if item.case_id == late_answer.pk)
    assert item.days_overdue == 5


def test_scan_lists_call_backs_owed_overdue_or_due_soon_until_an_explanation(municipality):
    far = datetime.date(2027, 2, 1)
    late, soon, explained = (case_due(answer_due=far) for _ in range(3))
    Case.objects.filter(pk__in=[late.pk, explained.pk]).update(callback_due=TODAY - datetime.timedelta(days=3))
    Case.objects.filter(pk=soon.pk).update(callback_due=TODAY + datetime.timedelta(days=1))
    Case.objects.filter(pk=explained.pk).update(state="explained", explained_at=timezone.now())
    scan = deadline_scan(today=TODAY)
    assert [(item.number, item.deadline) for item in scan.overdue] == [(late.registration.number, "callback")]
    assert [(item.number, item.deadline) for item in scan.callbacks_due] == [(soon.registration.number, "callback")]
    assert explained.registration.number not in numbers(scan.overdue + scan.callbacks_due + scan.answers_due_soon)


def test_scan_lists_cases_that_need_an_interim_notice(municipality):
    short = case_due(answer_due=datetime.date(2026, 12, 23))
    extended_without_notice = case_due(answer_due=datetime.date(2026, 12, 23), extended=datetime.date(2027, 1, 20))
    extended_with_notice = case_due(answer_due=datetime.date(2026, 12, 23), extended=datetime.date(2027, 1, 20))
    draft = letter_compose(case=extended_with_notice, kind="interim_notice")
    letter_queue(case_id=extended_with_notice.pk, kind="interim_notice", subject=draft.subject, body_text=draft.body_text, actor=officer())
    plenty_of_time = case_due(answer_due=datetime.date(2027, 2, 1))
    needed = numbers(deadline_scan(today=TODAY).interim_notice_needed)
    assert short.registration.number in needed
    assert extended_without_notice.registration.number in needed
    assert extended_with_notice.registration.number not in needed
    assert plenty_of_time.registration.number not in needed


def test_scan_lists_letters_that_failed_and_counts_letters_to_print(municipality):
    failed = case_due(state="received", ack_due=TODAY + datetime.timedelta(days=3))
    message = acknowledgement_queue(case_id=failed.pk)
    OutgoingMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.FAILED, last_error="Versturen mislukt na 7 pogingen")
    printing = case_due(state="received", ack_due=TODAY + datetime.timedelta(days=3))
    OutgoingMessage.objects.filter(pk=acknowledgement_queue(case_id=printing.pk).pk).update(status=OutboxStatus.TO_PRINT)
    scan = deadline_scan(today=TODAY)
    (item,) = scan.failed_letters
    assert item.number == failed.registration.number and "mislukt na 7 pogingen" in item.note
    assert scan.letters_to_print == 1


# --- the digest ---------------------------------------------------------------------------------------
@pytest.fixture
def officers(db):
    return [
        officer("anneke"),
        UserFactory(username="sjoerd", email="s.bakker@harlingen.nl", role="Kwaliteitsmedewerkers"),
        UserFactory(username="zonder", email="", role="Kwaliteitsmedewerkers"),
        UserFactory(username="weg", email="weg@harlingen.nl", role="Kwaliteitsmedewerkers", is_active=False),
        UserFactory(username="post", email="post@harlingen.nl", role=MAILROOM),
        UserFactory(username="red", email="red@harlingen.nl", role=EDITORS),
    ]


def test_digest_goes_to_the_active_quality_officers_with_an_email_address(municipality, officers):
    assert quality_officer_emails() == ["anneke@example.invalid", "s.bakker@harlingen.nl"]


def test_digest_is_one_mail_listing_each_section(municipality, officers):
    late = case_due(answer_due=TODAY - datetime.timedelta(days=3))
    soon = case_due(answer_due=datetime.date(2026, 12, 23))
    assert deadline_digest_send(today=TODAY) == "sent"
    (email,) = mail.outbox
    assert email.to == quality_officer_emails()  # one mail, all of them
    assert "s.bakker@harlingen.nl" in email.to and "red@harlingen.nl" not in email.to
    assert email.extra_headers["Auto-Submitted"] == "auto-generated"
    assert "21 december 2026" in email.subject
    body = email.body
    assert "TERMIJN VERSTREKEN (1)" in body and late.registration.number in body
    assert "ANTWOORD BINNEN 5 WERKDAGEN (1)" in body and soon.registration.number in body
    assert "TUSSENTIJDSE MEDEDELING NODIG (2)" in body  # the late one can still be extended
    digest = DeadlineDigest.objects.get(date=TODAY)
    assert digest.sent_at is not None
    assert digest.summary["overdue"] == [late.registration.number]


def test_digest_run_twice_on_a_day_sends_one_mail(municipality, officers):
    case_due(answer_due=TODAY - datetime.timedelta(days=3))
    assert deadline_digest_send(today=TODAY) == "sent"
    assert deadline_digest_send(today=TODAY) == "already sent"
    assert len(mail.outbox) == 1
    assert DeadlineDigest.objects.count() == 1


def test_the_next_working_day_gets_its_own_digest(municipality, officers):
    case_due(answer_due=TODAY - datetime.timedelta(days=3))
    deadline_digest_send(today=TODAY)
    assert deadline_digest_send(today=TODAY + datetime.timedelta(days=1)) == "sent"
    assert len(mail.outbox) == 2


@pytest.mark.parametrize("day", [datetime.date(2026, 12, 25), datetime.date(2026, 12, 26), datetime.date(2027, 1, 1), datetime.date(2026, 5, 5)])
def test_no_digest_on_a_day_that_is_no_working_day(municipality, officers, day):
    case_due(answer_due=TODAY - datetime.timedelta(days=3))
    assert deadline_digest_send(today=day) == "not a working day"
    assert mail.outbox == []
    assert not DeadlineDigest.objects.exists()


def test_nothing_to_report_sends_no_mail(municipality, officers):
    case_due(answer_due=datetime.date(2027, 3, 1))
    assert deadline_digest_send(today=TODAY) == "nothing to report"
    assert mail.outbox == []


def test_without_officers_with_an_address_the_digest_is_kept_not_mailed(municipality):
    case = case_due(answer_due=TODAY - datetime.timedelta(days=3))
    get_user_model().objects.update(email="")
    assert deadline_digest_send(today=TODAY) == "no recipients"
    assert mail.outbox == []
    assert DeadlineDigest.objects.get(date=TODAY).summary["overdue"] == [case.registration.number]


class BrokenBackend(LocmemBackend):
    def send_messages(self, messages):
        raise TimeoutError("mail server timed out")


def test_a_digest_that_could_not_be_mailed_is_tried_again(municipality, officers, settings):
    case_due(answer_due=TODAY - datetime.timedelta(days=3))
    settings.EMAIL_BACKEND = "tests.test_deadline_scan.BrokenBackend"
    with pytest.raises(TimeoutError):
        deadline_digest_send(today=TODAY)
    assert not DeadlineDigest.objects.filter(sent_at__isnull=False).exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert deadline_digest_send(today=TODAY) == "sent"


def test_the_daily_task_runs_the_digest_for_today(municipality, officers):
    result = deadline_scan_daily.apply().get()
    assert result in {"sent", "nothing to report", "not a working day"}


def test_beat_runs_the_scan_every_weekday_morning_and_the_outbox_relay_often():
    from config.celery import app

    schedule = app.conf.beat_schedule
    daily = schedule["deadline-scan-daily"]
    assert daily["task"] == deadline_scan_daily.name == dispatch.DEADLINE_DIGEST
    assert daily["schedule"] == crontab(hour=6, minute=30, day_of_week="mon-fri")
    relay = schedule["outbox-relay"]
    assert relay["task"] == tasks.outbox_relay.name
    assert relay["schedule"] <= 5 * 60
    assert set(app.tasks) >= {daily["task"], relay["task"], tasks.send_outgoing_message.name}


class DepthRecordingBackend(LocmemBackend):
    """Notes how deep in transactions the mail is sent (the test's own are the floor)."""

    depths: list[int] = []

    def send_messages(self, messages):
        from django.db import connection

        DepthRecordingBackend.depths.append(len(connection.atomic_blocks))
        return super().send_messages(messages)


def test_the_digest_is_mailed_after_its_claim_commits_not_inside_it(municipality, officers, settings):
    from django.db import connection

    case_due(answer_due=TODAY - datetime.timedelta(days=3))
    settings.EMAIL_BACKEND = "tests.test_deadline_scan.DepthRecordingBackend"
    DepthRecordingBackend.depths = []
    floor = len(connection.atomic_blocks)
    assert deadline_digest_send(today=TODAY) == "sent"
    assert DepthRecordingBackend.depths == [floor]  # no transaction (and no row lock) of ours around the mail server


def test_a_run_that_died_after_mailing_does_not_mail_again(municipality, officers, monkeypatch, caplog):
    """The mail went, then the process died before it could write 'sent': the claim stays, so no second digest."""
    case_due(answer_due=TODAY - datetime.timedelta(days=3))
    real_update = DeadlineDigest.objects.filter(date=TODAY).update.__func__

    def dies_on_sent(queryset, **fields):
        if "sent_at" in fields:
            raise SystemExit("killed")
        return real_update(queryset, **fields)

    monkeypatch.setattr(type(DeadlineDigest.objects.all()), "update", dies_on_sent)
    with pytest.raises(SystemExit):
        deadline_digest_send(today=TODAY)
    monkeypatch.undo()
    with caplog.at_level("WARNING"):
        assert deadline_digest_send(today=TODAY) == "being sent"
    assert len(mail.outbox) == 1
    assert "was being sent" in caplog.text
