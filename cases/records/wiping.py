"""Removing the personal data of a case, or of an item without a case, while keeping what the figures need.

One function for both roads: destruction after the archivist's approval (``cases.records.destruction``)
and erasure on a citizen's request (``cases.records.erasure``). What goes and what stays:

| holds | goes | stays (no personal data) |
| --- | --- | --- |
| ``Registration`` | subject, text, sender's name, e-mail, phone, address, Message-ID | number, date of receipt, channel, kind, hashes (see below) |
| ``Case`` | reason of extension, reason not to hear, to whom it was forwarded; the private link is revoked | state, outcome, decline ground, dates |
| ``CaseEvent`` | the note and data of every event | kind, step, states, moment (the compliance figures read the extension's moment) |
| ``InboundMessage`` | the raw e-mail file, sender, subject, text | arrival, outcome, hashes |
| ``Attachment`` | the row and its file | — |
| ``OutgoingMessage`` | recipient, subject, body, PDF file, threading headers, errors | kind, channel, status, dates (the acknowledgement's date counts) |
| ``CaseNorm`` | the words that weighed most | the norm and its status (the counts per norm) |
| Wagtail's log (triage actions) | the sender and subject in an e-mail's label, the note | the action, who, when |

The SHA-256 keys of the Message-ID and content stay, so a redelivered e-mail is still known
and does not come back as a new case; they cannot be turned back into the message.

Files are deleted inside the transaction, before the rows change: if the transaction rolls back,
a row may point at a file that is gone, and the next run finishes the job; a file is never left
behind with no row pointing at it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.dispatch import Signal
from wagtail.models import ModelLogEntry

from cases.models import Attachment, Case, CaseEvent, CaseNorm, InboundMessage, OutgoingMessage, Registration, WebSubmission, new_public_token
from cases.records.audit import history_of
from cases.records.read_log import read_log_unlink
from cases.storage import private_storage

logger = logging.getLogger(__name__)

# Sent inside the wipe's transaction with the ids of the cases being wiped (the case and those merged
# into it), so a capability that keeps personal data of its own about a case (questions to the citizen
# and their replies, say) removes it in the same transaction; a receiver that raises undoes the wipe.
case_wiping = Signal()  # kwargs: case_ids

REGISTRATION_BLANK = {
    "subject": "",
    "text": "",
    "sender_name": "",
    "sender_email": "",
    "sender_phone": "",
    "sender_address": "",
    "message_id": None,
    # The fingerprint of the words and the sender: after an erasure, the same words sent again are a new case.
    "content_hash": "",
}
INBOUND_BLANK = {
    "from_address": "",
    "from_name": "",
    "to_address": "",
    "subject": "",
    "text": "",
    "raw": "",
    "message_id": None,
    "in_reply_to": "",
    "references": "",
    "reason": "",
}
OUTGOING_BLANK = {
    "to_email": "",
    "to_name": "",
    "to_address": "",
    "subject": "",
    "body_text": "",
    "pdf": "",
    "in_reply_to": "",
    "references": "",
    "last_error": "",
    "provider_message_id": "",
}


@dataclass
class WipeResult:
    files: int = 0
    attachments: int = 0
    letters: int = 0
    messages: int = 0
    events: int = 0


def _delete_files(names: list[str]) -> int:
    deleted = 0
    for name in names:
        if name:
            private_storage.delete(name)
            deleted += 1
    return deleted


def _wagtail_log_wipe(model, ids: list[int], label) -> None:
    """Wagtail's own log (the triage's actions) names an e-mail by its sender and subject: keep the entry, not those."""
    entries = ModelLogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id__in=[str(pk) for pk in ids])
    entries.update(label=label, data={})


def _unlink_reads(model, ids) -> None:
    """The reads of these rows keep who read what and when, no longer the person's pseudonym (``read_log_unlink``)."""
    ids = [str(pk) for pk in ids]
    if ids:
        read_log_unlink(LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id__in=ids))


def inbound_wipe(messages) -> WipeResult:
    """Blank inbound e-mails (a queryset) and delete their raw files and attachments."""
    result = WipeResult()
    _wagtail_log_wipe(InboundMessage, list(messages.values_list("pk", flat=True)), "e-mail (gegevens vernietigd)")
    attachments = Attachment.objects.filter(inbound_message__in=messages)
    _unlink_reads(InboundMessage, messages.values_list("pk", flat=True))
    _unlink_reads(Attachment, attachments.values_list("pk", flat=True))
    result.files += _delete_files(list(messages.values_list("raw", flat=True)) + list(attachments.values_list("file", flat=True)))
    result.attachments += attachments.delete()[0]
    ids = list(messages.values_list("pk", flat=True))
    # The timeline lines that quote them (sender, subject, up to 5,000 characters of text) go with them.
    CaseEvent._base_manager.filter(data__inbound_message_id__in=ids).update(note="", data={})
    result.messages = messages.update(**INBOUND_BLANK)
    return result


def registration_wipe(registration_id: int) -> WipeResult:
    """Blank one registration, its attachments and the e-mails it came in by (also for an item without a case)."""
    attachments = Attachment.objects.filter(registration_id=registration_id)
    _unlink_reads(Registration, [registration_id])
    _unlink_reads(Attachment, attachments.values_list("pk", flat=True))
    files = _delete_files(list(attachments.values_list("file", flat=True)))
    removed = attachments.delete()[0]
    result = inbound_wipe(InboundMessage.objects.filter(registration_id=registration_id))
    Registration.objects.filter(pk=registration_id).update(**REGISTRATION_BLANK)
    # The web form's submission row: its first link's token and the fingerprint of the citizen's words and name.
    WebSubmission.objects.filter(registration_id=registration_id).delete()
    _wagtail_log_wipe(Registration, [registration_id], Registration.objects.filter(pk=registration_id).values_list("number", flat=True).first() or "")
    result.files += files
    result.attachments += removed
    return result


def case_wipe(case: Case) -> WipeResult:
    """Remove the personal data of ``case`` and of the cases merged into it; call inside a transaction."""
    case_ids = [case.pk, *Case.objects.filter(merged_into=case).values_list("pk", flat=True)]
    result = WipeResult()
    for each in Case.objects.filter(pk__in=case_ids):
        read_log_unlink(history_of(each))  # before the files go: their reads are found by their rows
    for case_id, registration_id in Case.objects.filter(pk__in=case_ids).values_list("pk", "registration_id"):
        part = registration_wipe(registration_id)
        linked = inbound_wipe(InboundMessage.objects.filter(case_id=case_id).exclude(registration_id=registration_id))
        letters = OutgoingMessage.objects.filter(case_id=case_id)
        result.files += part.files + linked.files + _delete_files(list(letters.values_list("pdf", flat=True)))
        result.attachments += part.attachments + linked.attachments
        result.messages += part.messages + linked.messages
        result.letters += letters.update(**OUTGOING_BLANK)
        # The timeline is append-only for people; the Archiefwet's destruction and the AVG's erasure
        # are the one exception, so this goes past AppendOnlyQuerySet to the plain base manager.
        result.events += CaseEvent._base_manager.filter(case_id=case_id).update(note="", data={})
        CaseNorm.objects.filter(case_id=case_id).update(explanation=[])
        Case.objects.filter(pk=case_id).update(
            extension_reason="", hearing_waiver="", hearing_report="", complained_about="", forwarded_to="",
            public_token=new_public_token(), public_token_revoked=True,
        )
    case_wiping.send(sender=Case, case_ids=case_ids)
    logger.info("personal data of case %s removed (%s cases, %s files, %s letters)", case.pk, len(case_ids), result.files, result.letters)
    return result
