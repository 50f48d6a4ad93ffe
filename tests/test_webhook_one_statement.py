"""A webhook's message, its one-time token and its audit entry in one statement (``cases.one_statement``).

The rules:
- the audit entry written with the rows is the one django-auditlog writes for an ORM save: the same
  object, the same masked changes, the same actor, address and correlation id;
- a unique key that refuses one row stores none of them (no token, no message, no entry, no stray file),
  also inside a caller's transaction, which goes on;
- a delivery removes only a file it wrote itself, and a stored row whose taken file a refused twin
  removed writes it again, whichever of the two looks last;
- a row with an expression among its values is compiled on its own: the SQL kept for its model's plain
  rows stays as it was;
- while auditlog is disabled, no entry is written, as auditlog writes none.

PostgreSQL only: on other databases (SQLite, the embedded default) the webhook keeps its one
transaction of ORM saves (``tests/test_intake_queries.py`` counts both).
"""

import hashlib
from pathlib import Path

import pytest
from auditlog.context import disable_auditlog, set_actor
from auditlog.models import LogEntry
from django.db import IntegrityError, connection, transaction
from django.db.models import Value
from django.db.models.functions import Upper
from django.utils import timezone

from cases import one_statement
from cases.intake.email import inbound_store_at_once
from cases.models import InboundMessage, WebhookToken
from cases.one_statement import insert_at_once
from tests.factories import UserFactory
from tests.test_intake_hostile import message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("one statement of data-modifying CTEs is PostgreSQL's")


def inbound(number: int, **fields) -> InboundMessage:
    return InboundMessage(
        received_at=timezone.now(), source="webhook:mailgun", raw_sha256=f"{number:064x}", raw_size=100 + number, handled=False,
        raw=f"inbound/2026/12/{number:032x}.eml", from_address="a.dijkstra@ziggo.nl", subject="Klacht", **fields,
    )  # fmt: skip


def entry_of(instance) -> LogEntry:
    return LogEntry.objects.get_for_object(instance).get(action=LogEntry.Action.CREATE)


def test_the_audit_entry_written_with_the_rows_is_the_one_auditlog_writes_for_a_save():
    officer = UserFactory()
    with set_actor(officer, remote_addr="192.0.2.7", remote_port=44321):
        saved = inbound(1)
        saved.save()
        together = inbound(2)
        insert_at_once(together)
    ours, auditlogs = entry_of(together), entry_of(saved)
    assert InboundMessage.objects.filter(pk=together.pk).exists()
    for field in ("content_type_id", "actor_id", "actor_email", "remote_addr", "remote_port", "cid", "serialized_data", "additional_data", "changes_text"):
        assert getattr(ours, field) == getattr(auditlogs, field), field
    assert (ours.actor_id, ours.remote_addr) == (officer.pk, "192.0.2.7")
    assert (ours.object_pk, ours.object_id, ours.object_repr) == (str(together.pk), together.pk, f"e-mail {together.pk}")
    # The same fields changed, masked alike; only the row's own values differ.
    assert set(ours.changes) == set(auditlogs.changes)
    assert ours.changes["id"] == ["None", str(together.pk)]
    assert ours.changes["from_address"] == auditlogs.changes["from_address"] == ["None", "[verborgen]"]
    assert ours.changes["raw_size"] == ["None", "102"] and ours.changes["raw"] == ["None", "[verborgen]"]


def test_a_refused_row_stores_none_of_the_others():
    WebhookToken.objects.create(provider="mailgun", token="used", digest="")
    entries = LogEntry.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_at_once(WebhookToken(provider="mailgun", token="used", digest=""), inbound(3))
    assert not InboundMessage.objects.exists() and LogEntry.objects.count() == entries
    assert WebhookToken.objects.count() == 1


def test_a_used_token_with_new_bytes_leaves_no_file_and_the_callers_transaction_goes_on(settings):
    WebhookToken.objects.create(provider="mailgun", token="gebruikt", digest="")
    raw = message(message_id="<nieuw-maar-token-oud@ziggo.nl>")
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            inbound_store_at_once(raw=raw, source="webhook:mailgun", also=WebhookToken(provider="mailgun", token="gebruikt", digest=""))
        assert not InboundMessage.objects.exists()  # the transaction still answers
    assert not list(Path(settings.PRIVATE_MEDIA_ROOT).rglob("*.eml"))


def test_the_same_bytes_again_are_refused_and_the_first_messages_file_stays(settings):
    raw = message(message_id="<twee-keer-tegelijk@ziggo.nl>")
    first = inbound_store_at_once(raw=raw, source="webhook:mailgun", also=WebhookToken(provider="mailgun", token="een", digest=""))
    with pytest.raises(IntegrityError):
        inbound_store_at_once(raw=raw, source="webhook:mailgun", also=WebhookToken(provider="mailgun", token="twee", digest=""))
    assert list(InboundMessage.objects.values_list("pk", flat=True)) == [first.pk]
    assert not WebhookToken.objects.filter(token="twee").exists()  # the refused statement took its token with it
    with InboundMessage.objects.get().raw.open("rb") as handle:
        assert handle.read() == raw


def test_while_auditlog_is_disabled_the_rows_are_written_without_an_entry():
    with disable_auditlog():
        row = inbound(4)
        insert_at_once(row)
    assert InboundMessage.objects.filter(pk=row.pk).exists()
    assert not LogEntry.objects.get_for_object(row).exists()


def test_a_row_whose_file_a_refused_twin_removed_meanwhile_writes_it_again(settings, monkeypatch):
    """Twin deliveries of one message: this one takes the file the twin wrote; the twin, refused (its
    token was used), removes that file before this row commits. The row must still have its bytes."""
    from cases.intake import email as intake_email

    raw = message(message_id="<tweeling-bestand@ziggo.nl>")
    real_insert = intake_email.insert_at_once
    twin = InboundMessage(received_at=timezone.now(), source="webhook:mailgun")
    assert intake_email._keep_raw(twin, raw, hashlib.sha256(raw).hexdigest())  # the twin wrote it

    def twin_removes_it_first(*rows):
        intake_email._drop_raw(twin, raw, True)  # no row holds it yet: the refused twin removes what it wrote
        real_insert(*rows)

    monkeypatch.setattr(intake_email, "insert_at_once", twin_removes_it_first)
    stored = inbound_store_at_once(raw=raw, source="webhook:mailgun")
    stored.refresh_from_db()
    with stored.raw.open("rb") as handle:
        assert handle.read() == raw
    assert len(list(Path(settings.PRIVATE_MEDIA_ROOT).rglob("*.eml"))) == 1


def test_a_refused_writer_that_removes_its_file_after_a_twin_stored_a_row_with_it_puts_the_bytes_back(monkeypatch):
    """Found in review. A delivery refused by its used token (the provider's retry of a post whose message
    the worker already forgot as a duplicate) wrote the file, looks whether a row holds it, finds none and
    removes it; a twin of the same bytes with a new token took that file, committed its row and found the
    file still there in between. The refused writer looks again after removing, and puts the bytes back."""
    raw = message(message_id="<tweeling-na-de-blik@ziggo.nl>")
    WebhookToken.objects.create(provider="mailgun", token="al-gebruikt", digest="")
    storage = InboundMessage._meta.get_field("raw").storage
    real_delete = storage.delete
    twin = []

    def the_twin_commits_between_the_look_and_the_removal(name):
        if not twin:  # the twin: takes the file written by the refused delivery, stores its row, sees its file
            twin.append(inbound_store_at_once(raw=raw, source="webhook:mailgun", also=WebhookToken(provider="mailgun", token="nieuw", digest="")))
        real_delete(name)

    monkeypatch.setattr(storage, "delete", the_twin_commits_between_the_look_and_the_removal)
    with pytest.raises(IntegrityError):
        inbound_store_at_once(raw=raw, source="webhook:mailgun", also=WebhookToken(provider="mailgun", token="al-gebruikt", digest=""))
    stored = InboundMessage.objects.get()
    assert twin and stored.pk == twin[0].pk
    with stored.raw.open("rb") as handle:
        assert handle.read() == raw


def test_a_row_with_an_expression_is_compiled_on_its_own_and_later_rows_keep_their_values(monkeypatch):
    """Found in review: the SQL kept per model was compiled from the first row's values, so an expression
    there (``Upper(...)``, which ``Model.save()`` takes) went into it and upper-cased every later row."""
    monkeypatch.setattr(one_statement, "_COMPILED", {})
    insert_at_once(WebhookToken(provider="mailgun", token=Upper(Value("eerste")), digest=""))
    insert_at_once(WebhookToken(provider="mailgun", token="Tweede-Token", digest=""))
    assert sorted(WebhookToken.objects.values_list("token", flat=True)) == ["EERSTE", "Tweede-Token"]
