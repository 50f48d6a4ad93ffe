"""Mail that never became part of a case goes after a term of its own (AVG art. 5 lid 1 sub e: personal
data are kept no longer than needed), not only when its sender asks.

A case's mail is kept and destroyed with the case (``retention``, ``destruction``). What is left:

- An e-mail with neither a case nor a registration, once handled (an automatic reply or bounce,
  advertising, a duplicate, a message parked as ``error`` or ``quarantine`` and then dealt with in
  triage) goes ``HANDVEST_NOISE_MAIL_DAYS`` (30) days after it arrived: kept briefly, to follow up a
  bounce or a question about the filter.
- An item without a case (*overig*: a question, a message for another body), once triaged (forwarded
  or done), goes ``HANDVEST_OTHER_MAIL_DAYS`` (365) days after receipt: a year, to answer a follow-up
  and to account for it.

Never: a message still waiting for a person (triage, quarantine), or one that joined a case. "Goes" is
the same wipe an erasure does (``wiping``): the rows stay, without sender, text or files, so the
intake's counts and the duplicate check (the Message-ID's hash) still hold. Run daily by beat
(``loose-mail-expire``); each item in its own transaction, so a run that dies midway only resumes.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cases.models import InboundMessage, Registration, TriageState
from cases.records.wiping import inbound_wipe, registration_wipe

logger = logging.getLogger(__name__)

# What an item still holds of its sender, while it is not wiped.
_INBOUND_UNWIPED = ~Q(from_address="") | ~Q(subject="") | ~Q(text="") | ~Q(raw="")
_REGISTRATION_UNWIPED = ~Q(sender_name="") | ~Q(sender_email="") | ~Q(sender_address="") | ~Q(sender_phone="") | ~Q(text="")


@dataclass
class LooseMailResult:
    messages: int = 0
    items: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"messages": self.messages, "items": self.items}


def noise_due(now: datetime.datetime):
    """Handled e-mails without a case or registration, older than their term, not yet wiped."""
    before = now - datetime.timedelta(days=settings.HANDVEST_NOISE_MAIL_DAYS)
    return InboundMessage.objects.filter(_INBOUND_UNWIPED, case__isnull=True, registration__isnull=True, handled=True, received_at__lt=before)


def other_due(today: datetime.date):
    """Triaged items without a case, older than their term, not yet wiped."""
    before = today - datetime.timedelta(days=settings.HANDVEST_OTHER_MAIL_DAYS)
    return Registration.objects.filter(
        _REGISTRATION_UNWIPED, case__isnull=True, triage_state__in=[TriageState.FORWARDED, TriageState.DONE], received_on__lt=before
    )


def loose_mail_expire(*, now: datetime.datetime | None = None) -> LooseMailResult:
    """Wipe the mail without a case whose term has passed; returns how many e-mails and items went."""
    now = now or timezone.now()
    result = LooseMailResult()
    for pk in list(noise_due(now).values_list("pk", flat=True)):
        with transaction.atomic():
            # Locked and asked again: it may have joined a case or been wiped since the list was read.
            message = noise_due(now).select_for_update(skip_locked=True).filter(pk=pk)
            result.messages += inbound_wipe(message).messages
    for pk in list(other_due(timezone.localdate(now)).values_list("pk", flat=True)):
        with transaction.atomic():
            # of=("self",): the case is the outer join's nullable side, which PostgreSQL will not lock.
            item = other_due(timezone.localdate(now)).select_for_update(skip_locked=True, of=("self",)).filter(pk=pk).first()
            if item is not None:
                registration_wipe(item.pk)
                result.items += 1
    if result.messages or result.items:
        logger.info("mail without a case past its term wiped: %s e-mails, %s items", result.messages, result.items)
    return result
