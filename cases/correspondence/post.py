"""PDF letters in the mailroom: queued → printed → posted.

A letter for a citizen without (working) e-mail is a PDF that waits in the print queue. The
mailroom marks what it printed, then marks a batch as posted with the date it went in the post;
only then has the letter left: it appears on the citizen's page, an acknowledgement acknowledges
its case, and the posting date is what the charter's terms count. Until then the text read
from an incoming letter may still be corrected.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.correspondence.departure import letter_left
from cases.correspondence.outbox import send_after_commit
from cases.correspondence.suppression import gone_reason, letters_withhold
from cases.models import Case, OutboxStatus, OutgoingMessage
from cases.permissions import HANDLE_CASE, REGISTER_POST, require

logger = logging.getLogger(__name__)

NOT_TO_PRINT = _("Deze brief staat niet klaar om te printen (nu: %(status)s).")
NOT_TO_POST = _("Brief %(number)s staat niet klaar om te posten (nu: %(status)s).")
NO_PRINT_PERMISSION = _("U mag brieven niet als geprint of gepost markeren.")
NOTHING_CHOSEN = _("Kies eerst de brieven die gepost zijn.")
REPRINT_NEW_ADDRESS = _("Het adres is verbeterd: print deze brief opnieuw en gooi de eerdere print weg.")
REPRINT_NEW_LINK = _("De persoonlijke link is vernieuwd: print deze brief opnieuw en gooi de eerdere print weg.")
POSTED_IN_FUTURE = _("De postdatum kan niet in de toekomst liggen.")
POSTED_BEFORE_WRITTEN = _("Brief %(number)s is pas op %(date)s gemaakt; hij kan niet eerder gepost zijn.")
POSTED_BEFORE_PRINTED = _("Brief %(number)s is pas op %(date)s geprint; hij kan niet eerder gepost zijn.")
# Letters the mailroom still has to handle, oldest first.
IN_THE_MAILROOM = (OutboxStatus.TO_PRINT, OutboxStatus.PRINTED)


def outgoing_mark_printed(*, outgoing_id: int, actor) -> OutgoingMessage:
    """The mailroom printed a PDF letter; it still has to be posted."""
    require(actor, HANDLE_CASE, REGISTER_POST, message=NO_PRINT_PERMISSION)
    with transaction.atomic():
        message = OutgoingMessage.objects.select_for_update().get(pk=outgoing_id)
        if message.status == OutboxStatus.PRINTED:
            return message  # a double click, or a colleague a moment before: printed it is, once
        if message.status != OutboxStatus.TO_PRINT:
            logger.warning("outgoing message %s is %s; cannot be marked printed", message.pk, message.status)
            raise ValidationError({"status": NOT_TO_PRINT % {"status": message.get_status_display()}})
        message.status = OutboxStatus.PRINTED
        message.printed_at, message.reprint_reason = timezone.now(), ""
        message.save(update_fields=["status", "printed_at", "reprint_reason"])
    logger.info("outgoing message %s printed by %s", message.pk, getattr(actor, "username", "system"))
    return message


def _posting_moment(posted_on: datetime.date) -> datetime.datetime:
    """The moment a letter counts as posted: now when it is today, else the end of that working day."""
    today = timezone.localdate()
    if posted_on > today:
        raise ValidationError({"posted_on": POSTED_IN_FUTURE})
    if posted_on == today:
        return timezone.now()
    return timezone.make_aware(datetime.datetime.combine(posted_on, datetime.time(17, 0)))


def _post_one(message: OutgoingMessage, moment: datetime.datetime, actor) -> None:
    number = message.case.registration.number
    if message.status not in IN_THE_MAILROOM:
        raise ValidationError({"letters": NOT_TO_POST % {"number": number, "status": message.get_status_display()}})
    if timezone.localdate(moment) < timezone.localdate(message.created_at):
        raise ValidationError({"posted_on": POSTED_BEFORE_WRITTEN % {"number": number, "date": f"{timezone.localdate(message.created_at):%d-%m-%Y}"}})
    if message.printed_at is not None and timezone.localdate(moment) < timezone.localdate(message.printed_at):
        raise ValidationError({"posted_on": POSTED_BEFORE_PRINTED % {"number": number, "date": f"{timezone.localdate(message.printed_at):%d-%m-%Y}"}})
    message.status, message.posted_at, message.posted_by = OutboxStatus.POSTED, moment, actor
    message.printed_at = message.printed_at or moment
    message.save(update_fields=["status", "posted_at", "posted_by", "printed_at"])
    letter_left(message, Case.objects.select_related("registration").get(pk=message.case_id))


@dataclass(frozen=True)
class Posting:
    """What marking a batch did: the letters it posted, and those a colleague had marked posted already."""

    posted: list[OutgoingMessage]
    already: list[OutgoingMessage]
    withheld: list[OutgoingMessage] = field(default_factory=list)  # no longer to go (answered at once, merged): not posted


def letters_mark_posted(*, outgoing_ids: list[int], posted_on: datetime.date, actor) -> Posting:
    """The mailroom posted these letters on ``posted_on``: all of them, or none (a batch is one step). A letter
    marked posted already (a colleague's overlapping batch, decided under the lock) is skipped and named; one
    that was never in the mailroom refuses the batch."""
    require(actor, HANDLE_CASE, REGISTER_POST, message=NO_PRINT_PERMISSION)
    if not outgoing_ids:
        raise ValidationError({"letters": NOTHING_CHOSEN})
    moment = _posting_moment(posted_on)
    with transaction.atomic():
        letters = list(OutgoingMessage.objects.select_for_update().select_related("case__registration").filter(pk__in=outgoing_ids).order_by("pk"))
        already = [message for message in letters if message.status == OutboxStatus.POSTED]
        withheld = [message for message in letters if message.status != OutboxStatus.POSTED and gone_reason(message, message.case)]
        posted = [message for message in letters if message.status != OutboxStatus.POSTED and message not in withheld]
        for message in posted:
            _post_one(message, moment, actor)
        for case in {message.case for message in withheld}:
            letters_withhold(case)  # taken out of the queue with the reason, not posted
    logger.info("%s letter(s) posted on %s, marked by %s (%s posted before)", len(posted), posted_on, getattr(actor, "username", "system"), len(already))
    return Posting(posted=posted, already=already, withheld=withheld)


def letter_remake(message: OutgoingMessage, *, reprint: str) -> None:
    """A letter in the mailroom whose address or text changed goes back to the outbox, which makes its PDF again
    (rendered there, with its retries, so a failure never undoes the change); a printed one is to be printed again
    (``reprint`` says why). Its old PDF goes once the change is committed. Call inside the change's transaction."""
    old_pdf = message.pdf.name
    message.pdf = ""
    if message.status == OutboxStatus.PRINTED:
        message.reprint_reason = str(reprint)  # else the one of an earlier change, if that print is still to be made again
    message.last_error = ""
    message.status, message.printed_at = OutboxStatus.QUEUED, None
    message.save()
    if old_pdf:
        transaction.on_commit(lambda name=old_pdf, storage=message.pdf.storage: storage.delete(name))
    send_after_commit(message.pk)


def letters_readdress(*, case: Case) -> int:
    """After the citizen's name or postal address was corrected: the case's letters still waiting for the
    mailroom go back to the outbox, which makes them again with the new address block (a PDF is rendered
    there, with its retries, so a failure never undoes the correction); a printed one is to be printed
    again. Call inside the correction's transaction; returns how many letters changed."""
    registration = case.registration
    waiting = OutgoingMessage.objects.select_for_update().filter(case=case, status__in=[OutboxStatus.TO_PRINT, OutboxStatus.PRINTED])
    changed = 0
    for message in waiting:
        if (message.to_name, message.to_address) == (registration.sender_name, registration.sender_address):
            continue
        message.to_name, message.to_address = registration.sender_name, registration.sender_address
        letter_remake(message, reprint=REPRINT_NEW_ADDRESS)
        changed += 1
    if changed:
        logger.info("%s letter(s) of %s in the print queue sent back to the outbox with the corrected address", changed, registration.number)
    return changed
