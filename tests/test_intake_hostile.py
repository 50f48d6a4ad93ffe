"""Hostile, broken and replayed mail: stored first, never lost, never doubled, never back-dated.

Each test builds the message it needs; the fuzz over thousands of mutated messages is in
``tests/test_intake_fuzz.py``.
"""

import base64
import datetime
import hashlib
import hmac
import io
import json
import logging
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from cases.intake import email as intake_email
from cases.intake import routing
from cases.intake.email import email_intake, inbound_pending
from cases.intake.parsing.mime import HEADERS_TOO_LARGE, TOO_DEEP, TOO_MANY_PARTS
from cases.models import InboundMessage, InboundOutcome, Registration, WebhookToken
from cases.tasks import inbound_relay
from cms.roles import MAILROOM
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailWarning")]

SIGNING_KEY = "key-3f1e2d9c8b7a6f5e4d3c2b1a09f8e7d6"
BASIC_AUTH = "harlingen-inbound:Zw4rt3-K4t-op-de-D1jk"
MAILGUN_URL = "/anymail/mailgun/inbound_mime/"


def message(*, message_id: str | None = "<klacht-1@ziggo.nl>", sender="a.dijkstra@ziggo.nl", body="Ik heb drie kwartier aan de balie gewacht.", extra=""):
    headers = [f"From: Anneke Dijkstra <{sender}>", "To: info@harlingen.nl", "Subject: Klacht over de balie", "Date: Mon, 2 Nov 2026 09:13:55 +0100"]
    if message_id:
        headers.append(f"Message-ID: {message_id}")
    return ("\r\n".join(headers) + extra + "\r\n\r\n" + body + "\r\n").encode()


def nested(depth: int) -> bytes:
    """A multipart message nested ``depth`` levels deep."""
    head = "From: a@example.nl\r\nTo: info@harlingen.nl\r\nSubject: diep\r\nMIME-Version: 1.0\r\n"
    opening = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth))
    closing = "".join(f"\r\n--b{i}--\r\n" for i in reversed(range(depth)))
    return (head + opening + "Content-Type: text/plain\r\n\r\nklacht\r\n" + closing).encode()


@pytest.fixture
def webhook_secrets(settings, municipality):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY, "WEBHOOK_SECRET": BASIC_AUTH}


def mailgun(raw: bytes, *, timestamp: int | None = None, token: str = "t" * 50) -> dict:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = hmac.new(SIGNING_KEY.encode(), f"{stamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"body-mime": raw.decode("utf-8", "surrogateescape"), "timestamp": stamp, "token": token, "signature": signature}


def auth() -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(BASIC_AUTH.encode()).decode()}


# --- false duplicates and collisions -------------------------------------------------------------------
def test_two_long_message_ids_that_differ_only_at_the_end_are_two_items(municipality):
    stem = "<" + "x" * 990
    first = email_intake(raw=message(message_id=stem + "a@ziggo.nl>"), source="eml")
    second = email_intake(raw=message(message_id=stem + "b@ziggo.nl>", body="Een andere klacht over de balie."), source="eml")
    assert (first.outcome, second.outcome) == (InboundOutcome.CASE, InboundOutcome.CASE)
    assert InboundMessage.objects.count() == 2 and Registration.objects.count() == 2
    assert len(Registration.objects.get(number=first.reference).message_id) > 1000  # kept whole


def test_the_same_body_from_two_senders_without_a_message_id_is_two_items(municipality):
    first = email_intake(raw=message(message_id=None), source="eml")
    second = email_intake(raw=message(message_id=None, sender="s.deboer@outlook.com"), source="eml")
    assert (first.outcome, second.outcome) == (InboundOutcome.CASE, InboundOutcome.CASE)
    assert Registration.objects.count() == 2


def test_the_same_message_with_other_bytes_is_one_item(municipality):
    first = email_intake(raw=message(), source="eml")
    again = email_intake(raw=b"Received: from mx2.harlingen.nl; Mon, 2 Nov 2026 09:14:02 +0100\r\n" + message(), source="eml")
    assert again.outcome == InboundOutcome.DUPLICATE and again.reference == first.reference
    assert InboundMessage.objects.count() == 1 and Registration.objects.count() == 1


# --- limits with a clear outcome ------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [25, 3000])
def test_a_message_nested_too_deep_is_stored_and_put_in_quarantine(municipality, settings, depth):
    result = email_intake(raw=nested(depth), source="eml")
    assert result.outcome == InboundOutcome.QUARANTINE
    stored = InboundMessage.objects.get()
    assert stored.outcome == InboundOutcome.QUARANTINE and not stored.handled and stored.raw.read() == nested(depth)
    if depth == 25:
        assert stored.reason == str(TOO_DEEP % {"limit": settings.HANDVEST_MAIL_MAX_DEPTH})


def test_a_message_with_too_many_parts_is_put_in_quarantine(municipality, settings):
    settings.HANDVEST_MAIL_MAX_PARTS = 10
    parts = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\ndeel {i}\r\n" for i in range(20))
    raw = f'From: a@example.nl\r\nSubject: veel\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n{parts}--b--\r\n'.encode()
    assert email_intake(raw=raw, source="eml").outcome == InboundOutcome.QUARANTINE
    assert InboundMessage.objects.get().reason == str(TOO_MANY_PARTS % {"limit": 10})


def test_a_message_with_a_huge_header_block_is_put_in_quarantine(municipality, settings):
    settings.HANDVEST_MAIL_MAX_HEADER_KB = 4
    raw = message(extra="".join(f"\r\nX-Filler-{i}: {'a' * 100}" for i in range(60)))
    assert email_intake(raw=raw, source="eml").outcome == InboundOutcome.QUARANTINE
    assert InboundMessage.objects.get().reason == str(HEADERS_TOO_LARGE % {"limit": 4})


def test_nul_bytes_in_headers_and_body_do_not_lose_the_message(municipality):
    raw = message(message_id="<nul\x00id@ziggo.nl>", body="klacht\x00 met een nul").replace(b"Subject: Klacht", b"Subject: Kl\x00acht")
    result = email_intake(raw=raw, source="eml")
    assert result.outcome in (InboundOutcome.CASE, InboundOutcome.TRIAGE, InboundOutcome.QUARANTINE)
    assert InboundMessage.objects.get().raw.read() == raw


def test_a_crash_while_routing_leaves_the_message_in_quarantine(municipality, monkeypatch, caplog):
    def explode(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(routing, "register_item", explode)
    with caplog.at_level(logging.ERROR, logger="cases.intake.email"):
        result = email_intake(raw=message(), source="eml")
    assert result.outcome == InboundOutcome.QUARANTINE and "RecursionError" in result.message
    assert InboundMessage.objects.get().outcome == InboundOutcome.QUARANTINE and not Registration.objects.exists()
    assert "could not be processed" in caplog.text


def test_import_eml_reports_every_file_and_goes_on_past_a_hostile_one(municipality, tmp_path):
    (tmp_path / "1-goed.eml").write_bytes(message())
    (tmp_path / "2-diep.eml").write_bytes(nested(3000))
    (tmp_path / "3-leeg.eml").write_bytes(b"")
    (tmp_path / "4-goed.eml").write_bytes(message(message_id="<klacht-2@ziggo.nl>", body="Ook de telefoon werd niet opgenomen."))
    out = io.StringIO()
    call_command("import_eml", str(tmp_path), "--json", "--no-progress", stdout=out, stderr=io.StringIO())
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [row["outcome"] for row in rows] == ["case", "quarantine", "error", "case"]
    assert InboundMessage.objects.count() == 4


# --- stored first ------------------------------------------------------------------------------------------
def test_a_message_stored_but_never_processed_is_processed_by_the_relay(municipality, monkeypatch):
    monkeypatch.setattr(intake_email, "inbound_process", lambda *args, **kwargs: (_ for _ in ()).throw(SystemExit("killed")))
    with pytest.raises(SystemExit):
        email_intake(raw=message(), source="webhook:mailgun")
    monkeypatch.undo()
    stored = InboundMessage.objects.get()
    assert stored.outcome == "" and not Registration.objects.exists()
    assert inbound_pending() == []  # not yet: the process may still be busy with it
    InboundMessage.objects.filter(pk=stored.pk).update(received_at=timezone.now() - datetime.timedelta(minutes=6))
    assert inbound_relay.apply().get() == 1
    stored.refresh_from_db()
    assert stored.outcome == InboundOutcome.CASE and Registration.objects.count() == 1
    assert inbound_relay.apply().get() == 0


@pytest.mark.parametrize("leftover", ["whole", "damaged"])
def test_a_retry_after_a_rolled_back_delivery_leaves_no_second_copy_of_the_mail(municipality, settings, leftover):
    """A webhook post whose transaction rolled back (the database went away before the commit) left
    the raw file without a row; the provider's retry takes that file when it holds the same bytes,
    and writes its own when it does not (a write cut short)."""
    from django.db import transaction

    raw = message(message_id="<rollback-1@ziggo.nl>")
    with pytest.raises(RuntimeError), transaction.atomic():
        email_intake(raw=raw, source="webhook:mailgun", defer=True)
        raise RuntimeError("the database went away before the commit")
    assert not InboundMessage.objects.exists()
    files = list(Path(settings.PRIVATE_MEDIA_ROOT).rglob("*.eml"))
    assert len(files) == 1
    if leftover == "damaged":
        files[0].write_bytes(raw[:20])
    email_intake(raw=raw, source="webhook:mailgun", defer=True)
    stored = InboundMessage.objects.get()
    with stored.raw.open("rb") as handle:
        assert handle.read() == raw
    after = sorted(Path(settings.PRIVATE_MEDIA_ROOT).rglob("*.eml"))
    assert after == files if leftover == "whole" else len(after) == 2


@pytest.mark.parametrize("where", ["erased", "an earlier month", "missing"])
def test_the_same_mail_again_leaves_no_second_copy_when_its_first_file_is_not_where_a_new_one_would_go(municipality, settings, where):
    """The hash's unique key refuses the second delivery after its file was written: that file goes
    again when no row holds it (the first was wiped by the retention rules, or lies in the folder of an
    earlier month), and stays when the first row names it but its file had gone missing from disk."""
    raw = message(message_id="<twee-keer@ziggo.nl>")
    email_intake(raw=raw, source="webhook:mailgun", defer=True)
    stored = InboundMessage.objects.get()
    first = Path(stored.raw.path)
    first.unlink()
    if where == "erased":
        InboundMessage.objects.filter(pk=stored.pk).update(raw="")  # as cases.records.wiping does
    elif where == "an earlier month":
        moved = Path(settings.PRIVATE_MEDIA_ROOT) / "inbound" / "1999" / "01" / first.name
        moved.parent.mkdir(parents=True, exist_ok=True)
        moved.write_bytes(raw)
        InboundMessage.objects.filter(pk=stored.pk).update(raw=str(moved.relative_to(settings.PRIVATE_MEDIA_ROOT)))
    before = sorted(Path(settings.PRIVATE_MEDIA_ROOT).rglob("*.eml"))
    result = email_intake(raw=raw, source="webhook:mailgun", defer=True)
    assert result.inbound_id == stored.pk and InboundMessage.objects.count() == 1
    after = sorted(Path(settings.PRIVATE_MEDIA_ROOT).rglob("*.eml"))
    if where == "missing":
        assert after == [first] and first.read_bytes() == raw  # the row's file is back, once
    else:
        assert after == before


def test_a_twin_delivery_that_took_this_deliverys_file_and_won_the_insert_keeps_it(municipality, settings, monkeypatch):
    """Two deliveries of the same bytes at the same moment: the first writes the file, the second finds
    it, takes it and commits first; the first's insert is refused and must not delete the file."""
    raw = message(message_id="<tweeling@ziggo.nl>")
    real_keep = intake_email._keep_raw

    def keep_and_lose_the_race(inbound, raw_bytes, digest):
        wrote = real_keep(inbound, raw_bytes, digest)
        InboundMessage.objects.create(received_at=timezone.now(), source="webhook:mailgun", raw_sha256=digest, raw=inbound.raw.name, raw_size=len(raw_bytes))
        return wrote

    monkeypatch.setattr(intake_email, "_keep_raw", keep_and_lose_the_race)
    email_intake(raw=raw, source="webhook:mailgun", defer=True)
    stored = InboundMessage.objects.get()
    assert Path(stored.raw.path).read_bytes() == raw


# --- replay and the date of receipt ---------------------------------------------------------------------
def test_a_replayed_webhook_older_than_the_window_is_refused_and_logged(client, webhook_secrets, settings, caplog):
    old = int(time.time()) - settings.HANDVEST_WEBHOOK_MAX_AGE_SECONDS - 60
    with caplog.at_level(logging.WARNING, logger="cases.intake.webhooks"):
        response = client.post(MAILGUN_URL, data=mailgun(message(), timestamp=old), **auth())
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()
    assert "replayed" in caplog.text


def test_a_webhook_token_is_accepted_once(client, webhook_secrets, caplog):
    assert client.post(MAILGUN_URL, data=mailgun(message(), token="a" * 50), **auth()).status_code == 200
    assert WebhookToken.objects.filter(provider="mailgun", token="a" * 50).exists()
    with caplog.at_level(logging.WARNING, logger="cases.intake.webhooks"):
        replay = client.post(MAILGUN_URL, data=mailgun(message(message_id="<nog-een@ziggo.nl>"), token="a" * 50), **auth())
    assert replay.status_code == 400 and "used before" in caplog.text
    assert Registration.objects.count() == 1


def test_the_same_post_again_with_its_token_is_the_providers_retry_and_gets_200(client, webhook_secrets, caplog):
    """Mailgun retries a post whose answer it never got (a timeout) with the same token and bytes: a 400
    would make it retry for hours. It is answered 200 and nothing is stored or registered twice."""
    post = mailgun(message(), token="b" * 50)
    assert client.post(MAILGUN_URL, data=post, **auth()).status_code == 200
    with caplog.at_level(logging.INFO, logger="cases.intake.webhooks"):
        again = client.post(MAILGUN_URL, data=post, **auth())
    assert again.status_code == 200 and "the same post again" in caplog.text
    assert Registration.objects.count() == 1 and InboundMessage.objects.count() == 1
    assert WebhookToken.objects.filter(token="b" * 50).count() == 1


def test_a_token_remembered_without_its_post_is_refused_as_before(client, webhook_secrets, caplog):
    WebhookToken.objects.create(provider="mailgun", token="c" * 50)  # remembered before tokens kept their post's digest
    with caplog.at_level(logging.WARNING, logger="cases.intake.webhooks"):
        response = client.post(MAILGUN_URL, data=mailgun(message(), token="c" * 50), **auth())
    assert response.status_code == 400 and "used before" in caplog.text
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_a_worker_the_same_post_again_with_its_token_gets_200_and_is_queued_once(client, webhook_secrets, monkeypatch, caplog):
    from cases import dispatch
    from cases.intake import webhooks

    monkeypatch.setattr(webhooks, "models_stay_out", lambda: True)
    queued = []
    monkeypatch.setattr(dispatch, "enqueue", lambda name, *args, **kwargs: queued.append(args))
    post = mailgun(message(), token="d" * 50)
    assert client.post(MAILGUN_URL, data=post, **auth()).status_code == 200
    with caplog.at_level(logging.INFO, logger="cases.intake.webhooks"):
        assert client.post(MAILGUN_URL, data=post, **auth()).status_code == 200
    assert "the same post again" in caplog.text
    assert InboundMessage.objects.count() == 1 and len(queued) == 1
    assert WebhookToken.objects.filter(token="d" * 50).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_a_worker_a_replayed_token_is_refused_by_its_key_and_stores_nothing(client, webhook_secrets, monkeypatch, caplog):
    from cases import dispatch
    from cases.intake import webhooks

    monkeypatch.setattr(webhooks, "models_stay_out", lambda: True)  # gunicorn with a broker
    queued = []
    monkeypatch.setattr(dispatch, "enqueue", lambda name, *args, **kwargs: queued.append(args))
    assert client.post(MAILGUN_URL, data=mailgun(message(), token="r" * 50), **auth()).status_code == 200
    with caplog.at_level(logging.WARNING, logger="cases.intake.webhooks"):
        replay = client.post(MAILGUN_URL, data=mailgun(message(message_id="<nog-een@ziggo.nl>"), token="r" * 50), **auth())
    assert replay.status_code == 400 and "used before" in caplog.text
    assert InboundMessage.objects.count() == 1 and len(queued) == 1
    assert WebhookToken.objects.filter(token="r" * 50).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_a_worker_the_same_message_with_a_new_token_is_one_message_and_the_new_token_is_kept(client, webhook_secrets, monkeypatch, caplog):
    """The provider's retry of a post it thinks failed comes with a new signature: the message is taken
    once, and the new token is used up too, so its signature cannot carry another message later."""
    from cases import dispatch
    from cases.intake import webhooks

    monkeypatch.setattr(webhooks, "models_stay_out", lambda: True)
    queued = []
    monkeypatch.setattr(dispatch, "enqueue", lambda name, *args, **kwargs: queued.append(args))
    assert client.post(MAILGUN_URL, data=mailgun(message(), token="s" * 50), **auth()).status_code == 200
    assert client.post(MAILGUN_URL, data=mailgun(message(), token="u" * 50), **auth()).status_code == 200
    stored = InboundMessage.objects.get()
    assert set(queued) == {(stored.pk,)}  # not processed yet (no worker here): queued again, processed once
    assert set(WebhookToken.objects.values_list("token", flat=True)) == {"s" * 50, "u" * 50}
    assert [path.name for path in Path(stored.raw.path).parent.iterdir() if path.name.startswith(stored.raw_sha256[:32])] == [Path(stored.raw.path).name]
    with caplog.at_level(logging.WARNING, logger="cases.intake.webhooks"):
        forged = client.post(MAILGUN_URL, data=mailgun(message(message_id="<vals@ziggo.nl>", body="Iets anders."), token="u" * 50), **auth())
    assert forged.status_code == 400 and "used before" in caplog.text
    assert InboundMessage.objects.count() == 1 and set(queued) == {(stored.pk,)}


def test_the_date_of_receipt_of_a_webhook_is_its_arrival_not_the_senders_date(client, webhook_secrets):
    raw = message().replace(b"Date: Mon, 2 Nov 2026", b"Date: Mon, 4 Mar 2024")
    before = timezone.now()
    assert client.post(MAILGUN_URL, data=mailgun(raw), **auth()).status_code == 200
    stored = InboundMessage.objects.get()
    assert stored.received_at >= before
    assert Registration.objects.get().received_on == timezone.localdate()


def test_an_imported_message_without_a_received_header_is_dated_by_its_import_not_its_date_header(municipality):
    email_intake(raw=message(), source="eml", date_from_headers=True)
    assert Registration.objects.get().received_on == timezone.localdate()


def test_a_hostile_webhook_post_is_stored_and_answered_200(client, webhook_secrets):
    response = client.post(MAILGUN_URL, data=mailgun(nested(3000)), **auth())
    assert response.status_code == 200
    assert InboundMessage.objects.get().outcome == InboundOutcome.QUARANTINE


def test_attachments_beyond_the_maximum_count_are_dropped_with_a_note_and_the_mail_is_registered(municipality, settings):
    settings.HANDVEST_MAIL_MAX_ATTACHMENT_COUNT = 3
    parts = "".join(
        f'--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="bijlage{i}.pdf"\r\n\r\n%PDF-1.4 deel {i}\r\n' for i in range(5)
    )
    body = "--b\r\nContent-Type: text/plain\r\n\r\nIk heb drie kwartier gewacht, onacceptabel.\r\n" + parts + "--b--\r\n"
    raw = message(extra='\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"', body=body)
    result = email_intake(raw=raw, source="eml")
    assert result.outcome == InboundOutcome.CASE
    registration = Registration.objects.get()
    assert registration.attachments.count() == 3
    assert "meer dan 3 bijlagen" in result.message and "bijlage4.pdf" in result.message


def test_the_mailroom_sees_the_quarantine_and_downloads_the_original(client, municipality):
    email_intake(raw=nested(3000), source="webhook:mailgun")
    email_intake(raw=message(), source="webhook:mailgun")  # processed: not in quarantine
    clerk = UserFactory(username="postkamer", role=MAILROOM)
    client.force_login(clerk)
    page = client.get("/beheer/postkamer/quarantaine/")
    assert page.status_code == 200 and "1 bericht in quarantaine" in page.content.decode()
    held, processed = InboundMessage.objects.order_by("pk")
    original = client.get(f"/beheer/postkamer/quarantaine/{held.pk}/origineel/")
    assert original.status_code == 200 and b"".join(original.streaming_content) == nested(3000)
    assert client.get(f"/beheer/postkamer/quarantaine/{processed.pk}/origineel/").status_code == 404
