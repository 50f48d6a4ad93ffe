"""A letter of ours that did not arrive: reported by a delivery-status mail to info@ (``routing``) or,
with an ESP, on its tracking webhook (anymail's ``tracking`` signal, ``handle_tracking``). Both end
here: a note on the case; when the failure is permanent and the address is still the citizen's, the
address is marked undeliverable and the letter goes again by post after commit.

With an ESP the envelope sender is the ESP's own bounce address, so its webhook is the only report
of a bounce; an ESP posts an event again until it is answered, so an event is recorded once.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from cases.correspondence.bounces import outgoing_reroute_to_post
from cases.intake.threading import case_is_wiped
from cases.models import Case, CaseEvent, EventKind, OutgoingMessage, Registration
from cases.models.registration import normal_email
from cases.workflow.handling import follow_merges

logger = logging.getLogger(__name__)

NOTE_BOUNCE_PERMANENT = _("E-mail aan %(recipient)s kwam niet aan (%(diagnostic)s). Het adres is als onbestelbaar gemarkeerd: volgende brieven gaan per post.")
NOTE_BOUNCE_NO_POST = _(
    "E-mail aan %(recipient)s kwam niet aan (%(diagnostic)s). Het adres is als onbestelbaar gemarkeerd. Er is geen postadres: "
    "bel de indiener of vraag om een ander adres, anders bereikt de brief hem niet."
)
NOTE_BOUNCE_OLD_ADDRESS = _(
    "E-mail aan %(recipient)s kwam niet aan (%(diagnostic)s). Dat is niet meer het adres van de indiener; het huidige adres blijft in gebruik."
)
NOTE_BOUNCE_TEMPORARY = _("E-mail aan %(recipient)s is vertraagd (%(diagnostic)s); de ESP probeert het opnieuw.")
NOTE_COMPLAINED = _(
    "De indiener markeerde onze e-mail aan %(recipient)s als ongewenst (spam). De verzenddienst stuurt daar mogelijk niets meer heen; "
    "een brief die daardoor niet aankomt, gaat per post. Bel de indiener als er iets belangrijks komt."
)
# anymail's normalized events that mean the letter will not arrive at that address.
PERMANENT_EVENTS = {"bounced", "rejected"}
# The recipient marked our mail as spam: noted for the officer (the ESP may hold back later mail, which it then reports as rejected).
COMPLAINED_EVENT = "complained"


def bounce_record(outgoing: OutgoingMessage, *, permanent: bool, recipient: str, diagnostic: str, data: dict) -> Case | None:
    """Note the bounce of ``outgoing`` on its case (the case it was merged into); returns that case, or
    None for a case whose personal data is gone (nothing to note, nothing to send again)."""
    case = follow_merges(outgoing.case)
    if case_is_wiped(case):
        return None
    registration = Registration.objects.select_for_update().get(pk=case.registration_id)
    recipient = outgoing.to_email or recipient or registration.sender_email
    diagnostic = diagnostic or ("permanent" if permanent else "tijdelijk")
    # A late report about an address the citizen no longer uses (corrected, or a merged case's) leaves the current one alone.
    current = normal_email(recipient) == normal_email(registration.sender_email)
    note = _bounce_note(permanent, current, bool(registration.sender_address.strip())) % {"recipient": recipient, "diagnostic": diagnostic}
    CaseEvent.objects.create(case=case, kind=EventKind.NOTE, name="bounce", note=str(note), internal=True, data={**data, "permanent": permanent})
    if permanent and current:
        if not registration.email_undeliverable:
            registration.email_undeliverable = True
            registration.save(update_fields=["email_undeliverable"])
        returned = outgoing.message_id
        transaction.on_commit(lambda: outgoing_reroute_to_post(message_id=returned))
    return case


def _complaint_record(outgoing: OutgoingMessage, *, recipient: str, data: dict) -> Case | None:
    case = follow_merges(outgoing.case)
    if case_is_wiped(case):
        return None
    note = NOTE_COMPLAINED % {"recipient": recipient}
    CaseEvent.objects.create(case=case, kind=EventKind.NOTE, name=COMPLAINED_EVENT, note=str(note), internal=True, data=data)
    return case


def _bounce_note(permanent: bool, current: bool, has_address: bool):
    if not permanent:
        return NOTE_BOUNCE_TEMPORARY
    if not current:
        return NOTE_BOUNCE_OLD_ADDRESS
    return NOTE_BOUNCE_PERMANENT if has_address else NOTE_BOUNCE_NO_POST


def handle_tracking(sender, event, esp_name: str, **kwargs) -> None:
    """anymail's ``tracking`` signal: a bounce or rejection of one of our letters, reported by the ESP.
    Other events (delivered, opened, ...) are not kept: they say nothing an officer acts on."""
    if event.event_type not in PERMANENT_EVENTS | {"deferred", COMPLAINED_EVENT} or not event.message_id:
        return
    with transaction.atomic():
        outgoing = OutgoingMessage.objects.select_related("case").filter(provider_message_id=str(event.message_id)).first()
        if outgoing is None:
            logger.info("%s %s event for a message that is not ours; ignored", esp_name, event.event_type)
            return
        key = {"esp_event": f"{esp_name}:{event.event_id or ''}:{event.event_type}:{event.message_id}:{event.recipient or ''}"}
        if CaseEvent.objects.filter(name__in=("bounce", COMPLAINED_EVENT), data__esp_event=key["esp_event"]).exists():  # a key's equality: SQLite too
            return  # the ESP posted this event again
        if event.event_type == COMPLAINED_EVENT:
            case = _complaint_record(outgoing, recipient=event.recipient or outgoing.to_email, data=key)
            if case is not None:
                logger.warning("%s reports our mail %s marked as spam for %s", esp_name, outgoing.message_id, case.registration.number)
            return
        diagnostic = (event.mta_response or event.description or event.reject_reason or "")[:300]
        permanent = event.event_type in PERMANENT_EVENTS
        case = bounce_record(
            outgoing, permanent=permanent, recipient=event.recipient or "", diagnostic=diagnostic, data={**key, "returned_message_id": outgoing.message_id}
        )
    if case is not None:
        # The diagnostic quotes the address; it is on the case's timeline, the log names the kind only.
        logger.warning("%s reports %s of %s for %s", esp_name, event.event_type, outgoing.message_id, case.registration.number)
