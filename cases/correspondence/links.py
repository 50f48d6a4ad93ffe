"""The citizen's private link (``Case.public_token``): replaced on request, the old one dead at once.

A link sent to a mistyped e-mail address, forwarded, or read over someone's shoulder shows the
complaint and its letters for as long as it lives. An officer replaces it, with the reason on the
timeline, and the new link goes to the citizen in a letter of its own (``LetterKind.PRIVATE_LINK``),
in the same transaction: the citizen is never left without a working link. Correcting the e-mail
address (AVG art. 16, ``cases.records.erasure``) replaces it too, since the old one went to the
wrong address.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from cases import errors
from cases.correspondence.composing import letter_compose, one_line, private_link
from cases.correspondence.outbox import delivery_channel, letter_queue
from cases.correspondence.post import IN_THE_MAILROOM, REPRINT_NEW_LINK, letter_remake
from cases.correspondence.suppression import NOT_GONE
from cases.errors import WorkflowError
from cases.models import Case, CaseEvent, DeliveryChannel, EventKind, LetterKind, OutboxStatus, OutgoingMessage, new_public_token
from cases.permissions import HANDLE_CASE, HANDLE_DATA_REQUESTS, require
from cases.workflow.transitions import seen_fingerprint

logger = logging.getLogger(__name__)

LINK_REASON_NEEDED = _("Vermeld waarom de link vernieuwd wordt (bijvoorbeeld: naar een verkeerd e-mailadres gestuurd).")
LINK_GONE = _("De persoonsgegevens van deze zaak zijn vernietigd of gewist: er is geen persoonlijke pagina meer.")
LINK_ALREADY_RENEWED = _("De link is zojuist al vernieuwd (door u of een collega); de indiener krijgt die nieuwe link. Er is niets dubbel gedaan.")
LINK_RENEWED_NOTE = _("Nieuwe persoonlijke link gemaakt en naar de indiener gestuurd: %(reason)s. De oude link werkt niet meer.")
LINK_RENEWED_MERGED_NOTE = _("Nieuwe persoonlijke link gemaakt (samengevoegde zaak: geen brief): %(reason)s. De oude link werkt niet meer.")


def link_fingerprint(case) -> str:
    """What the officer's form carries of the link it replaces (never the link itself)."""
    return seen_fingerprint(case.public_token)


def private_link_renew(*, case_id: int, reason: str, actor, seen: str | None = None) -> OutgoingMessage | None:
    """Give the case a new private link, send it to the citizen, and note why; returns the letter.

    ``seen``: the ``link_fingerprint`` on the officer's page; when the link was replaced meanwhile (a
    double click, a colleague), nothing happens again. A merged case gets a new link but no letter
    (its citizen follows the case it was merged into; the old link must still die). Refused (nothing
    changes) for a case whose personal data is gone, and a citizen with neither an e-mail nor a postal
    address.
    """
    require(actor, HANDLE_CASE, HANDLE_DATA_REQUESTS, message=errors.NO_PERMISSION)
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": LINK_REASON_NEEDED})
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("registration").get(pk=case_id)
        if case.public_token_revoked:
            raise WorkflowError(LINK_GONE)
        if seen is not None and seen != link_fingerprint(case):
            raise WorkflowError(LINK_ALREADY_RENEWED)
        old_link = private_link(case)
        case.public_token = new_public_token()
        case.save(update_fields=["public_token"])
        _relink_waiting(case, old_link, private_link(case))
        message = None
        if case.merged_into_id is None:
            letter = letter_compose(case=case, kind=LetterKind.PRIVATE_LINK)
            # The system writes it (the permission was checked above): a privacy officer who corrects an
            # address need not also be a case handler.
            message = letter_queue(
                case_id=case.pk,
                kind=LetterKind.PRIVATE_LINK,
                subject=letter.subject,
                body_text=letter.body_text,
                dedupe_key=f"case:{case.pk}:private_link:{case.public_token[:16]}",
            )
        note = LINK_RENEWED_NOTE if message is not None else LINK_RENEWED_MERGED_NOTE
        CaseEvent.objects.create(case=case, actor=actor, kind=EventKind.NOTE, name="private_link_renewed", note=str(note % {"reason": reason}), internal=True)
    logger.info("private link of %s renewed by %s", case, getattr(actor, "username", "system"))
    return message


def _relink_waiting(case: Case, old_link: str, new_link: str) -> None:
    """The case's letters that have not left yet (waiting, failed, or in the mailroom) carry the new link, not the one
    that gives 404 from now on; one in the mailroom goes back to the outbox to be made (and printed) again."""
    waiting = (*NOT_GONE, OutboxStatus.FAILED)
    for letter in OutgoingMessage.objects.select_for_update().filter(case=case, status__in=waiting, body_text__contains=old_link):
        letter.body_text = letter.body_text.replace(old_link, new_link)
        if letter.status in IN_THE_MAILROOM:
            letter_remake(letter, reprint=REPRINT_NEW_LINK)
        else:
            letter.save(update_fields=["body_text"])
        logger.info("letter %s of %s carries the new private link", letter.pk, case)


def link_destination(case) -> str:
    """Where the letter with a new link would go: the e-mail address, else the postal address (one line)."""
    channel, _note = delivery_channel(case.registration)
    if channel == DeliveryChannel.EMAIL:
        return case.registration.sender_email
    return one_line(case.registration.sender_address)
