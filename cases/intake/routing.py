"""Routing a stored e-mail to its one outcome, from the facts the rules read (``cases.intake.email``
calls ``route`` once per message).

The decision is made once, in ``route``: a bounce of one of our letters goes to its case; then
the thread is looked up and the kind classified (only where it can matter); then advertising,
automatic replies, replies to a case, and everything else, which is registered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.intake import classify
from cases.intake.bounces import bounce_record
from cases.intake.mail_attachments import dropped_suffix, note_dropped, store_attachments
from cases.intake.parsing.mime import ParsedEmail
from cases.intake.parsing.rules import BounceInfo, MailFacts, sender_unverified
from cases.intake.threading import ThreadTarget, find_thread, outgoing_for
from cases.models import Case, CaseEvent, EventKind, InboundMessage, InboundOutcome, IntakeChannel, Registration
from cases.signals import citizen_reply_threaded
from cases.workflow.registration import Sender, register_item

logger = logging.getLogger(__name__)

ADVERTISING = _("Reclame, niet geregistreerd (%(reason)s).")
AUTO_REPLY = _("Automatisch bericht, niet geregistreerd en niet beantwoord (%(reason)s).")
AUTO_REPLY_THREADED = _("Automatisch bericht bij zaak %(number)s, niet beantwoord (%(reason)s).")
BOUNCE_THREADED = _("Onbestelbaar-melding van onze brief bij zaak %(number)s (%(reason)s).")
THREADED = _("Reactie bij %(number)s gevoegd.")
REGISTERED_CASE = _("Geregistreerd als %(kind)s: %(number)s.")
REGISTERED_TRIAGE = _("Geregistreerd als overige post, wacht in triage: %(number)s.")

# Timeline notes for the officer.
NOTE_REPLY = _("E-mail ontvangen van %(sender)s: %(subject)s")
NOTE_REPLY_OTHER_SENDER = _("Let op: afzender %(sender)s is niet het adres van de indiener.")
NOTE_REPLY_UNVERIFIED = _(
    "Let op: de mailserver kon niet bevestigen dat deze e-mail echt van %(sender)s komt (SPF/DKIM/DMARC mislukt); "
    "mogelijk vervalst. Hij staat niet op de pagina van de indiener."
)
NOTE_AUTO_REPLY = _("Automatisch antwoord ontvangen van %(sender)s: %(subject)s")


@dataclass(frozen=True)
class IntakeResult:
    """What became of one message; ``reference`` is the registration number it concerns, if any."""

    outcome: str
    reference: str = ""
    message: str = ""
    inbound_id: int | None = None

    def as_dict(self) -> dict[str, str]:
        return {"outcome": self.outcome, "reference": self.reference, "message": self.message}


class AlreadyRegistered(Exception):
    """The message was registered before (under its Message-ID or content); nothing changes."""

    def __init__(self, registration: Registration):
        self.registration = registration


def route(inbound: InboundMessage, parsed: ParsedEmail, facts: MailFacts) -> IntakeResult:
    """Decide what the message is and do what follows from it, inside the caller's transaction."""
    if facts.bounce is not None:
        return _route_bounce(inbound, parsed, facts.bounce)
    target = find_thread(facts)
    classification = _classify(parsed, facts, target)
    if classification is not None and classification.kind == classify.ADVERTISING:
        return _route_advertising(inbound, classification.reason)
    if facts.loop is not None:
        return _route_auto_reply(inbound, parsed, facts.loop.reason, target)
    if target is not None:
        return _route_thread(inbound, parsed, target)
    return _route_register(inbound, parsed, classification)


def _classify(parsed: ParsedEmail, facts: MailFacts, target: ThreadTarget | None) -> classify.Classification | None:
    """Complaint, suggestion, other or advertising; None where it cannot matter: a strong automatic
    message, or a reply to one of our cases (a weak one, such as bulk mail, may still be advertising)."""
    if target is not None or (facts.loop is not None and facts.loop.strong):
        return None
    headers = {name: parsed.header(name) for name in classify.CAMPAIGN_HEADERS}
    return classify.classify_kind(subject=parsed.subject, text=parsed.text, headers=headers)


# --- the outcomes ----------------------------------------------------------------------------------
def _finish(
    inbound: InboundMessage, *, outcome: str, reason: str, registration: Registration | None = None, case: Case | None = None, from_sender: bool = False
) -> None:
    inbound.outcome = outcome
    inbound.reason = reason
    inbound.registration = registration or (case.registration if case is not None else None)
    inbound.case = case
    inbound.from_sender = from_sender
    inbound.save(update_fields=["outcome", "reason", "registration", "case", "from_sender"])


def _sender_label(parsed: ParsedEmail) -> str:
    if parsed.from_name and parsed.from_address:
        return f"{parsed.from_name} <{parsed.from_address}>"
    return parsed.from_address or parsed.from_name or "onbekende afzender"


def _event_data(inbound: InboundMessage, parsed: ParsedEmail, **extra) -> dict:
    return {"inbound_message_id": inbound.pk, "message_id": parsed.message_id, "from": parsed.from_address, "subject": parsed.subject, **extra}


def _route_bounce(inbound: InboundMessage, parsed: ParsedEmail, info: BounceInfo) -> IntakeResult:
    """A bounce of one of our letters: noted on its case (``bounces.bounce_record``)."""
    outgoing = outgoing_for(info.returned_message_ids)
    reason = "bounce" + (f": {info.diagnostic}" if info.diagnostic else "")
    data = _event_data(inbound, parsed)
    recipient = info.recipients[0] if info.recipients else ""
    case = None
    if outgoing is not None:
        data.update(returned_message_id=outgoing.message_id, recipients=info.recipients)
        case = bounce_record(outgoing, permanent=info.permanent, recipient=recipient, diagnostic=info.diagnostic, data=data)
    if case is None:
        _finish(inbound, outcome=InboundOutcome.AUTO_REPLY, reason=reason)
        logger.info("bounce for a message that is not ours (returned %s); not registered", ", ".join(info.returned_message_ids) or "unknown")
        return IntakeResult(InboundOutcome.AUTO_REPLY, "", str(AUTO_REPLY % {"reason": reason}), inbound.pk)
    _finish(inbound, outcome=InboundOutcome.AUTO_REPLY, reason=reason, case=case)
    # The diagnostic quotes the address; it is on the case's timeline, the log has the status code only.
    number, status = case.registration.number, info.status or "no status"
    logger.warning("bounce of %s for %s (%s, %s)", outgoing.message_id, number, "permanent" if info.permanent else "temporary", status)
    return IntakeResult(InboundOutcome.AUTO_REPLY, number, str(BOUNCE_THREADED % {"number": number, "reason": reason}), inbound.pk)


def _route_auto_reply(inbound: InboundMessage, parsed: ParsedEmail, reason: str, target: ThreadTarget | None) -> IntakeResult:
    """An automatic message is never registered (so never acknowledged); one about a case joins its timeline."""
    registration, case = (target.registration, target.case) if target else (None, None)
    if case is not None:
        note = str(NOTE_AUTO_REPLY % {"sender": _sender_label(parsed), "subject": parsed.subject})
        data = _event_data(inbound, parsed, reason=reason)
        CaseEvent.objects.create(case=case, kind=EventKind.MESSAGE_IN, name="auto_reply", note=note, internal=True, data=data)
    _finish(inbound, outcome=InboundOutcome.AUTO_REPLY, reason=reason, registration=registration, case=case)
    if registration is not None:
        logger.info("auto-reply (%s) joins %s; no acknowledgement", reason, registration.number)
        message = AUTO_REPLY_THREADED % {"number": registration.number, "reason": reason}
        return IntakeResult(InboundOutcome.AUTO_REPLY, registration.number, str(message), inbound.pk)
    logger.info("auto-reply (inbound message %s) not registered (%s)", inbound.pk, reason)
    return IntakeResult(InboundOutcome.AUTO_REPLY, "", str(AUTO_REPLY % {"reason": reason}), inbound.pk)


def _route_advertising(inbound: InboundMessage, reason: str) -> IntakeResult:
    _finish(inbound, outcome=InboundOutcome.IGNORED, reason=reason)
    day = timezone.localdate(inbound.received_at)
    count = InboundMessage.objects.filter(outcome=InboundOutcome.IGNORED, received_at__date=day).count()
    # The message's id, not its subject or sender: a complaint taken for advertising would put personal data in the log.
    logger.info(
        "advertising not registered (charter: 'behalve reclame'): inbound message %s; %d advertising message(s) received on %s",
        inbound.pk,
        count,
        day.isoformat(),
    )
    return IntakeResult(InboundOutcome.IGNORED, "", str(ADVERTISING % {"reason": reason}), inbound.pk)


def _names_sender(parsed: ParsedEmail, registration: Registration) -> bool:
    """Whether the mail names the address the case was registered with (as its Reply-To or From)."""
    known = registration.sender_email.strip().lower()
    return bool(known) and known in (parsed.reply_address.lower(), parsed.from_address.lower())


def _from_sender(parsed: ParsedEmail, registration: Registration) -> bool:
    """From the case's sender: it names their address, and the receiving server did not find that forged."""
    return _names_sender(parsed, registration) and not sender_unverified(parsed)


def _reply_note(parsed: ParsedEmail, registration: Registration, from_sender: bool) -> str:
    note = str(NOTE_REPLY % {"sender": _sender_label(parsed), "subject": parsed.subject or "(geen onderwerp)"})
    if registration.sender_email.strip() and not from_sender:
        warning = NOTE_REPLY_UNVERIFIED if _names_sender(parsed, registration) else NOTE_REPLY_OTHER_SENDER
        note += " " + str(warning % {"sender": parsed.from_address or "?"})
    return note


def _route_thread(inbound: InboundMessage, parsed: ParsedEmail, target: ThreadTarget) -> IntakeResult:
    """A reply joins the timeline of the case it answers, attachments included; no new registration."""
    registration, case = target.registration, target.case
    notes = store_attachments(inbound, parsed.attachments, registration)
    from_sender = _from_sender(parsed, registration)
    if case is not None:
        data = _event_data(inbound, parsed, how=target.how, text=parsed.text[:5000])
        note = _reply_note(parsed, registration, from_sender)
        CaseEvent.objects.create(case=case, kind=EventKind.MESSAGE_IN, name="email", note=note, internal=True, data=data)
        note_dropped(case, notes)
    reason = target.how + dropped_suffix(notes)
    _finish(inbound, outcome=InboundOutcome.THREAD, reason=reason, registration=registration, case=case, from_sender=from_sender)
    if case is not None:
        # The conversation takes a reply to an open question as its answer (cases.conversation), in this transaction.
        citizen_reply_threaded.send(sender=Case, case_id=case.pk, inbound=inbound)
    logger.info("reply joins %s (%s)", registration.number, target.how)
    return IntakeResult(InboundOutcome.THREAD, registration.number, str(THREADED % {"number": registration.number}), inbound.pk)


def _route_register(inbound: InboundMessage, parsed: ParsedEmail, classification: classify.Classification) -> IntakeResult:
    """Everything else is registered once: a complaint or suggestion becomes a case, other mail waits in triage."""
    registration, created = register_item(
        channel=IntakeChannel.EMAIL,
        kind=classification.kind,
        text=parsed.text,
        subject=parsed.subject,
        sender=Sender(name=parsed.from_name, email=parsed.reply_address),
        received_on=timezone.localdate(inbound.received_at),
        message_id=parsed.message_id or None,
        # The Message-ID is the identity when there is one; only without it the content key is.
        hash_value=None if parsed.message_id else inbound.content_hash,
    )
    if not created:
        raise AlreadyRegistered(registration)
    notes = store_attachments(inbound, parsed.attachments, registration)
    case = getattr(registration, "case", None)
    if case is not None:
        note_dropped(case, notes)
        outcome, message = InboundOutcome.CASE, REGISTERED_CASE % {"kind": registration.get_kind_display(), "number": registration.number}
    else:
        outcome, message = InboundOutcome.TRIAGE, REGISTERED_TRIAGE % {"number": registration.number}
    reason = classify.routing_reason(classification) + dropped_suffix(notes)
    _finish(inbound, outcome=outcome, reason=reason, registration=registration, case=case)
    return IntakeResult(outcome, registration.number, str(message) + dropped_suffix(notes), inbound.pk)
