"""Sending what waits in the outbox, exactly once: e-mail (any anymail ESP) or a PDF letter for the mailroom.

``outgoing_send`` is called by the Celery task ``cases.tasks.send_outgoing_message``. It locks the row,
skips it when it is no longer queued, decides e-mail or post, sends or renders the PDF letter,
marks it, and adds the letter to the citizen's timeline. Retried deliveries find the row sent
and do nothing. Good mail citizenship: automatic mail is marked (RFC 3834), never goes to robot
addresses, and is rate-limited per address.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from dataclasses import dataclass
from email.utils import formataddr

import requests
import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import errors
from cases.correspondence.composing import FORMAL_KINDS, letter_context, render_text, tidy_text
from cases.correspondence.departure import letter_left
from cases.correspondence.outbox import acknowledgement_queue, delivery_channel, queue_send, send_after_commit
from cases.correspondence.pdf import letter_render_pdf, pdf_filename
from cases.correspondence.suppression import suppression_reason
from cases.models import Case, DeliveryChannel, OutboxStatus, OutgoingMessage
from cases.permissions import HANDLE_CASE, require
from cms.models import MunicipalitySettings

logger = logging.getLogger(__name__)

# An officer may send these again; an 'unknown' one keeps its Message-ID, so a mail program folds a double.
RESENDABLE = (OutboxStatus.FAILED, OutboxStatus.SUPPRESSED, OutboxStatus.UNKNOWN)
NOT_RESENDABLE = _("Alleen een mislukt, niet verstuurd of onbekend bericht kan opnieuw in de wachtrij (nu: %(status)s).")

# Why a letter was not sent, or not yet (stored in OutgoingMessage.last_error); why one may not go: ``suppression``.
REASON_SEND_FAILED = _("Versturen mislukt na %(attempts)s pogingen: %(error)s")
REASON_RETRYING = _("Poging %(attempts)s mislukt, wordt opnieuw geprobeerd: %(error)s")
REASON_UNKNOWN = _(
    "Verzonden? Onbekend: het versturen werd onderbroken. Vraag de inwoner of het bericht aankwam, of verstuur het opnieuw "
    "(met hetzelfde Message-ID, zodat een mailprogramma een dubbele ontvangst samenvoegt)."
)

REASON_NO_ANSWER = _(
    "Verzonden? Onbekend: het bericht ging naar de verzenddienst, maar diens antwoord bleef uit (%(error)s). Vraag de inwoner of het "
    "bericht aankwam, of verstuur het opnieuw (met hetzelfde Message-ID, zodat een mailprogramma een dubbele ontvangst samenvoegt)."
)


# Why these numbers: an ESP or SMTP server that is down usually comes back within minutes to an
# hour. 7 attempts, the retries 1, 2, 4, 8, 16 and 32 minutes apart, span about an hour before a
# letter is 'failed' and shown to officers. The wait follows the row's attempts, not a task's
# retries: a chain restarted by the relay, or the acknowledgement's first refusal, goes on backing off.
SEND_MAX_ATTEMPTS = 7
SEND_BACKOFF_SECONDS = 60


def backoff_seconds(attempts: int) -> int:
    """The wait after the ``attempts``-th refused attempt."""
    return SEND_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)


def _due_after_refusal(attempts: int) -> datetime.datetime:
    """When the next attempt is due after the ``attempts``-th refusal (``OutgoingMessage.retry_at``)."""
    return timezone.now() + datetime.timedelta(seconds=backoff_seconds(attempts))


def retry_countdown(message: OutgoingMessage) -> int:
    """Seconds until a refused row's next attempt is due (``retry_at``)."""
    if message.retry_at is None:
        return backoff_seconds(message.attempts)
    return max(1, round((message.retry_at - timezone.now()).total_seconds()))


class DeliveryError(Exception):
    """The mail backend refused or failed; the task retries with backoff."""


# --- the e-mail ----------------------------------------------------------------------------------
def _municipality_footer(message: OutgoingMessage, case: Case) -> str:
    return tidy_text(render_text("letters/email_footer.txt", letter_context(case=case, message=message)))


def email_for(message: OutgoingMessage, case: Case, pdf: bytes | None = None) -> EmailMessage:
    """The e-mail of an outbox row: our Message-ID, threading headers, RFC 3834 headers when automatic."""
    municipality = MunicipalitySettings.current()
    headers = {"Message-ID": message.message_id}
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
    if message.references:
        headers["References"] = message.references
    if message.automatic:
        # RFC 3834: mark automatic mail, and ask Exchange/Outlook not to answer it with an out-of-office.
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
    body = f"{message.body_text}\n\n-- \n{_municipality_footer(message, case)}\n"
    sender = settings.DEFAULT_FROM_EMAIL
    if "<" not in sender:
        sender = formataddr((municipality.name, sender))  # "Gemeente Harlingen" <info@harlingen.nl>
    email = EmailMessage(
        subject=message.subject,
        body=body,
        from_email=sender,
        to=[message.to_email],
        reply_to=[municipality.complaint_email] if municipality.complaint_email else None,
        headers=headers,
    )
    if pdf is not None:
        email.attach(pdf_filename(message, case), pdf, "application/pdf")
    return email


# --- sending -------------------------------------------------------------------------------------
def _suppress(message: OutgoingMessage, case: Case, reason: str) -> str:
    message.status = OutboxStatus.SUPPRESSED
    message.last_error = reason
    message.save(update_fields=["status", "last_error"])
    logger.info("outgoing message %s (%s of %s) suppressed: %s", message.pk, message.kind, case, reason)
    return "suppressed"


def _finish(message: OutgoingMessage, case: Case) -> None:
    message.save()
    letter_left(message, case)


@dataclass(frozen=True)
class Claim:
    """A row claimed for sending by e-mail: committed as 'sending' before the provider is called."""

    outgoing_id: int
    token: str
    email: EmailMessage


def _prepare(message: OutgoingMessage, case: Case) -> Claim | str:
    """Inside the row's lock: suppress it, make the PDF letter (post), or claim it for e-mail."""
    registration = case.registration
    channel, note = delivery_channel(registration)
    reason = suppression_reason(message, case, channel)
    if reason:
        return _suppress(message, case, reason)
    message.channel, message.last_error = channel, note
    message.to_email, message.to_name, message.to_address = registration.sender_email, registration.sender_name, registration.sender_address
    message.attempts += 1
    formal = message.kind in FORMAL_KINDS
    pdf = None
    if channel == DeliveryChannel.POST or formal:
        pdf = letter_render_pdf(case=case, subject=message.subject, body_text=message.body_text, kind=message.kind)
        if message.pdf:
            # An earlier attempt's PDF: one file per letter, or destruction (which deletes the file the row names) leaves it behind.
            message.pdf.delete(save=False)
        message.pdf.save(f"{registration.number}-{message.kind}-{message.pk}.pdf", ContentFile(pdf), save=False)
    if channel == DeliveryChannel.POST:
        # No provider to call: the letter waits for the mailroom to print and post it. It has not
        # left yet: the citizen's page, the acknowledged state and the figures wait for the posting.
        message.status = OutboxStatus.TO_PRINT
        message.save()
        return "to_print"
    message.status, message.claim_token, message.claimed_at = OutboxStatus.SENDING, uuid.uuid4().hex, timezone.now()
    message.save()
    return Claim(message.pk, message.claim_token, email_for(message, case, pdf if formal else None))


def _case_of(message: OutgoingMessage) -> Case:
    """The message's case with its registration, set on the message too: the audit trail names the
    message by its case's number on every save, which would otherwise read both again each time."""
    message.case = Case.objects.select_related("registration").get(pk=message.case_id)
    return message.case


def _claim(outgoing_id: int) -> Claim | str:
    try:
        with transaction.atomic():
            message = OutgoingMessage.objects.select_for_update().filter(pk=outgoing_id).first()
            if message is None:
                logger.warning("outgoing message %s does not exist; nothing to send", outgoing_id)
                return "missing"
            if message.status != OutboxStatus.QUEUED:
                logger.info("outgoing message %s is %s; not sent again", outgoing_id, message.status)
                return "skipped"
            return _prepare(message, _case_of(message))
    except Exception as exc:
        # The letter could not be made (its PDF, the volume that keeps it): nothing went, and the rollback
        # took the attempt with it. Counted here, as a refusal is, so the retries end in 'failed' and the
        # digest shows it, instead of a row the relay tries for ever with 0 attempts.
        error = f"{type(exc).__name__}: {exc}"
        _count_unmade(outgoing_id, error)
        raise DeliveryError(error) from exc


def _count_unmade(outgoing_id: int, error: str) -> None:
    with transaction.atomic():
        message = OutgoingMessage.objects.select_for_update().filter(pk=outgoing_id, status=OutboxStatus.QUEUED).first()
        if message is None:
            return
        message.attempts += 1
        message.retry_at = _due_after_refusal(message.attempts)
        message.last_error = str(REASON_RETRYING % {"attempts": message.attempts, "error": error})
        message.save(update_fields=["attempts", "retry_at", "last_error"])
    logger.error("outgoing message %s could not be prepared (attempt %s): %s", outgoing_id, message.attempts, _error_kind(error))


def _release(claim: Claim, error: str) -> None:
    """The provider refused: nothing went, so the row is queued again, due after its back-off. In the
    same commit: a worker that dies before its task can retry leaves a row the relay finds when due."""
    with transaction.atomic():
        message = OutgoingMessage.objects.select_for_update().get(pk=claim.outgoing_id)
        if message.status == OutboxStatus.SENDING and message.claim_token == claim.token:
            message.status, message.claim_token = OutboxStatus.QUEUED, ""
            message.retry_at = _due_after_refusal(message.attempts)
            message.last_error = str(REASON_RETRYING % {"attempts": message.attempts, "error": error})
            message.save(update_fields=["status", "claim_token", "retry_at", "last_error"])


def _outcome_unknown(exc: BaseException) -> bool:
    """Whether the provider may have taken the mail although the call failed: the request went, and its answer
    timed out or broke off (an HTTP ESP through anymail and requests). A refused or unmade connection is no
    such case: nothing went, and the letter is tried again."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return False
        if isinstance(exc, (requests.exceptions.ReadTimeout, requests.exceptions.ChunkedEncodingError)):
            return True
        if isinstance(exc, requests.exceptions.ConnectionError) and exc.args and isinstance(exc.args[0], urllib3.exceptions.ProtocolError):
            return True  # "Connection aborted": the server hung up after the request was sent
        exc = exc.__cause__ or exc.__context__
    return False


def _unknown(claim: Claim, error: str) -> str:
    """The provider may have the mail: it is shown as 'verzonden? onbekend' to the officers, never sent again blindly."""
    with transaction.atomic():
        OutgoingMessage.objects.select_for_update().filter(pk=claim.outgoing_id, status=OutboxStatus.SENDING, claim_token=claim.token).update(
            status=OutboxStatus.UNKNOWN, last_error=str(REASON_NO_ANSWER % {"error": error}), retry_at=None
        )
    logger.error("outgoing message %s: the mail provider's answer did not arrive (%s); whether it went is unknown", claim.outgoing_id, _error_kind(error))
    return "unknown"


def _confirm(claim: Claim, provider_message_id: str) -> None:
    """The provider took the mail: mark it sent (also when the relay meanwhile called it unknown)."""
    with transaction.atomic():
        message = OutgoingMessage.objects.select_for_update().get(pk=claim.outgoing_id)
        if message.claim_token != claim.token or message.status not in (OutboxStatus.SENDING, OutboxStatus.UNKNOWN):
            logger.warning("outgoing message %s was sent, but its claim was taken over (%s); left as it is", message.pk, message.status)
            return
        if message.status == OutboxStatus.UNKNOWN:
            message.last_error = ""  # it did go: the provider took it after all
        message.status, message.sent_at, message.provider_message_id = OutboxStatus.SENT, timezone.now(), provider_message_id[:200]
        message.retry_at = None
        _finish(message, _case_of(message))


def _provider_message_id(email: EmailMessage) -> str:
    status = getattr(email, "anymail_status", None)
    return str(getattr(status, "message_id", "") or "")


def outgoing_send(*, outgoing_id: int) -> str:
    """Send one outbox row, exactly once; returns what happened.

    ``"sent"`` (e-mail), ``"to_print"`` (PDF letter for the mailroom), ``"suppressed"`` (not sent,
    reason in ``last_error``), ``"unknown"`` (the provider's answer did not arrive), ``"skipped"`` (not queued: sent before, being sent, or handled by a
    twin delivery), or ``"missing"``. Raises :class:`DeliveryError` when the mail provider refuses;
    the row is then queued again and the caller (the task) records the failure and retries.

    The row is claimed ('sending', committed) before the provider is called, and marked sent after;
    a worker that dies in between leaves it 'sending', which the relay shows as unknown, never sends again.
    """
    claim = _claim(outgoing_id)
    if isinstance(claim, str):
        return claim
    try:
        claim.email.send(fail_silently=False)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if _outcome_unknown(exc):
            return _unknown(claim, error)
        _release(claim, error)
        raise DeliveryError(error) from exc
    _confirm(claim, _provider_message_id(claim.email))
    logger.info("outgoing message %s sent", outgoing_id)
    return "sent"


def outgoing_record_failure(*, outgoing_id: int, error: str, final: bool = False) -> OutgoingMessage | None:
    """After a refused attempt (counted when it was claimed): on the last one (``final``, or the
    ``SEND_MAX_ATTEMPTS``-th) the row is 'failed' and officers see the error. Returns the row; still
    'queued' means: retry at its ``retry_at``."""
    with transaction.atomic():
        message = OutgoingMessage.objects.select_for_update().filter(pk=outgoing_id).first()
        if message is None or message.status != OutboxStatus.QUEUED:
            return message
        if final or message.attempts >= SEND_MAX_ATTEMPTS:
            message.status, message.retry_at = OutboxStatus.FAILED, None
            message.last_error = str(REASON_SEND_FAILED % {"attempts": message.attempts, "error": error})
            logger.error("outgoing message %s failed for good after %s attempts: %s", message.pk, message.attempts, _error_kind(error))
        else:
            message.retry_at = message.retry_at or _due_after_refusal(message.attempts)
            message.last_error = str(REASON_RETRYING % {"attempts": message.attempts, "error": error})
            logger.warning("outgoing message %s attempt %s failed: %s; next at %s", message.pk, message.attempts, _error_kind(error), message.retry_at)
        message.save(update_fields=["status", "retry_at", "last_error"])
    return message


def _error_kind(error: str) -> str:
    """What the log says of a refusal: the exception's class (``outgoing_send`` writes "Class: text").
    The text can hold the citizen's address (``SMTPRecipientsRefused``); it stays in ``last_error``,
    which the officers who may see the case read."""
    return error.partition(":")[0]


def acknowledgement_send(*, case_id: int) -> str:
    """Write a new case's acknowledgement and, with no hold, send it here: returns its status.

    Queueing its sending instead would put the letter at the back of the queue, behind every
    acknowledgement written meanwhile; in a burst of thousands no letter would leave until all were
    written. Nothing is lost in between: a worker that dies after the write leaves the row queued
    and untried, which a redelivery of the task or the outbox relay sends; a provider's refusal
    counts as an attempt and hands the row to the send task's retry chain, due after its back-off.
    """
    send_here = settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES <= 0
    message = acknowledgement_queue(case_id=case_id, queue_sending=not send_here)
    if message is None:
        return "none"
    if not send_here or message.status != OutboxStatus.QUEUED or message.attempts:
        return message.status
    try:
        return outgoing_send(outgoing_id=message.pk)
    except DeliveryError as exc:
        message = outgoing_record_failure(outgoing_id=message.pk, error=str(exc))
        queue_send(message.pk, countdown=retry_countdown(message))
        return "retrying"


def outgoing_mark_unknown(*, older_than_minutes: int | None = None, now: datetime.datetime | None = None) -> list[int]:
    """Rows left 'sending' longer than the claim timeout: their worker died while sending, so whether
    the mail went is unknown. They are never sent again blindly; an officer checks and resends."""
    minutes = settings.HANDVEST_SEND_CLAIM_TIMEOUT_MINUTES if older_than_minutes is None else older_than_minutes
    cutoff = (now or timezone.now()) - datetime.timedelta(minutes=minutes)
    stale = list(OutgoingMessage.objects.filter(status=OutboxStatus.SENDING, claimed_at__lt=cutoff).values_list("pk", flat=True))
    for pk in stale:
        with transaction.atomic():
            OutgoingMessage.objects.select_for_update().filter(pk=pk, status=OutboxStatus.SENDING).update(
                status=OutboxStatus.UNKNOWN, last_error=str(REASON_UNKNOWN)
            )
        logger.error("outgoing message %s: sending was interrupted; whether it went out is unknown (shown to the officers)", pk)
    return stale


def outgoing_requeue(*, outgoing_id: int, actor) -> OutgoingMessage:
    """An officer sends a failed or suppressed message again (e.g. after correcting the address)."""
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    with transaction.atomic():
        message = OutgoingMessage.objects.select_for_update().get(pk=outgoing_id)
        if message.status not in RESENDABLE:
            logger.warning("outgoing message %s is %s; not requeued", message.pk, message.status)
            raise ValidationError({"status": NOT_RESENDABLE % {"status": message.get_status_display()}})
        message.status = OutboxStatus.QUEUED
        message.attempts, message.retry_at = 0, None
        message.last_error = ""
        # An officer's explicit choice is no automatic reply: the loop guards do not apply to it.
        message.automatic = False
        message.save(update_fields=["status", "attempts", "retry_at", "last_error", "automatic"])
        send_after_commit(message.pk)
    logger.info("outgoing message %s requeued by %s", message.pk, getattr(actor, "username", "system"))
    return message
