"""Inbound mail webhooks (django-anymail): a valid and a forged post for each supported ESP.

Mailgun signs its posts (HMAC-SHA256 with MAILGUN_WEBHOOK_SIGNING_KEY); Postmark, SendGrid and
Amazon SES authenticate with the shared basic-auth secret (ANYMAIL WEBHOOK_SECRET). Anymail does
not verify SNS message signatures for SES (its code says "Future"), so for SES the basic-auth
secret in the SNS subscription URL is the check.
"""

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest

from cases.models import Case, InboundMessage, InboundOutcome, Registration

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailWarning")]

FIXTURES = Path(__file__).parent / "fixtures" / "eml"
SIGNING_KEY = "key-3f1e2d9c8b7a6f5e4d3c2b1a09f8e7d6"
BASIC_AUTH = "harlingen-inbound:Zw4rt3-K4t-op-de-D1jk"
PLAIN = (FIXTURES / "plain-klacht.eml").read_bytes()


@pytest.fixture(autouse=True)
def webhook_secrets(settings, municipality):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY, "WEBHOOK_SECRET": BASIC_AUTH}


def auth_header(credentials: str = BASIC_AUTH) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def registered_once() -> bool:
    return Registration.objects.count() == 1 and Case.objects.count() == 1 and InboundMessage.objects.count() == 1


def nothing_registered() -> bool:
    return not Registration.objects.exists() and not InboundMessage.objects.exists()


# --- Mailgun ---------------------------------------------------------------------------------------------
# Anymail checks the shared basic-auth secret for every ESP once it is set, so Mailgun's route URL
# carries it too (https://user:password@host/anymail/mailgun/inbound_mime/), and the signature on top.
MAILGUN_URL = "/anymail/mailgun/inbound_mime/"


def mailgun_post(raw: bytes = PLAIN, *, key: str = SIGNING_KEY, token: str = "c2d8a7b6e5f4c3d2b1a0f9e8d7c6b5a4a3b2c1d0e9f8a7b6c5", signed: bool = True) -> dict:
    timestamp = str(int(time.time()))
    data = {
        "body-mime": raw.decode("utf-8"),
        "sender": "a.dijkstra@ziggo.nl",
        "recipient": "info@harlingen.nl",
        "timestamp": timestamp,
        "token": token,
    }
    if signed:
        data["signature"] = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return data


def test_mailgun_signed_post_is_registered(client):
    response = client.post(MAILGUN_URL, **auth_header(), data=mailgun_post())
    assert response.status_code == 200
    assert registered_once()
    assert InboundMessage.objects.get().source == "webhook:mailgun"
    assert Registration.objects.get().sender_email == "a.dijkstra@ziggo.nl"


def test_mailgun_mime_sent_as_a_file_part_is_registered(client):
    """A signed post whose body-mime comes as a file part (multipart) is read from that part, its bytes as they are."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = mailgun_post()
    data["body-mime"] = SimpleUploadedFile("message.mime", PLAIN, content_type="message/rfc822")
    response = client.post(MAILGUN_URL, **auth_header(), data=data)
    assert response.status_code == 200
    assert registered_once()
    assert Registration.objects.get().sender_email == "a.dijkstra@ziggo.nl"


def test_a_signed_multipart_post_anymail_cannot_read_is_kept_as_it_came(client, caplog):
    """A signed multipart post with no message anymail can read is stored with its fields and files for a person
    and answered 200, never a 500 that makes the ESP give up on the mail."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = mailgun_post()
    del data["body-mime"]
    data["attachment-1"] = SimpleUploadedFile("brief.bin", b"\x00\x01 onleesbaar", content_type="application/octet-stream")
    with caplog.at_level("ERROR"):
        response = client.post(MAILGUN_URL, **auth_header(), data=data)
    assert response.status_code == 200
    stored = InboundMessage.objects.get()
    assert stored.outcome in ("quarantine", "error", "triage") and stored.raw_size > 0  # before a person, whichever
    assert any("could not be read by anymail" in record.getMessage() for record in caplog.records)


def test_mailgun_fully_parsed_post_is_registered(client):
    # The route URL without "mime": Mailgun posts its parsed fields instead of the raw message.
    data = mailgun_post()
    del data["body-mime"]
    data.update(
        {
            "message-headers": json.dumps(
                [
                    ["From", "Sietse de Boer <sietse.deboer@outlook.com>"],
                    ["To", "info@harlingen.nl"],
                    ["Subject", "Klacht: website onbereikbaar"],
                    ["Message-Id", "<mailgun-parsed-1@outlook.com>"],
                    ["Date", "Tue, 3 Nov 2026 20:02:03 +0100"],
                ]
            ),
            "body-plain": "De website ligt er al de hele avond uit. Op mijn telefoon werkt niets, onacceptabel.",
            "subject": "Klacht: website onbereikbaar",
            "from": "Sietse de Boer <sietse.deboer@outlook.com>",
        }
    )
    response = client.post("/anymail/mailgun/inbound/", **auth_header(), data=data)
    assert response.status_code == 200
    registration = Registration.objects.get()
    assert registration.message_id == "<mailgun-parsed-1@outlook.com>" and registration.sender_name == "Sietse de Boer"
    assert "ligt er al de hele avond uit" in registration.text


def test_mailgun_post_signed_with_another_key_is_rejected_and_registers_nothing(client):
    response = client.post(MAILGUN_URL, **auth_header(), data=mailgun_post(key="key-van-iemand-anders"))
    assert response.status_code == 400
    assert nothing_registered()


def test_a_forged_post_is_one_warning_line_without_a_traceback(client, caplog):
    """Scanners post forged webhooks all day: each refusal is logged as one WARNING line saying why, not an ERROR
    with a traceback that buries the real errors."""
    with caplog.at_level("INFO"):
        response = client.post(MAILGUN_URL, **auth_header(), data=mailgun_post(key="key-van-iemand-anders"))
    assert response.status_code == 400
    (refused,) = [record for record in caplog.records if record.name == "django.security.AnymailWebhookValidationFailure"]
    assert (refused.levelname, refused.exc_info) == ("WARNING", None)
    assert "signature" in refused.getMessage().lower()


def test_mailgun_post_without_the_basic_auth_secret_is_rejected_even_when_signed(client):
    response = client.post(MAILGUN_URL, data=mailgun_post())
    assert response.status_code == 400
    assert nothing_registered()


def test_mailgun_unsigned_post_is_rejected_and_registers_nothing(client):
    response = client.post(MAILGUN_URL, **auth_header(), data=mailgun_post(signed=False))
    assert response.status_code == 400
    assert nothing_registered()


def test_mailgun_retry_after_a_timeout_returns_200_and_changes_nothing(client):
    first = client.post(MAILGUN_URL, **auth_header(), data=mailgun_post())
    second = client.post(MAILGUN_URL, **auth_header(), data=mailgun_post(token="another-token-for-the-retry-0123456789abcdef01234"))
    assert (first.status_code, second.status_code) == (200, 200)
    assert registered_once()


def test_mailgun_post_is_refused_when_no_signing_key_is_configured(client, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": ""}
    response = client.post(MAILGUN_URL, **auth_header(), data=mailgun_post(key=""))
    assert response.status_code == 400
    assert nothing_registered()


# --- Postmark ---------------------------------------------------------------------------------------------


def postmark_payload(raw: bytes = PLAIN) -> str:
    return json.dumps(
        {
            "FromName": "Anneke Dijkstra",
            "From": "a.dijkstra@ziggo.nl",
            "FromFull": {"Email": "a.dijkstra@ziggo.nl", "Name": "Anneke Dijkstra", "MailboxHash": ""},
            "To": "info@harlingen.nl",
            "ToFull": [{"Email": "info@harlingen.nl", "Name": "Gemeente Harlingen", "MailboxHash": ""}],
            "OriginalRecipient": "info@harlingen.nl",
            "Subject": "Klacht over de balie: drie kwartier gewacht",
            "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
            "Date": "Mon, 2 Nov 2026 09:13:55 +0100",
            "Headers": [{"Name": "Return-Path", "Value": "<a.dijkstra@ziggo.nl>"}],
            "RawEmail": raw.decode("utf-8"),
            "Attachments": [],
        }
    )


def test_postmark_post_with_the_secret_is_registered(client):
    response = client.post("/anymail/postmark/inbound/", data=postmark_payload(), content_type="application/json", **auth_header())
    assert response.status_code == 200
    assert registered_once() and InboundMessage.objects.get().source == "webhook:postmark"


def test_postmark_post_with_parsed_fields_only_is_registered(client):
    payload = {
        "FromFull": {"Email": "s.deboer@outlook.com", "Name": "Sietse de Boer"},
        "ToFull": [{"Email": "info@harlingen.nl", "Name": ""}],
        "Subject": "Klacht: website onbereikbaar",
        "MessageID": "0d8b4f1e-postmark-parsed",
        "Date": "Tue, 3 Nov 2026 20:02:03 +0100",
        "Headers": [{"Name": "Message-ID", "Value": "<parsed-fields-only@outlook.com>"}],
        "TextBody": "De website ligt er al de hele avond uit. Dit is de derde keer deze maand, onacceptabel.",
        "HtmlBody": "",
        "Attachments": [],
    }
    response = client.post("/anymail/postmark/inbound/", data=json.dumps(payload), content_type="application/json", **auth_header())
    assert response.status_code == 200
    registration = Registration.objects.get()
    assert registration.message_id == "<parsed-fields-only@outlook.com>" and "ligt er al de hele avond uit" in registration.text


def test_postmark_post_with_a_wrong_secret_is_rejected_and_registers_nothing(client):
    response = client.post("/anymail/postmark/inbound/", data=postmark_payload(), content_type="application/json", **auth_header("harlingen-inbound:geraden"))
    assert response.status_code == 400
    assert nothing_registered()


def test_postmark_post_without_credentials_is_rejected_and_registers_nothing(client):
    response = client.post("/anymail/postmark/inbound/", data=postmark_payload(), content_type="application/json")
    assert response.status_code == 400
    assert nothing_registered()


def test_postmark_post_is_refused_when_no_secret_is_configured(client, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": ""}
    response = client.post("/anymail/postmark/inbound/", data=postmark_payload(), content_type="application/json")
    assert response.status_code == 400
    assert nothing_registered()


# --- SendGrid ---------------------------------------------------------------------------------------------


def sendgrid_post(raw: bytes = PLAIN) -> dict:
    # "Send Raw" inbound parse: the full MIME message in the "email" field.
    return {
        "email": raw.decode("utf-8"),
        "envelope": json.dumps({"to": ["info@harlingen.nl"], "from": "a.dijkstra@ziggo.nl"}),
        "charsets": json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8"}),
        "spam_score": "0.1",
        "SPF": "pass",
    }


def test_sendgrid_post_with_the_secret_is_registered(client):
    response = client.post("/anymail/sendgrid/inbound/", data=sendgrid_post(), **auth_header())
    assert response.status_code == 200
    assert registered_once() and InboundMessage.objects.get().source == "webhook:sendgrid"


def test_sendgrid_post_with_a_wrong_secret_is_rejected_and_registers_nothing(client):
    response = client.post("/anymail/sendgrid/inbound/", data=sendgrid_post(), **auth_header("iemand:anders"))
    assert response.status_code == 400
    assert nothing_registered()


def test_sendgrid_post_without_credentials_is_rejected_and_registers_nothing(client):
    response = client.post("/anymail/sendgrid/inbound/", data=sendgrid_post())
    assert response.status_code == 400
    assert nothing_registered()


# --- Amazon SES (an SNS notification) ---------------------------------------------------------------------


def ses_notification(raw: bytes = PLAIN, *, sns_message_id: str = "5d0b3c6e-1b7a-5c2d-9e8f-0a1b2c3d4e5f") -> tuple[str, dict]:
    ses_event = {
        "notificationType": "Received",
        "mail": {
            "timestamp": "2026-11-02T08:14:07.123Z",
            "source": "a.dijkstra@ziggo.nl",
            "messageId": "jili9m351il3gkburn7o2f0u6788stij94c8ld01",
            "destination": ["info@harlingen.nl"],
        },
        "receipt": {
            "timestamp": "2026-11-02T08:14:07.123Z",
            "recipients": ["info@harlingen.nl"],
            "spamVerdict": {"status": "PASS"},
            "virusVerdict": {"status": "PASS"},
            "action": {"type": "SNS", "topicArn": "arn:aws:sns:eu-west-1:123456789012:handvest-inbound", "encoding": "BASE64"},
        },
        "content": base64.b64encode(raw).decode("ascii"),
    }
    body = {
        "Type": "Notification",
        "MessageId": sns_message_id,
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:handvest-inbound",
        "Subject": "Amazon SES Email Receipt Notification",
        "Message": json.dumps(ses_event),
        "Timestamp": "2026-11-02T08:14:07.456Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+..",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:eu-west-1:123456789012:handvest-inbound:1",
    }
    headers = {"HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification", "HTTP_X_AMZ_SNS_MESSAGE_ID": sns_message_id}
    return json.dumps(body), headers


def test_amazon_ses_notification_with_the_secret_is_registered(client):
    body, headers = ses_notification()
    response = client.post("/anymail/amazon_ses/inbound/", data=body, content_type="text/plain; charset=UTF-8", **headers, **auth_header())
    assert response.status_code == 200
    assert registered_once() and InboundMessage.objects.get().source == "webhook:amazon_ses"


def test_amazon_ses_windows_1252_mail_arrives_readable(client):
    body, headers = ses_notification((FIXTURES / "windows-1252.eml").read_bytes())
    response = client.post("/anymail/amazon_ses/inbound/", data=body, content_type="text/plain; charset=UTF-8", **headers, **auth_header())
    assert response.status_code == 200
    assert "(€ 312,48)" in Registration.objects.get().text


def test_amazon_ses_notification_without_credentials_is_challenged_and_registers_nothing(client):
    body, headers = ses_notification()
    response = client.post("/anymail/amazon_ses/inbound/", data=body, content_type="text/plain; charset=UTF-8", **headers)
    assert response.status_code == 401
    assert nothing_registered()


def test_amazon_ses_notification_with_a_wrong_secret_is_rejected_and_registers_nothing(client):
    body, headers = ses_notification()
    response = client.post("/anymail/amazon_ses/inbound/", data=body, content_type="text/plain; charset=UTF-8", **headers, **auth_header("x:y"))
    assert response.status_code == 400
    assert nothing_registered()


def test_amazon_ses_notification_whose_headers_do_not_match_the_body_is_rejected(client):
    body, headers = ses_notification()
    headers["HTTP_X_AMZ_SNS_MESSAGE_ID"] = "someone-elses-id"
    response = client.post("/anymail/amazon_ses/inbound/", data=body, content_type="text/plain; charset=UTF-8", **headers, **auth_header())
    assert response.status_code == 400
    assert nothing_registered()


def test_amazon_ses_redelivery_returns_200_and_changes_nothing(client):
    body, headers = ses_notification()
    again, again_headers = ses_notification(sns_message_id="redelivered-0000-1111")
    first = client.post("/anymail/amazon_ses/inbound/", data=body, content_type="text/plain; charset=UTF-8", **headers, **auth_header())
    second = client.post("/anymail/amazon_ses/inbound/", data=again, content_type="text/plain; charset=UTF-8", **again_headers, **auth_header())
    assert (first.status_code, second.status_code) == (200, 200)
    assert registered_once()


# --- the same rules as the import ---------------------------------------------------------------------------


def test_a_bounce_posted_by_an_esp_is_never_registered(client):
    bounce = (FIXTURES / "bounce.eml").read_bytes()
    response = client.post("/anymail/sendgrid/inbound/", data=sendgrid_post(bounce), **auth_header())
    assert response.status_code == 200
    assert not Registration.objects.exists()
    assert InboundMessage.objects.get().outcome == InboundOutcome.AUTO_REPLY


def test_garbage_posted_by_an_esp_is_kept_for_an_officer_and_answered_200(client):
    body, headers = ses_notification(b"\x00\x01\x02 dit is geen e-mail \xff\xfe")
    response = client.post("/anymail/amazon_ses/inbound/", data=body, content_type="text/plain; charset=UTF-8", **headers, **auth_header())
    assert response.status_code == 200
    inbound = InboundMessage.objects.get()
    assert inbound.outcome == InboundOutcome.ERROR and inbound.raw_size > 0
    assert not Registration.objects.exists()


# --- with a worker: the web process stores, the worker registers ---------------------------------------


def test_with_a_worker_the_web_process_only_stores_and_the_worker_registers_with_the_trained_kind(client, monkeypatch, django_capture_on_commit_callbacks):
    from cases import dispatch
    from cases.intake import webhooks
    from cases.tasks import process_inbound

    queued = []
    monkeypatch.setattr(webhooks, "models_stay_out", lambda: True)  # as in gunicorn with a broker
    monkeypatch.setattr(dispatch, "enqueue", lambda name, *args, **kwargs: queued.append((name, args)))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(MAILGUN_URL, **auth_header(), data=mailgun_post())
    assert response.status_code == 200
    stored = InboundMessage.objects.get()
    assert stored.outcome == "" and not Registration.objects.exists()  # stored, not yet processed
    assert queued == [(dispatch.PROCESS_INBOUND, (stored.pk,))]
    decided = []
    monkeypatch.setattr("cases.intake.classify.tagging.kind_classifier_if_ready", lambda: lambda text: decided.append(text) or ("complaint", 0.97))
    assert process_inbound(stored.pk) == InboundOutcome.CASE  # the worker's task
    assert registered_once() and Case.objects.get().kind == "complaint"
    assert decided, "the worker decided the kind with the trained classifier"
    assert process_inbound(stored.pk) == InboundOutcome.DUPLICATE  # delivered twice: nothing doubled
    assert registered_once()
