"""No private link or personal data in logs, URLs or a shared browser (found by the privacy review of stop 31)."""

import datetime
import logging
import smtplib
from pathlib import Path

import pytest
from django.urls import reverse

from cases.models import Case, OutgoingMessage
from tests.factories import CaseFactory, officer

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "eml"
OUR_LETTER_ID = "<letter.acknowledgement.42.7f3a9c@handvest.harlingen.nl>"
CITIZEN_EMAIL = "a.dijkstra@ziggo.nl"
CITIZEN_NAME = "Anneke Dijkstra"


def _logged(caplog) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


# --- a live private link in the log ----------------------------------------------------------------


def test_a_form_error_on_the_private_page_does_not_log_the_private_link(municipality, client, caplog):
    """An empty reply on the private page is answered 400; Django's request logger writes the path, with the private
    link's token hidden: whoever reads the log cannot open the complaint."""
    from cases.models import CitizenQuestion

    case = CaseFactory()
    question = CitizenQuestion.objects.create(case=case, text="Wanneer was het?", status="open")
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = client.post(reverse("cases:question_reply", args=[case.public_token, question.pk]), {})
    assert response.status_code == 400
    assert case.public_token not in _logged(caplog)


# --- the citizen's e-mail address in the log -------------------------------------------------------


def test_a_bounce_does_not_put_the_citizens_email_address_in_the_log(municipality, caplog):
    """A bounce's diagnostic quotes the address ('550 5.1.1 <address>'): it stays on the case's timeline, the log has
    the status code only."""
    from cases.intake.email import email_intake

    case = CaseFactory(received_on=datetime.date(2026, 11, 2), email=CITIZEN_EMAIL)
    OutgoingMessage.objects.create(
        case=case, kind="acknowledgement", channel="email", status="sent", dedupe_key=f"ack-{case.pk}", automatic=True,
        to_email=CITIZEN_EMAIL, subject="Ontvangstbevestiging", body_text="Wij hebben uw klacht ontvangen.", message_id=OUR_LETTER_ID,
    )
    caplog.clear()
    with caplog.at_level(logging.INFO):
        email_intake(raw=(FIXTURES / "bounce.eml").read_bytes(), source="eml")
    assert CITIZEN_EMAIL not in _logged(caplog)


def test_a_refused_send_does_not_put_the_citizens_email_address_in_the_log(municipality, caplog, monkeypatch):
    """Django's SMTP backend raises SMTPRecipientsRefused({address: ...}): the log names the error's class only."""
    from cases.correspondence import delivery
    from cases.correspondence.outbox import letter_queue

    case = CaseFactory(email=CITIZEN_EMAIL)
    message = letter_queue(case_id=case.pk, kind="other", subject="Vraag", body_text="Beste,", dedupe_key=f"probe-{case.pk}")

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPRecipientsRefused({CITIZEN_EMAIL: (550, b"5.1.1 User unknown")})

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        with pytest.raises(delivery.DeliveryError) as refused:
            delivery.outgoing_send(outgoing_id=message.pk)
        delivery.outgoing_record_failure(outgoing_id=message.pk, error=str(refused.value))  # what cases.tasks does
    assert CITIZEN_EMAIL not in _logged(caplog)


# --- a shared computer -----------------------------------------------------------------------------


def test_the_thanks_page_does_not_hand_the_private_link_to_the_next_user_of_the_browser(municipality, client):
    """The thank-you page shows the private link on its first view only: the next person at a library computer who
    opens /melding/ontvangen/ does not get the way into someone else's complaint."""
    data = {"kind": "complaint", "description": "De balie was dicht.", "name": "Aukje", "email": "aukje@example.nl",
            "address": "", "phone": "", "hint": "", "website": ""}
    assert client.post(reverse("intake:complaint_form"), data).status_code == 302
    case = Case.objects.get()
    url = reverse("intake:complaint_thanks")
    assert case.public_token in client.get(url).content.decode()  # the citizen, just after sending
    assert case.public_token not in client.get(url).content.decode()  # the next person, a while later


# --- personal data in URLs (gunicorn's access log, browser history) ---------------------------------


def test_a_data_request_does_not_put_the_citizens_email_and_name_in_a_url(municipality, client):
    """The AVG pages keep the person searched for in the session: no redirect carries ?email=…&name=…, which gunicorn's
    access log (--access-logfile -), a proxy and the browser's history would keep."""
    case = CaseFactory(email=CITIZEN_EMAIL, name=CITIZEN_NAME)
    client.force_login(officer("privacy"))
    response = client.post(
        reverse("handvest_privacy:erase"),
        {"email": CITIZEN_EMAIL, "name": CITIZEN_NAME, "registrations": [case.registration.pk], "wissen-reason": "verzoek 1-12"},
    )
    assert response.status_code == 302
    location = response["Location"]
    assert "dijkstra" not in location.lower(), location
