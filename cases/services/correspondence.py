"""Letters to citizens: composed from templates, edited by the officer, written to the outbox, sent exactly once.

The flow (see docs/adr/002-transactional-outbox.md):

1. :func:`letter_compose` fills the template of a letter kind (``templates/letters/<kind>/``)
   and returns a draft the officer may edit.
2. :func:`letter_queue` writes the (edited) letter to the outbox, ``OutgoingMessage``, inside the
   caller's transaction (the transition that causes the letter), and queues its sending with
   ``transaction.on_commit``. The automatic *ontvangstbevestiging* is written by
   :func:`acknowledgement_queue` after registration.
3. :func:`outgoing_send` (called by the Celery task) locks the row, skips it when it is no longer
   queued, decides e-mail or post, sends or renders the PDF letter, marks it, and adds the
   letter to the citizen's timeline. Retried deliveries find the row sent and do nothing.

Dutch text lives in ``templates/letters``; a municipality overrides any of it through
``HANDVEST_TEMPLATE_DIRS`` (``templates/letters/README.md``).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
from dataclasses import dataclass
from email.utils import formataddr, make_msgid
from functools import lru_cache

from celery.exceptions import Retry
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template import Context, Engine
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from cases import errors
from cases.mailaddresses import is_automatic_address
from cases.models import (
    HANDLE_PERMISSION,
    Case,
    CaseEvent,
    CaseState,
    ComplaintOutcome,
    DeliveryChannel,
    EventKind,
    InboundMessage,
    LetterKind,
    OutboxStatus,
    OutgoingMessage,
    Registration,
    ReplyChannel,
    SuggestionOutcome,
)
from cms.models import MunicipalitySettings

logger = logging.getLogger(__name__)

# --- messages shown to officers (tests import them) -------------------------------------------
UNKNOWN_KIND = _("Onbekende soort brief: %(kind)s.")
KIND_DOES_NOT_FIT = _("Een %(letter)s past niet bij een %(case_kind)s.")
EMPTY_SUBJECT = _("Vul een onderwerp in.")
EMPTY_BODY = _("De brief is leeg. Schrijf eerst de tekst.")
PLACEHOLDER_LEFT = _("Vul eerst alle invulplekken in: de tekst tussen [[ en ]].")
OMBUDSMAN_MISSING = _("Het antwoord op een klacht noemt de Nationale ombudsman (Awb 9:12 lid 2). Zet die alinea terug.")
NO_ADDRESS = _("Er is geen e-mailadres en geen postadres bekend. Vul eerst een adres in bij de registratie.")
ACKNOWLEDGEMENT_ALREADY_SENT = _("De ontvangstbevestiging is al verstuurd (%(status)s). Die gaat maar één keer.")
NOT_RESENDABLE = _("Alleen een mislukt of niet verstuurd bericht kan opnieuw in de wachtrij (nu: %(status)s).")
NOT_TO_PRINT = _("Deze brief staat niet klaar om te printen (nu: %(status)s).")
NO_PRINT_PERMISSION = _("U mag brieven niet als geprint markeren.")

# --- why a letter went another way or not at all (stored in OutgoingMessage.last_error) -------
REASON_ANSWERED_AT_ONCE = _(
    "Niet verstuurd: de zaak was al beantwoord of afgesloten voordat de ontvangstbevestiging uitging "
    "(handvest: geen ontvangstbevestiging als de vraag gelijk te beantwoorden is)."
)
REASON_AUTOMATIC_ADDRESS = _("Niet verstuurd: %(address)s is een automatisch adres (zoals noreply of postmaster); daar gaat geen automatisch bericht heen.")
REASON_RATE_LIMIT = _("Niet verstuurd: het afgelopen uur gingen al %(count)s automatische berichten naar %(address)s (bescherming tegen mail-lussen).")
REASON_NO_ADDRESS = _("Niet verstuurd: er is geen e-mailadres en geen postadres bekend.")
REASON_BOUNCED = _("Per post: het e-mailadres %(address)s is onbestelbaar gebleken.")
REASON_NO_EMAIL = _("Per post: er is geen e-mailadres bekend.")
REASON_REPLY_BY_POST = _("Per post: de inwoner wil antwoord per post.")
REASON_SEND_FAILED = _("Versturen mislukt na %(attempts)s pogingen: %(error)s")
REASON_RETRYING = _("Poging %(attempts)s mislukt, wordt opnieuw geprobeerd: %(error)s")

# Formal letters go as a PDF attachment too: they are decisions the citizen may want to keep or forward.
FORMAL_KINDS = frozenset({LetterKind.ANSWER, LetterKind.DECLINE})
COMPLAINT_ONLY = frozenset({LetterKind.HEARING_INVITATION, LetterKind.FORWARD_NOTICE, LetterKind.DECLINE, LetterKind.EXPLANATION, LetterKind.ANSWER})
SUGGESTION_ONLY = frozenset({LetterKind.SUGGESTION_RESPONSE})
# The answer has settled the question: an acknowledgement after it would only confuse (charter).
ANSWERED_STATES = frozenset({CaseState.ANSWERED, CaseState.RESPONDED, CaseState.CLOSED})
PLACEHOLDER_RE = re.compile(r"\[\[.*?\]\]", re.S)
OMBUDSMAN_RE = re.compile(r"nationale\s+ombudsman", re.I)
# Addresses that never get an automatic message (RFC 3834 section 2; they are machines, or loops).
MAX_REFERENCES = 10


class DeliveryError(Exception):
    """The mail backend refused or failed; the task retries with backoff."""


@dataclass(frozen=True)
class Letter:
    """A composed letter: the officer edits ``subject`` and ``body_text`` before it goes."""

    kind: str
    subject: str
    body_text: str


def acknowledgement_key(case_id: int) -> str:
    """The outbox key of a case's acknowledgement: one per case, whoever writes it."""
    return f"case:{case_id}:acknowledgement"


# --- composing --------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def _text_engine(dirs: tuple[str, ...]) -> Engine:
    # Plain-text letters must not be HTML-escaped ("O'Brien" stays "O'Brien"); the HTML of the PDF
    # goes through Django's normal, escaping engine. Same folders, so overrides work for both.
    return Engine(dirs=list(dirs), app_dirs=True, autoescape=False)


def render_text(name: str, context: dict) -> str:
    """Render a plain-text template (no HTML escaping), Dutch, from the overridable template folders."""
    dirs = tuple(str(folder) for folder in settings.TEMPLATES[0]["DIRS"])
    with translation.override(settings.LANGUAGE_CODE):
        return _text_engine(dirs).get_template(name).render(Context(context, autoescape=False))


def tidy_text(text: str) -> str:
    """Trailing spaces off, at most one empty line in a row (template tags leave blank lines)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    tidy: list[str] = []
    for line in lines:
        if not line and (not tidy or not tidy[-1]):
            continue
        tidy.append(line)
    return "\n".join(tidy).strip()


def private_link(case: Case) -> str:
    """The citizen's private page of the case, as an absolute URL."""
    return settings.BASE_URL.rstrip("/") + reverse("cases:case_status", kwargs={"token": case.public_token})


def _one_line(text: str) -> str:
    return ", ".join(part.strip() for part in (text or "").splitlines() if part.strip())


def letter_context(*, case: Case, **extra) -> dict:
    """What every letter template can use; ``extra`` adds or overrides (e.g. ``findings`` of an answer)."""
    registration = case.registration
    municipality = MunicipalitySettings.load()
    outcome = extra.pop("outcome", None) or case.outcome
    outcome_label = ""
    if outcome in ComplaintOutcome.values:
        outcome_label = ComplaintOutcome(outcome).label
    elif outcome in SuggestionOutcome.values:
        outcome_label = SuggestionOutcome(outcome).label
    context = {
        "case": case,
        "registration": registration,
        "municipality": municipality,
        "municipality_postal_address": _one_line(municipality.postal_address),
        "number": registration.number,
        "received_on": registration.received_on,
        "name": registration.sender_name.strip(),
        "today": timezone.localdate(),
        "is_complaint": case.is_complaint(),
        "kind_word": _("klacht") if case.is_complaint() else _("suggestie"),
        "acknowledgement_due": case.acknowledgement_due,
        "answer_due": case.effective_answer_due,
        "original_answer_due": case.answer_due,
        "new_due": case.extended_answer_due,
        "reason": case.extension_reason,
        "hearing_on": case.hearing_on,
        "forwarded_to": case.forwarded_to,
        "decline_ground": case.get_decline_ground_display() if case.decline_ground else "",
        "outcome": outcome or "",
        "outcome_label": outcome_label,
        "private_link": private_link(case),
    }
    context.update(extra)
    return context


def _check_kind(kind: str) -> LetterKind:
    try:
        return LetterKind(kind)
    except ValueError:
        logger.warning("unknown letter kind %r", kind)
        raise ValidationError({"kind": UNKNOWN_KIND % {"kind": kind}}) from None


def _check_fits(case: Case, kind: LetterKind) -> None:
    wrong = (kind in COMPLAINT_ONLY and not case.is_complaint()) or (kind in SUGGESTION_ONLY and not case.is_suggestion())
    if wrong:
        logger.warning("letter %s does not fit %s case %s", kind, case.kind, case)
        raise ValidationError({"kind": KIND_DOES_NOT_FIT % {"letter": kind.label, "case_kind": case.get_kind_display()}})


def subject_with_number(subject: str, number: str) -> str:
    """One line, with the registration number in it (so replies thread by subject too)."""
    subject = " ".join(subject.split())
    if number not in subject:
        subject = f"{subject} ({number})"
    return subject[:300]


def letter_compose(*, case: Case, kind: str, **extra) -> Letter:
    """Fill the templates of ``kind`` for this case: the draft an officer edits before it goes.

    What the template cannot know (findings, the time of a hearing, ...) comes from ``extra``;
    when missing, the text keeps an ``[[ ... ]]`` place to fill, which :func:`letter_queue` refuses.
    """
    letter_kind = _check_kind(kind)
    _check_fits(case, letter_kind)
    context = letter_context(case=case, **extra)
    subject = render_text(f"letters/{letter_kind.value}/subject.txt", context)
    body = render_text(f"letters/{letter_kind.value}/body.txt", context)
    return Letter(kind=letter_kind.value, subject=subject_with_number(subject, context["number"]), body_text=tidy_text(body))


# --- the outbox --------------------------------------------------------------------------------
def delivery_channel(registration: Registration) -> tuple[str, str]:
    """E-mail or post for this citizen now, with the reason when it is post."""
    if not registration.sender_email.strip():
        return DeliveryChannel.POST, str(REASON_NO_EMAIL)
    if registration.reply_channel == ReplyChannel.POST:
        return DeliveryChannel.POST, str(REASON_REPLY_BY_POST)
    if registration.email_undeliverable:
        return DeliveryChannel.POST, str(REASON_BOUNCED % {"address": registration.sender_email})
    return DeliveryChannel.EMAIL, ""


def _angle(message_id: str | None) -> str:
    message_id = (message_id or "").strip()
    if not message_id:
        return ""
    return message_id if message_id.startswith("<") else f"<{message_id.strip('<>')}>"


def thread_headers(case: Case) -> tuple[str, str]:
    """(In-Reply-To, References) so the citizen's mail program threads our letter with theirs."""
    original = _angle(case.registration.message_id)
    ours = [
        _angle(mid)
        for mid in OutgoingMessage.objects.filter(case=case, status=OutboxStatus.SENT, channel=DeliveryChannel.EMAIL)
        .order_by("sent_at", "pk")
        .values_list("message_id", flat=True)
    ]
    latest_in = _angle(
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


def _check_content(kind: LetterKind, subject: str, body_text: str) -> None:
    problems = {}
    if not subject.strip():
        problems["subject"] = EMPTY_SUBJECT
    if not body_text.strip():
        problems["body_text"] = EMPTY_BODY
    elif PLACEHOLDER_RE.search(body_text) or PLACEHOLDER_RE.search(subject):
        problems["body_text"] = PLACEHOLDER_LEFT
    elif kind == LetterKind.ANSWER and not OMBUDSMAN_RE.search(body_text):
        problems["body_text"] = OMBUDSMAN_MISSING
    if problems:
        logger.warning("letter %s refused: %s", kind, "; ".join(str(p) for p in problems.values()))
        raise ValidationError(problems)


def _default_key(case: Case, kind: str, subject: str, body_text: str) -> str:
    # The same text to the same case twice is a double click, not a second letter.
    digest = hashlib.sha256(f"{subject}\x00{body_text}".encode()).hexdigest()[:24]
    return f"case:{case.pk}:{kind}:{digest}"


def _queue_send(outgoing_id: int, countdown: int | None = None) -> None:
    from cases.tasks.correspondence import send_outgoing_message

    try:
        send_outgoing_message.apply_async((outgoing_id,), countdown=countdown)
    except Retry:
        # Eager mode (no worker) cannot wait for a retry; the failed attempt is on the row, the relay retries.
        logger.warning("sending outgoing message %s failed; it stays queued for the outbox relay", outgoing_id)
    except Exception:
        # The row is committed; beat's outbox relay queues it again. Never fail the officer's request.
        logger.exception("could not queue outgoing message %s; the outbox relay will pick it up", outgoing_id)


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
    letter_kind = _check_kind(kind)
    _check_content(letter_kind, subject, body_text)
    with transaction.atomic():
        case = Case.objects.select_related("registration").get(pk=case_id)
        if actor is not None and not actor.has_perm(HANDLE_PERMISSION):
            logger.warning("%s may not send letters (case %s)", actor, case)
            raise PermissionDenied(errors.NO_PERMISSION)
        _check_fits(case, letter_kind)
        registration = case.registration
        channel, note = delivery_channel(registration)
        if channel == DeliveryChannel.POST and not registration.sender_address.strip():
            logger.warning("letter %s for %s refused: no e-mail and no postal address", kind, case)
            raise ValidationError({"kind": NO_ADDRESS})
        subject = subject_with_number(subject, registration.number)
        if letter_kind == LetterKind.ACKNOWLEDGEMENT:
            key = acknowledgement_key(case.pk)
        else:
            key = dedupe_key or _default_key(case, letter_kind.value, subject, body_text)
        existing = OutgoingMessage.objects.select_for_update().filter(dedupe_key=key).first()
        if existing is not None:
            if letter_kind != LetterKind.ACKNOWLEDGEMENT:
                logger.info("letter %s for %s already in the outbox (%s); not written twice", kind, case, existing.status)
                return existing
            return _replace_acknowledgement(existing, subject=subject, body_text=body_text, actor=actor, automatic=automatic)
        in_reply_to, references = thread_headers(case)
        fields = {
            "case": case,
            "kind": letter_kind.value,
            "channel": channel,
            "dedupe_key": key,
            "automatic": automatic,
            "to_email": registration.sender_email,
            "to_name": registration.sender_name,
            "to_address": registration.sender_address,
            "subject": subject,
            "body_text": body_text.strip(),
            "message_id": new_message_id(case, letter_kind.value),
            "in_reply_to": in_reply_to,
            "references": references,
            "last_error": note,
            "created_by": actor,
        }
        try:
            with transaction.atomic():
                message = OutgoingMessage.objects.create(**fields)
        except IntegrityError:
            # A twin (double click, second worker) wrote it between our check and our insert.
            message = OutgoingMessage.objects.get(dedupe_key=key)
            logger.info("letter %s for %s written concurrently; keeping %s", kind, case, message.pk)
            return message
        transaction.on_commit(lambda: _queue_send(message.pk))
    logger.info("letter %s for %s queued (%s, outbox %s)", kind, case, channel, message.pk)
    return message


def _replace_acknowledgement(existing: OutgoingMessage, *, subject: str, body_text: str, actor, automatic: bool) -> OutgoingMessage:
    if existing.status in (OutboxStatus.SENT, OutboxStatus.TO_PRINT, OutboxStatus.PRINTED, OutboxStatus.SENDING):
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
    transaction.on_commit(lambda: _queue_send(existing.pk))
    logger.info("acknowledgement of case %s edited by %s and queued", existing.case_id, getattr(actor, "username", "system"))
    return existing


def acknowledgement_queue(*, case_id: int) -> OutgoingMessage | None:
    """Write the automatic *ontvangstbevestiging* (Awb 9:6) of a new case to the outbox, once.

    It waits ``HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES`` before it goes (beat's outbox relay releases
    it), so a question answered at once gets none; with 0 it is queued at once.
    """
    case = Case.objects.select_related("registration").get(pk=case_id)
    existing = OutgoingMessage.objects.filter(dedupe_key=acknowledgement_key(case.pk)).first()
    if existing is not None:
        return existing
    if case.state != CaseState.RECEIVED:
        logger.info("case %s is already %s; no automatic acknowledgement", case, case.state)
        return None
    draft = letter_compose(case=case, kind=LetterKind.ACKNOWLEDGEMENT)
    registration = case.registration
    channel, note = delivery_channel(registration)
    in_reply_to, references = thread_headers(case)
    try:
        with transaction.atomic():
            message = OutgoingMessage.objects.create(
                case=case,
                kind=LetterKind.ACKNOWLEDGEMENT,
                channel=channel,
                dedupe_key=acknowledgement_key(case.pk),
                automatic=True,
                to_email=registration.sender_email,
                to_name=registration.sender_name,
                to_address=registration.sender_address,
                subject=draft.subject,
                body_text=draft.body_text,
                message_id=new_message_id(case, LetterKind.ACKNOWLEDGEMENT),
                in_reply_to=in_reply_to,
                references=references,
                last_error=note,
            )
            if settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES <= 0:
                transaction.on_commit(lambda: _queue_send(message.pk))
    except IntegrityError:
        return OutgoingMessage.objects.get(dedupe_key=acknowledgement_key(case.pk))
    logger.info("acknowledgement of %s written to the outbox (%s, outbox %s)", case, channel, message.pk)
    return message


def outbox_due(*, now: datetime.datetime | None = None, stale_minutes: int = 5, lost_retry_minutes: int = 120) -> list[int]:
    """Outbox rows the relay should queue: held acknowledgements whose hold is over, rows never
    tried for ``stale_minutes`` (their on-commit queueing was lost), and rows still queued after a
    failed attempt ``lost_retry_minutes`` after they were written (the retry chain was lost)."""
    now = now or timezone.now()
    hold = datetime.timedelta(minutes=max(settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES, 0))
    stale = datetime.timedelta(minutes=stale_minutes)
    queued = OutgoingMessage.objects.filter(status=OutboxStatus.QUEUED)
    untried = queued.filter(attempts=0)
    held = untried.filter(automatic=True, kind=LetterKind.ACKNOWLEDGEMENT, created_at__lte=now - (hold if hold else stale))
    others = untried.exclude(automatic=True, kind=LetterKind.ACKNOWLEDGEMENT).filter(created_at__lte=now - stale)
    lost = queued.filter(attempts__gt=0, created_at__lte=now - datetime.timedelta(minutes=lost_retry_minutes))
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


# --- sending -----------------------------------------------------------------------------------
def _suppression_reason(message: OutgoingMessage, case: Case, channel: str) -> str:
    if message.kind == LetterKind.ACKNOWLEDGEMENT and case.state in ANSWERED_STATES:
        return str(REASON_ANSWERED_AT_ONCE)
    registration = case.registration
    if channel == DeliveryChannel.POST and not registration.sender_address.strip():
        return str(REASON_NO_ADDRESS)
    if message.automatic and channel == DeliveryChannel.EMAIL:
        address = registration.sender_email
        if is_automatic_address(address):
            return str(REASON_AUTOMATIC_ADDRESS % {"address": address})
        limit = settings.HANDVEST_AUTO_REPLY_LIMIT_PER_HOUR
        recent = (
            OutgoingMessage.objects.filter(
                automatic=True,
                status=OutboxStatus.SENT,
                channel=DeliveryChannel.EMAIL,
                to_email__iexact=address,
                sent_at__gte=timezone.now() - datetime.timedelta(hours=1),
            )
            .exclude(pk=message.pk)
            .count()
        )
        if recent >= limit:
            return str(REASON_RATE_LIMIT % {"count": recent, "address": address})
    return ""


def _municipality_footer(message: OutgoingMessage, case: Case) -> str:
    return tidy_text(render_text("letters/email_footer.txt", letter_context(case=case, message=message)))


def email_for(message: OutgoingMessage, case: Case, pdf: bytes | None = None) -> EmailMessage:
    """The e-mail of an outbox row: our Message-ID, threading headers, RFC 3834 headers when automatic."""
    municipality = MunicipalitySettings.load()
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


def pdf_filename(message: OutgoingMessage, case: Case) -> str:
    return f"{case.registration.number}-{message.kind}.pdf"


def letter_render_pdf(*, case: Case, subject: str, body_text: str, kind: str, letter_date: datetime.date | None = None) -> bytes:
    """The letter as an A4 PDF, the address placed for a window envelope (``letters/letter.html``).

    Also the officer's preview: nothing is stored.
    """
    from weasyprint import HTML  # heavy import; only where a PDF is made

    registration = case.registration
    municipality = MunicipalitySettings.load()
    address_lines = [line.strip() for line in registration.sender_address.splitlines() if line.strip()]
    name = registration.sender_name.strip()
    if name and (not address_lines or address_lines[0] != name):
        address_lines.insert(0, name)
    context = {
        "case": case,
        "registration": registration,
        "municipality": municipality,
        "return_address": _one_line(f"{municipality.name}\n{municipality.postal_address}"),
        "address_lines": address_lines,
        "letter_date": letter_date or timezone.localdate(),
        "number": registration.number,
        "subject": subject,
        "body_text": body_text,
        "paragraphs": letter_paragraphs(body_text),
        "kind_label": capfirst(str(LetterKind(kind).label)),
        "private_link": private_link(case),
    }
    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string("letters/letter.html", context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def letter_paragraphs(body_text: str) -> list[dict]:
    """The body as paragraphs for the PDF; a first line that asks a question ("Wat gebeurt er nu?") is its heading."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", body_text.strip()):
        lines = [line.rstrip() for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        heading = lines[0] if len(lines) > 1 and lines[0].endswith("?") and len(lines[0]) <= 80 else ""
        paragraphs.append({"heading": heading, "lines": lines[1:] if heading else lines})
    return paragraphs


def _record_letter(message: OutgoingMessage, case: Case) -> None:
    CaseEvent.objects.create(
        case=case,
        actor=message.created_by,
        kind=EventKind.MESSAGE_OUT,
        name=message.kind,
        internal=False,
        note=capfirst(str(LetterKind(message.kind).label)),
        data={"outgoing_id": message.pk, "channel": message.channel, "message_id": message.message_id},
    )


def _acknowledge_case(message: OutgoingMessage, case: Case) -> None:
    """The system runs 'acknowledge' once the acknowledgement is on its way."""
    if message.kind != LetterKind.ACKNOWLEDGEMENT or case.state != CaseState.RECEIVED:
        return
    from cases.services.workflow import WorkflowError, case_transition

    how = _("per e-mail") if message.channel == DeliveryChannel.EMAIL else _("per post")
    try:
        case_transition(case_id=case.pk, name="acknowledge", actor=None, note=f"{capfirst(str(LetterKind.ACKNOWLEDGEMENT.label))} {how}")
    except WorkflowError as exc:
        logger.warning("acknowledgement of %s sent, but the case could not be acknowledged: %s", case, exc)


def outgoing_send(*, outgoing_id: int) -> str:
    """Send one outbox row, exactly once; returns what happened.

    ``"sent"`` (e-mail), ``"to_print"`` (PDF letter for the mailroom), ``"suppressed"`` (not sent,
    reason in ``last_error``), ``"skipped"`` (no longer queued: sent before, or handled by a twin
    delivery), or ``"missing"``. Raises :class:`DeliveryError` when the mail backend fails; then
    nothing is marked and the caller (the task) records the failure and retries.

    The row stays locked while the mail goes out, so a second delivery of the same task waits,
    then finds it sent.
    """
    with transaction.atomic():
        message = OutgoingMessage.objects.select_for_update().filter(pk=outgoing_id).first()
        if message is None:
            logger.warning("outgoing message %s does not exist; nothing to send", outgoing_id)
            return "missing"
        if message.status != OutboxStatus.QUEUED:
            logger.info("outgoing message %s is %s; not sent again", outgoing_id, message.status)
            return "skipped"
        case = Case.objects.select_related("registration").get(pk=message.case_id)
        registration = case.registration
        channel, note = delivery_channel(registration)
        reason = _suppression_reason(message, case, channel)
        if reason:
            message.status = OutboxStatus.SUPPRESSED
            message.last_error = reason
            message.save(update_fields=["status", "last_error"])
            logger.info("outgoing message %s (%s of %s) suppressed: %s", message.pk, message.kind, case, reason)
            return "suppressed"
        message.channel = channel
        message.to_email = registration.sender_email
        message.to_name = registration.sender_name
        message.to_address = registration.sender_address
        formal = message.kind in FORMAL_KINDS
        pdf = None
        if channel == DeliveryChannel.POST or formal:
            pdf = letter_render_pdf(case=case, subject=message.subject, body_text=message.body_text, kind=message.kind)
        if channel == DeliveryChannel.EMAIL:
            try:
                email_for(message, case, pdf if formal else None).send(fail_silently=False)
            except Exception as exc:
                raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
            message.status = OutboxStatus.SENT
            message.sent_at = timezone.now()
        else:
            message.status = OutboxStatus.TO_PRINT
        if pdf is not None:
            message.pdf.save(f"{registration.number}-{message.kind}-{message.pk}.pdf", ContentFile(pdf), save=False)
        message.attempts = F("attempts") + 1
        message.last_error = note
        message.save()
        message.refresh_from_db(fields=["attempts"])
        _record_letter(message, case)
        _acknowledge_case(message, case)
    logger.info("outgoing message %s (%s of %s): %s", message.pk, message.kind, case, message.status)
    return "sent" if message.status == OutboxStatus.SENT else "to_print"


def outgoing_record_failure(*, outgoing_id: int, error: str, final: bool, max_attempts: int | None = None) -> OutgoingMessage | None:
    """Count a failed attempt; after the last one (``final``, or ``max_attempts`` reached) the row
    is 'failed' and officers see the error. Returns the row; still 'queued' means: retry."""
    with transaction.atomic():
        message = OutgoingMessage.objects.select_for_update().filter(pk=outgoing_id).first()
        if message is None or message.status != OutboxStatus.QUEUED:
            return message
        message.attempts += 1
        if final or (max_attempts is not None and message.attempts >= max_attempts):
            message.status = OutboxStatus.FAILED
            message.last_error = str(REASON_SEND_FAILED % {"attempts": message.attempts, "error": error})
            logger.error("outgoing message %s failed for good after %s attempts: %s", message.pk, message.attempts, error)
        else:
            message.last_error = str(REASON_RETRYING % {"attempts": message.attempts, "error": error})
            logger.warning("outgoing message %s attempt %s failed: %s", message.pk, message.attempts, error)
        message.save(update_fields=["attempts", "status", "last_error"])
    return message


def outgoing_requeue(*, outgoing_id: int, actor) -> OutgoingMessage:
    """An officer sends a failed or suppressed message again (e.g. after correcting the address)."""
    if actor is not None and not actor.has_perm(HANDLE_PERMISSION):
        raise PermissionDenied(errors.NO_PERMISSION)
    with transaction.atomic():
        message = OutgoingMessage.objects.select_for_update().get(pk=outgoing_id)
        if message.status not in (OutboxStatus.FAILED, OutboxStatus.SUPPRESSED):
            logger.warning("outgoing message %s is %s; not requeued", message.pk, message.status)
            raise ValidationError({"status": NOT_RESENDABLE % {"status": message.get_status_display()}})
        message.status = OutboxStatus.QUEUED
        message.attempts = 0
        message.last_error = ""
        # An officer's explicit choice is no automatic reply: the loop guards do not apply to it.
        message.automatic = False
        message.save(update_fields=["status", "attempts", "last_error", "automatic"])
        transaction.on_commit(lambda: _queue_send(message.pk))
    logger.info("outgoing message %s requeued by %s", message.pk, getattr(actor, "username", "system"))
    return message


def outgoing_mark_printed(*, outgoing_id: int, actor) -> OutgoingMessage:
    """The mailroom printed and posted a PDF letter."""
    if actor is not None and not (actor.has_perm(HANDLE_PERMISSION) or actor.has_perm("cases.add_registration")):
        raise PermissionDenied(NO_PRINT_PERMISSION)
    with transaction.atomic():
        message = OutgoingMessage.objects.select_for_update().get(pk=outgoing_id)
        if message.status != OutboxStatus.TO_PRINT:
            logger.warning("outgoing message %s is %s; cannot be marked printed", message.pk, message.status)
            raise ValidationError({"status": NOT_TO_PRINT % {"status": message.get_status_display()}})
        message.status = OutboxStatus.PRINTED
        message.printed_at = timezone.now()
        message.save(update_fields=["status", "printed_at"])
    logger.info("outgoing message %s printed by %s", message.pk, getattr(actor, "username", "system"))
    return message


def outgoing_reroute_to_post(*, message_id: str, reason: str = "") -> OutgoingMessage | None:
    """A letter we e-mailed bounced for good: send the same letter by post (once), and say why."""
    original = OutgoingMessage.objects.select_related("case__registration").filter(message_id=_angle(message_id)).first()
    if original is None:
        original = OutgoingMessage.objects.select_related("case__registration").filter(message_id=message_id.strip("<>")).first()
    if original is None or original.channel != DeliveryChannel.EMAIL or original.status != OutboxStatus.SENT:
        return None
    case = original.case
    registration = case.registration
    if not registration.sender_address.strip():
        logger.warning("letter %s bounced and %s has no postal address; an officer must call or write", original.pk, registration.number)
        return None
    key = f"{original.dedupe_key}:post"
    note = reason or str(REASON_BOUNCED % {"address": original.to_email})
    try:
        with transaction.atomic():
            copy = OutgoingMessage.objects.create(
                case=case,
                kind=original.kind,
                channel=DeliveryChannel.POST,
                dedupe_key=key[:120],
                automatic=False,
                to_name=registration.sender_name,
                to_address=registration.sender_address,
                subject=original.subject,
                body_text=original.body_text,
                message_id=new_message_id(case, original.kind),
                last_error=note,
                created_by=original.created_by,
            )
            transaction.on_commit(lambda: _queue_send(copy.pk))
    except IntegrityError:
        return OutgoingMessage.objects.get(dedupe_key=key[:120])
    logger.info("letter %s of %s bounced; a copy goes by post (outbox %s)", original.pk, registration.number, copy.pk)
    return copy


__all__ = [
    "FORMAL_KINDS",
    "DeliveryError",
    "Letter",
    "acknowledgement_key",
    "acknowledgement_queue",
    "cases_missing_acknowledgement",
    "delivery_channel",
    "email_for",
    "is_automatic_address",
    "letter_compose",
    "letter_context",
    "letter_queue",
    "letter_render_pdf",
    "outbox_due",
    "outgoing_mark_printed",
    "outgoing_record_failure",
    "outgoing_requeue",
    "outgoing_reroute_to_post",
    "outgoing_send",
    "private_link",
    "render_text",
    "thread_headers",
]


# --- a step and its letter, in one transaction ----------------------------------------------------
def case_step_with_letter(
    *, case_id: int, name: str, kind: str, subject: str, body_text: str, actor, expected_state: str | None = None, note: str = "", **params
) -> tuple[Case, OutgoingMessage]:
    """Run a transition and write its letter in one transaction: both happen, or neither.

    E.g. ``decline`` with the decline letter, ``answer`` with the answer (Awb 9:12).
    """
    from cases.services.workflow import case_transition

    with transaction.atomic():
        case = case_transition(case_id=case_id, name=name, actor=actor, expected_state=expected_state, note=note, **params)
        message = letter_queue(case_id=case_id, kind=kind, subject=subject, body_text=body_text, actor=actor)
    return case, message


def case_extend_with_notice(
    *,
    case_id: int,
    new_due: datetime.date,
    reason: str,
    actor,
    subject: str | None = None,
    body_text: str | None = None,
    expected_state: str | None = None,
) -> tuple[Case, OutgoingMessage]:
    """Extend the answer term once (Awb 9:11 lid 2) and write the interim notice in the same transaction.

    Without ``body_text`` the notice is composed from its template (reason and new date filled in).
    """
    from cases.services.workflow import case_extend

    with transaction.atomic():
        case = case_extend(case_id=case_id, new_due=new_due, reason=reason, actor=actor, expected_state=expected_state)
        if body_text is None or subject is None:
            draft = letter_compose(case=Case.objects.select_related("registration").get(pk=case_id), kind=LetterKind.INTERIM_NOTICE)
            subject = subject if subject is not None else draft.subject
            body_text = body_text if body_text is not None else draft.body_text
        message = letter_queue(case_id=case_id, kind=LetterKind.INTERIM_NOTICE, subject=subject, body_text=body_text, actor=actor)
    return case, message


__all__ += ["case_extend_with_notice", "case_step_with_letter"]
