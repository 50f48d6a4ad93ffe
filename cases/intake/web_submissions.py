"""A web form's submission: the request stores it with its number and private link, a worker registers it.

The citizen waits only for one row: the submission, with its registration number taken from the year's
counter and the token of its private link drawn, in one statement on PostgreSQL. The thank-you page
shows both at once. Registering it (the registration, the case, its tags and timeline, the audit log)
is the worker's task (``dispatch.REGISTER_WEB``), after the response; in eager mode (``make run``) it
runs when the response has been sent. Exactly once:

- a double click, or Back and send again, meets the first submission's unique key (its words, sender
  and day: ``submission_hash``) and gets the first number; the counter's increment is undone with the
  refused row, so numbers stay gap-free;
- the task delivered twice, or a relay and the task at once, registers once: the submission's row is
  locked while it is registered, and a registered one is left alone;
- a worker that dies before, or a broker that is down: beat's inbound relay registers what has waited
  over two minutes (``submissions_waiting``).

Until it is registered the submission's ``payload`` holds what the citizen sent; then it is emptied (the
registration holds it, and is destroyed with its row at the end of its retention term).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import logging

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cases import dispatch
from cases.intake.uploads import CheckedUpload, attachments_store
from cases.models import (
    Attachment,
    CaseEvent,
    CaseNorm,
    EventKind,
    IntakeChannel,
    Registration,
    RegistrationCounter,
    TagSource,
    TagStatus,
    WebSubmission,
    new_public_token,
)
from cases.workflow.registration import Sender, content_hash, next_registration_number, register_item
from cms.models import MunicipalitySettings, ServiceNorm

logger = logging.getLogger(__name__)

WAITING_MINUTES = 2  # the task normally takes well under a second; the relay takes what waits longer


def submission_hash(*, kind: str, description: str, sender: Sender, day: datetime.date | None = None) -> str:
    """Identity of a submission: its words and its whole sender (name, e-mail, phone, address) on its day
    of receipt. A double click, Back and send again (the browser puts the text back), or a retry are one
    case; the same words another day, or from another person at the same address, are another. (A
    one-time token in the form could not see Back: the page comes back with a new one.)"""
    day = day or timezone.localdate()
    return content_hash("webform", kind, description, sender.name, sender.email, sender.phone, sender.address, day.isoformat())


# --- in the request ---------------------------------------------------------------------------------
def submission_store(*, kind: str, description: str, sender: Sender, hint: str = "", uploads: list[CheckedUpload] = ()) -> tuple[WebSubmission, bool]:
    """Store a submission once, with its number and token; return (submission, created). The same
    submission again returns the first. Its registration is queued for after the response."""
    now = timezone.now()
    hash_value = submission_hash(kind=kind, description=description, sender=sender, day=timezone.localdate(now))
    payload = {"description": description, "sender": dataclasses.asdict(sender), "hint": hint}
    stored: list[Attachment] = []
    # In the view's autocommit a refused row undoes its own statement; a transaction is needed only
    # around files, or as a savepoint in a caller's transaction, which the refusal must not break.
    guarded = transaction.atomic() if uploads or connection.in_atomic_block else contextlib.nullcontext()
    try:
        with guarded:
            if uploads:
                stored = attachments_store(registration=None, uploads=uploads)
                payload["attachments"] = [attachment.pk for attachment in stored]
            submission = _insert(kind=kind, hash_value=hash_value, received_at=now, payload=payload)
    except IntegrityError:
        for attachment in stored:  # rolled back with the row; their files were written before
            attachment.file.delete(save=False)
        first = WebSubmission.objects.filter(content_hash=hash_value).first()
        if first is None:
            raise
        return first, False
    # Committed by now: the form's view runs in autocommit, and the block above has ended. (Not
    # ``on_commit``: a caller in a transaction of its own, a test, still has it registered at its
    # response; a worker that looks before that caller commits finds nothing, and the relay registers it.)
    try:
        dispatch.enqueue(dispatch.REGISTER_WEB, submission.pk)
    except Exception:  # a broker that is down: the submission is stored, and beat's relay registers it
        logger.exception("web submission %s stored; its registration was not queued", submission.number)
    return submission, True


def _insert(*, kind: str, hash_value: str, received_at: datetime.datetime, payload: dict) -> WebSubmission:
    """The submission's row with the next number of the year. The citizen waits for this, so on PostgreSQL
    it is one statement (the counter's upsert in a CTE): a unique key that refuses the row undoes the
    counter's increment too. Django's ORM cannot put an INSERT in a CTE; other databases (SQLite, the
    embedded default) take the two statements of ``next_registration_number`` in one transaction."""
    prefix, year, token = MunicipalitySettings.current().registration_prefix, timezone.localdate(received_at).year, new_public_token()
    fields = {"token": token, "content_hash": hash_value, "kind": kind, "received_at": received_at, "payload": payload}
    if connection.vendor != "postgresql":
        with transaction.atomic():
            return WebSubmission.objects.create(number=next_registration_number(prefix=prefix, year=year), **fields)
    counter, table = RegistrationCounter._meta.db_table, WebSubmission._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH counter AS (INSERT INTO {counter} (prefix, year, last) VALUES (%s, %s, 1) "
            f"ON CONFLICT (prefix, year) DO UPDATE SET last = {counter}.last + 1 RETURNING last) "
            f"INSERT INTO {table} (number, token, content_hash, kind, received_at, payload) "
            # The number as next_registration_number writes it: at least six digits.
            "SELECT %s || lpad(last::text, greatest(6, length(last::text)), '0'), %s, %s, %s, %s, %s::jsonb FROM counter RETURNING id, number",
            [prefix, year, f"{prefix}-{year}-", token, hash_value, kind, received_at, json.dumps(payload)],
        )
        pk, number = cursor.fetchone()
    return WebSubmission(pk=pk, number=number, **fields)


# --- on the worker --------------------------------------------------------------------------------
def submission_register(*, submission_id: int) -> Registration | None:
    """Register a stored submission, with its attachments and hint, once; a registered one is left alone."""
    with transaction.atomic():
        submission = WebSubmission.objects.select_for_update().filter(pk=submission_id).first()
        if submission is None or submission.registration_id is not None:
            return None
        payload = submission.payload
        registration, created = register_item(
            channel=IntakeChannel.WEB,
            kind=submission.kind,
            text=payload["description"],
            sender=Sender(**payload["sender"]),
            received_on=timezone.localdate(submission.received_at),
            hash_value=submission.content_hash,
            number=submission.number,
            public_token=submission.token,
        )
        if created:
            for attachment in Attachment.objects.filter(pk__in=payload.get("attachments", []), registration__isnull=True):
                attachment.registration = registration
                attachment.save(update_fields=["registration"])
            _record_hint(registration=registration, hint=payload.get("hint", ""))
        else:
            # The same words were registered in the request by the release before (Back and send again across
            # the upgrade): the citizen is shown that registration. Its number was taken for nothing, and its
            # files go, as a double's always did.
            logger.warning("web submission %s was registered before as %s", submission.number, registration.number)
            for attachment in Attachment.objects.filter(pk__in=payload.get("attachments", []), registration__isnull=True):
                attachment.file.delete(save=False)
                attachment.delete()
        submission.registration, submission.payload = registration, {}
        submission.save(update_fields=["registration", "payload"])
    return registration


def _record_hint(*, registration: Registration, hint: str) -> None:
    """Keep the citizen's 'waar gaat het over?' on the case: a citizen tag for a norm, a timeline note always."""
    case = getattr(registration, "case", None)
    if not hint or case is None:
        return
    prefix, _sep, value = hint.partition(":")
    if prefix == "norm":
        # Published and active now: the form's list may be up to a minute old in the web process.
        norm = ServiceNorm.objects.published_active().filter(code=value).first()
        if norm is not None:
            CaseNorm.objects.get_or_create(case=case, norm=norm, defaults={"source": TagSource.CITIZEN, "status": TagStatus.SUGGESTED})
    CaseEvent.objects.create(case=case, kind=EventKind.NOTE, name="citizen_hint", note=hint, data={"hint": hint})


def submissions_waiting(*, older_than_minutes: int = WAITING_MINUTES, now: datetime.datetime | None = None) -> list[int]:
    """Submissions stored but not registered (the task was lost, or its worker died), oldest first."""
    cutoff = (now or timezone.now()) - datetime.timedelta(minutes=older_than_minutes)
    return list(WebSubmission.objects.filter(registration__isnull=True, received_at__lt=cutoff).order_by("pk").values_list("pk", flat=True))
