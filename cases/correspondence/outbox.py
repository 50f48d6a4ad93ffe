"""The outbox: every letter to a citizen is first an ``OutgoingMessage`` row, written in the same
transaction as the step that causes it, and sent after commit (docs/adr/002-transactional-outbox.md).

``outbox_write`` is the one place a row is made; ``letter_queue`` (an officer's letter),
``acknowledgement_queue`` (the automatic *ontvangstbevestiging*) and the bounce reroute
(``cases.correspondence.bounces``) all go through it. ``dedupe_key`` is unique, so the same
letter is written once whatever retries or double clicks happen.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
from email.utils import make_msgid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import dispatch, errors
from cases.correspondence.composing import check_fits, check_kind, check_state, letter_compose, subject_with_number
from cases.models import (
    Case,
    CaseState,
    DeliveryChannel,
    InboundMessage,
    LetterKind,
    OmbudsmanSettings,
    OutboxStatus,
    OutgoingMessage,
    Registration,
    ReplyChannel,
)
from cases.permissions import HANDLE_CASE, require
from cases.workflow.transitions import locked_case

logger = logging.getLogger(__name__)

EMPTY_SUBJECT = _("Vul een onderwerp in.")
EMPTY_BODY = _("De brief is leeg. Schrijf eerst de tekst.")
PLACEHOLDER_LEFT = _("Vul eerst alle invulplekken in: de tekst tussen [[ en ]].")
OMBUDSMAN_MISSING = _(
    "Het antwoord op een klacht, en ook de brief dat een klacht niet in behandeling wordt genomen, noemt de ombudsman "
    "bij wie de indiener terecht kan: %(name)s (Awb 9:12 lid 2, 9:8 lid 3). Zet die alinea terug."
)
NO_ADDRESS = _("Er is geen e-mailadres en geen postadres bekend. Vul eerst een adres in bij de registratie.")
ACKNOWLEDGEMENT_ALREADY_SENT = _("De ontvangstbevestiging is al verstuurd (%(status)s). Die gaat maar één keer.")

# Why a letter goes by post (stored in OutgoingMessage.last_error, shown to the officer).
REASON_BOUNCED = _("Per post: het e-mailadres %(address)s is onbestelbaar gebleken.")
REASON_NO_EMAIL = _("Per post: er is geen e-mailadres bekend.")
REASON_REPLY_BY_POST = _("Per post: de inwoner wil antwoord per post.")

PLACEHOLDER_RE = re.compile(r"\[\[.*?\]\]", re.S)
OMBUDSMAN_RE = re.compile(r"nationale\s+ombudsman", re.I)
MAX_REFERENCES = 10
# Statuses in which the acknowledgement has left (or is leaving): a second one is refused.
GONE_STATUSES = (OutboxStatus.SENT, OutboxStatus.TO_PRINT, OutboxStatus.PRINTED, OutboxStatus.POSTED, OutboxStatus.SENDING, OutboxStatus.UNKNOWN)


def acknowledgement_key(case_id: int) -> str:
    """The outbox key of a case's acknowledgement: one per case, whoever writes it."""
    return f"case:{case_id}:acknowledgement"


def delivery_channel(registration: Registration) -> tuple[str, str]:
    """E-mail or post for this citizen now, with the reason when it is post."""
    if not registration.sender_email.strip():
        return DeliveryChannel.POST, str(REASON_NO_EMAIL)
    if registration.reply_channel == ReplyChannel.POST:
        return DeliveryChannel.POST, str(REASON_REPLY_BY_POST)
    if registration.email_undeliverable:
        return DeliveryChannel.POST, str(REASON_BOUNCED % {"address": registration.sender_email})
    return DeliveryChannel.EMAIL, ""


def angle(message_id: str | None) -> str:
    """A Message-ID in its ``<...>`` form, or '' for none."""
    message_id = (message_id or "").strip()
    if not message_id:
        return ""
    return message_id if message_id.startswith("<") else f"<{message_id.strip('<>')}>"


def thread_headers(case: Case) -> tuple[str, str]:
    """(In-Reply-To, References) so the citizen's mail program threads our letter with theirs."""
    original = angle(case.registration.message_id)
    ours = [
        angle(mid)
        for mid in OutgoingMessage.objects.filter(case=case, status=OutboxStatus.SENT, channel=DeliveryChannel.EMAIL)
        .order_by("sent_at", "pk")
        .values_list("message_id", flat=True)
    ]
    latest_in = angle(
        InboundMessage.objects.filter(case=case)
        .exclude(message_id=None)
        .exclude(message_id="")
        .order_by("-received_at")
        .values_list("message_id", flat=True)
        .first()
    )
    chain: list[str] = []
    for mid in [original, *ours, latest_in]:
        if mid and mid not in chain:
            chain.append(mid)
    if len(chain) > MAX_REFERENCES:
        # RFC 5322 3.6.4: keep the first (the thread's root) and the most recent ones.
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    in_reply_to = latest_in or original or (ours[-1] if ours else "")
    return in_reply_to, " ".join(chain)


def new_message_id(case: Case, kind: str) -> str:
    """A Message-ID in our own domain: replies to it thread into the case; mail carrying it is ours."""
    return make_msgid(idstring=f"{case.pk}.{kind}", domain=settings.HANDVEST_MAIL_DOMAIN)


def queue_send(outgoing_id: int, countdown: int | None = None) -> None:
    """Queue the send task of an outbox row now; the row is committed, so a failure here loses nothing."""
    try:
        dispatch.enqueue(dispatch.SEND_LETTER, outgoing_id, countdown=countdown)
    except Exception:
        # Eager mode (no worker) cannot wait for a retry, and a broker may be down: the row stays
        # queued and beat's outbox relay sends it. Never fail the officer's request for it.
        logger.warning("sending outgoing message %s did not complete now; it stays queued for the outbox relay", outgoing_id, exc_info=True)


def send_after_commit(outgoing_id: int) -> None:
    transaction.on_commit(lambda: queue_send(outgoing_id))


def outbox_write(
    *,
    case: Case,
    kind: str,
    dedupe_key: str,
    subject: str,
    body_text: str,
    actor=None,
    automatic: bool = False,
    channel: str | None = None,
    note: str | None = None,
    send_now: bool = True,
) -> tuple[OutgoingMessage, bool]:
    """Write one letter to the outbox, once per ``dedupe_key``; returns (row, created).

    The channel is the citizen's current one unless given; addresses and threading headers are
    taken now. With ``send_now`` it is sent after commit; otherwise the outbox relay releases it.
    """
    registration = case.registration
    if channel is None:
        channel, note = delivery_channel(registration)
    in_reply_to, references = thread_headers(case)
    try:
        with transaction.atomic():
            message = OutgoingMessage.objects.create(
                case=case,
                kind=kind,
                channel=channel,
                dedupe_key=dedupe_key[:120],
                automatic=automatic,
                to_email=registration.sender_email,
                to_name=registration.sender_name,
                to_address=registration.sender_address,
                subject=subject,
                body_text=body_text.strip(),
                message_id=new_message_id(case, kind),
                in_reply_to=in_reply_to,
                references=references,
                last_error=note or "",
                created_by=actor,
            )
    except IntegrityError:
        # A twin (double click, second worker) wrote it between our check and our insert.
        existing = OutgoingMessage.objects.get(dedupe_key=dedupe_key[:120])
        logger.info("letter %s for %s written concurrently; keeping outbox %s", kind, case, existing.pk)
        return existing, False
    if send_now:
        send_after_commit(message.pk)
    logger.info("letter %s for %s written to the outbox (%s, outbox %s)", kind, case, channel, message.pk)
    return message, True


# Awb 9:12 lid 2 for the answer; 9:8 lid 3 applies it to the notice that a complaint is not handled.
OMBUDSMAN_LETTERS = (LetterKind.ANSWER, LetterKind.DECLINE)


def names_ombudsman(body_text: str) -> bool:
    """Awb 9:12 lid 2: the answer names where to go next: the municipality's own ombudsman when it has
    one (the Nationale ombudsman is then not the one to turn to), else the Nationale ombudsman."""
    own = OmbudsmanSettings.current()
    if own.is_municipal:
        return own.own_name.strip().lower() in body_text.lower()
    return bool(OMBUDSMAN_RE.search(body_text))


def _ombudsman_name() -> str:
    own = OmbudsmanSettings.current()
    return own.own_name.strip() if own.is_municipal else "de Nationale ombudsman"


def _check_content(kind: LetterKind, subject: str, body_text: str) -> None:
    problems = {}
    if not subject.strip():
        problems["subject"] = EMPTY_SUBJECT
    if not body_text.strip():
        problems["body_text"] = EMPTY_BODY
    elif PLACEHOLDER_RE.search(body_text) or PLACEHOLDER_RE.search(subject):
        problems["body_text"] = PLACEHOLDER_LEFT
    elif kind in OMBUDSMAN_LETTERS and not names_ombudsman(body_text):
        problems["body_text"] = OMBUDSMAN_MISSING % {"name": _ombudsman_name()}
    if problems:
        logger.warning("letter %s refused: %s", kind, "; ".join(str(p) for p in problems.values()))
        raise ValidationError(problems)


def _check_reachable(case: Case, kind: str) -> None:
    registration = case.registration
    channel, _note = delivery_channel(registration)
    if channel == DeliveryChannel.POST and not registration.sender_address.strip():
        logger.warning("letter %s for %s refused: no e-mail and no postal address", kind, case)
        raise ValidationError({"kind": NO_ADDRESS})


def _default_key(case: Case, kind: str, subject: str, body_text: str) -> str:
    # The same text to the same case twice is a double click, not a second letter.
    digest = hashlib.sha256(f"{subject}\x00{body_text}".encode()).hexdigest()[:24]
    return f"case:{case.pk}:{kind}:{digest}"


def letter_queue(
    *,
    case_id: int,
    kind: str,
    subject: str,
    body_text: str,
    actor=None,
    automatic: bool = False,
    dedupe_key: str | None = None,
) -> OutgoingMessage:
    """Write a letter to the outbox in the caller's transaction; it is sent after commit.

    Call it inside the transaction of the step that causes the letter, so both happen or neither::

        with transaction.atomic():
            case_transition(case_id=..., name="answer", actor=officer)
            letter_queue(case_id=..., kind="answer", subject=..., body_text=..., actor=officer)

    The same letter twice (same ``dedupe_key``; by default the same kind and text) is written
    once. An acknowledgement is one per case: an officer's edited version replaces the automatic
    one while it waits, and is refused once one went out.
    """
    letter_kind = check_kind(kind)
    _check_content(letter_kind, subject, body_text)
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    with transaction.atomic():
        case = locked_case(case_id)
        check_fits(case, letter_kind)
        check_state(case, letter_kind)
        _check_reachable(case, kind)
        subject = subject_with_number(subject, case.registration.number)
        is_acknowledgement = letter_kind == LetterKind.ACKNOWLEDGEMENT
        key = acknowledgement_key(case.pk) if is_acknowledgement else dedupe_key or _default_key(case, letter_kind.value, subject, body_text)
        existing = OutgoingMessage.objects.select_for_update().filter(dedupe_key=key).first()
        if existing is not None and is_acknowledgement:
            return _replace_acknowledgement(existing, subject=subject, body_text=body_text, actor=actor, automatic=automatic)
        if existing is not None:
            logger.info("letter %s for %s already in the outbox (%s); not written twice", kind, case, existing.status)
            return existing
        message, _created = outbox_write(
            case=case, kind=letter_kind.value, dedupe_key=key, subject=subject, body_text=body_text, actor=actor, automatic=automatic
        )
    return message


def _replace_acknowledgement(existing: OutgoingMessage, *, subject: str, body_text: str, actor, automatic: bool) -> OutgoingMessage:
    if existing.status in GONE_STATUSES:
        logger.warning("acknowledgement of case %s already %s; refused a second one", existing.case_id, existing.status)
        raise ValidationError({"kind": ACKNOWLEDGEMENT_ALREADY_SENT % {"status": existing.get_status_display()}})
    existing.subject = subject
    existing.body_text = body_text.strip()
    existing.automatic = automatic
    existing.created_by = actor
    existing.status = OutboxStatus.QUEUED
    existing.attempts = 0
    existing.last_error = ""
    existing.save(update_fields=["subject", "body_text", "automatic", "created_by", "status", "attempts", "last_error"])
    send_after_commit(existing.pk)
    logger.info("acknowledgement of case %s edited by %s and queued", existing.case_id, getattr(actor, "username", "system"))
    return existing


def acknowledgement_queue(*, case_id: int, queue_sending: bool = True) -> OutgoingMessage | None:
    """Write the automatic *ontvangstbevestiging* (Awb 9:6) of a new case to the outbox, once.

    It waits ``HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES`` before it goes (beat's outbox relay releases
    it), so a question answered at once gets none; with 0 its sending is queued at once, unless
    ``queue_sending`` is false because the caller sends it itself (``delivery.acknowledgement_send``).
    """
    case = Case.objects.select_related("registration").get(pk=case_id)
    existing = OutgoingMessage.objects.filter(dedupe_key=acknowledgement_key(case.pk)).first()
    if existing is not None:
        return existing
    if case.state != CaseState.RECEIVED:
        logger.info("case %s is already %s; no automatic acknowledgement", case, case.state)
        return None
    draft = letter_compose(case=case, kind=LetterKind.ACKNOWLEDGEMENT)
    message, _created = outbox_write(
        case=case,
        kind=LetterKind.ACKNOWLEDGEMENT,
        dedupe_key=acknowledgement_key(case.pk),
        subject=draft.subject,
        body_text=draft.body_text,
        automatic=True,
        send_now=queue_sending and settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES <= 0,
    )
    return message


LOST_RETRY_MINUTES = 120


def outbox_due(*, now: datetime.datetime | None = None, stale_minutes: int = 5) -> list[int]:
    """Outbox rows the relay should queue: held acknowledgements whose hold is over, rows never
    tried for ``stale_minutes`` (their on-commit queueing was lost), and refused rows whose next
    attempt (``retry_at``) is ``stale_minutes`` overdue (their retry chain was lost: a worker died, the
    broker lost the delayed task, or eager mode, which has no worker to wait for it)."""
    now = now or timezone.now()
    hold = datetime.timedelta(minutes=max(settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES, 0))
    stale = datetime.timedelta(minutes=stale_minutes)
    queued = OutgoingMessage.objects.filter(status=OutboxStatus.QUEUED)
    untried = queued.filter(attempts=0)
    held = untried.filter(automatic=True, kind=LetterKind.ACKNOWLEDGEMENT, created_at__lte=now - (hold if hold else stale))
    others = untried.exclude(automatic=True, kind=LetterKind.ACKNOWLEDGEMENT).filter(created_at__lte=now - stale)
    # Without retry_at: refused by a worker of the release before it (a rolling deploy); taken as that release did.
    lost = queued.filter(attempts__gt=0).filter(
        Q(retry_at__lte=now - stale) | Q(retry_at__isnull=True, created_at__lte=now - datetime.timedelta(minutes=LOST_RETRY_MINUTES))
    )
    return sorted({pk for rows in (held, others, lost) for pk in rows.values_list("pk", flat=True)})


def cases_missing_acknowledgement(*, now: datetime.datetime | None = None, grace_minutes: int = 5) -> list[int]:
    """Cases still 'received' that have no acknowledgement in the outbox (the receiver failed)."""
    now = now or timezone.now()
    have = OutgoingMessage.objects.filter(kind=LetterKind.ACKNOWLEDGEMENT).values("case_id")
    return list(
        Case.objects.filter(
            state=CaseState.RECEIVED, merged_into__isnull=True, registration__registered_at__lte=now - datetime.timedelta(minutes=grace_minutes)
        )
        .exclude(pk__in=have)
        .values_list("pk", flat=True)
    )
