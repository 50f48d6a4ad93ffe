"""Mail that never became part of a case goes after its own term (AVG art. 5 lid 1 sub e), never while a
person still has to look at it and never when it joined a case; a rerun changes nothing."""

import datetime
from email.message import EmailMessage

import pytest
from django.utils import timezone

from cases.intake.email import email_intake
from cases.models import InboundMessage, Registration, TriageState
from cases.records.loose_mail import loose_mail_expire
from cases.tasks import expire_loose_mail
from cases.workflow.registration import Sender, register_item
from config.celery import app

pytestmark = pytest.mark.django_db


def mail(*, sender="automaat@example.nl", subject="Afwezig", body="Ik ben afwezig tot maandag.", message_id="<afwezig-1@example.nl>", **headers):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"], message["Message-ID"] = sender, "info@harlingen.nl", subject, message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return email_intake(raw=message.as_bytes(), source="eml")


def days_later(days: int) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=days)


def test_an_auto_reply_goes_after_its_term_with_its_file_and_its_duplicate_check_stays(gemeente, settings):
    settings.HANDVEST_NOISE_MAIL_DAYS = 30
    assert mail(Auto_Submitted="auto-replied").outcome == "auto_reply"
    message = InboundMessage.objects.get()
    raw_name = message.raw.name
    assert raw_name and message.from_address == "automaat@example.nl"
    assert loose_mail_expire(now=days_later(29)).messages == 0  # within its term
    assert loose_mail_expire(now=days_later(31)).messages == 1
    message.refresh_from_db()
    assert (message.from_address, message.subject, message.text, message.raw.name) == ("", "", "", "")
    assert not message.raw.storage.exists(raw_name)
    assert message.outcome == "auto_reply" and message.message_key  # still counted, and a redelivery is still a duplicate
    assert mail(Auto_Submitted="auto-replied").outcome == "duplicate"
    assert loose_mail_expire(now=days_later(62)).as_dict() == {"messages": 0, "items": 0}  # nothing left to wipe


def test_mail_that_waits_for_a_person_or_joined_a_case_is_kept(gemeente, settings):
    settings.HANDVEST_NOISE_MAIL_DAYS = 1
    # A complaint became a case: its mail goes with the case, never on this term.
    complaint = mail(sender="Jan <jan@example.nl>", subject="Klacht", body="Ik stond een uur aan de balie, dit is een klacht.", message_id="<k@x.nl>")
    assert complaint.outcome == "case"
    parked = InboundMessage.objects.create(source="eml", outcome="quarantine", reason="virus?", from_address="x@example.nl", text="?", handled=False)
    InboundMessage.objects.filter(pk=parked.pk).update(received_at=timezone.now() - datetime.timedelta(days=400))
    assert loose_mail_expire(now=days_later(400)).messages == 0
    assert InboundMessage.objects.filter(from_address="jan@example.nl").exists()
    assert InboundMessage.objects.get(pk=parked.pk).text == "?"
    InboundMessage.objects.filter(pk=parked.pk).update(handled=True)  # dealt with in triage
    assert loose_mail_expire(now=days_later(400)).messages == 1


def test_other_mail_goes_a_year_after_receipt_once_triaged(gemeente, settings):
    settings.HANDVEST_OTHER_MAIL_DAYS = 365
    received = timezone.localdate() - datetime.timedelta(days=366)

    def other(text, name, received_on=None):
        return register_item(channel="email", kind="other", text=text, sender=Sender(name=name, email=f"{name}@example.nl"), received_on=received_on)[0]

    triaged, waiting = other("Waar kan ik grofvuil kwijt?", "an", received), other("Nog een vraag", "bo", received)
    recent = other("Een recente vraag", "cor")
    Registration.objects.filter(pk__in=[triaged.pk, recent.pk]).update(triage_state=TriageState.FORWARDED)
    assert loose_mail_expire().items == 1
    assert Registration.objects.filter(pk=triaged.pk, sender_email="", text="").exists()
    assert Registration.objects.get(pk=waiting.pk).text == "Nog een vraag"  # still waits in triage
    assert Registration.objects.get(pk=recent.pk).text == "Een recente vraag"  # within its year
    assert Registration.objects.get(pk=triaged.pk).number == triaged.number  # counted still


def test_the_task_is_on_beats_schedule_and_reports_what_it_wiped(gemeente, settings):
    settings.HANDVEST_NOISE_MAIL_DAYS = 0
    mail(Auto_Submitted="auto-replied")
    InboundMessage.objects.update(received_at=timezone.now() - datetime.timedelta(days=1))
    assert app.conf.beat_schedule["loose-mail-expire"]["task"] == "cases.loose_mail_expire"
    assert expire_loose_mail.apply().get() == {"messages": 1, "items": 0}
