"""The change log of cases, messages, letters and tags (BIO 8.15), kept by django-auditlog.

Each save and delete of a registered model writes an append-only ``auditlog.LogEntry``: which
object, which fields changed, by whom (the request's user; none for a Celery task or a command),
from where, when, with the request's trace id. No view of Handvest edits or deletes log entries,
and Django's own admin, which could, is not mounted.

Personal data stays out of the log: the values of the fields below are replaced by
``[verborgen]`` (the log says *that* the e-mail address changed, not what it was or became), the
public link's token is hidden too, and the models' ``__str__`` (the log's object description) is a
registration number or an id. So destroying a case at the end of its retention term
(``cases.records``) leaves nothing personal behind in the log.
"""

from __future__ import annotations

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from cases.models import Attachment, Case, CaseNorm, InboundMessage, OutgoingMessage, Registration

HIDDEN = "[verborgen]"

# Per model: fields whose values are personal or secret (logged as changed, never with their value).
PERSONAL_FIELDS = {
    Registration: ["subject", "text", "sender_name", "sender_email", "sender_phone", "sender_address", "message_id", "message_key"],
    Case: ["extension_reason", "hearing_waiver", "hearing_report", "complained_about", "public_token", "forwarded_to"],
    InboundMessage: ["message_id", "message_key", "in_reply_to", "references", "from_address", "from_name", "to_address", "subject", "text", "reason", "raw"],
    Attachment: ["filename", "file"],
    OutgoingMessage: ["to_email", "to_name", "to_address", "subject", "body_text", "pdf", "message_id", "in_reply_to", "references", "last_error"],
    CaseNorm: ["explanation"],
}
# Bookkeeping of the outbox's claim on a letter: noise in a history a person reads.
NOISE_FIELDS = {OutgoingMessage: ["claim_token", "claimed_at", "attempts", "retry_at"]}


def hide_value(value: str) -> str:
    """django-auditlog's mask callable (``AUDITLOG_MASK_CALLABLE``): keep only whether there was a value."""
    return HIDDEN if value not in ("", "None") else value


def register_models() -> None:
    """Called once from ``CasesConfig.ready``."""
    for model, fields in PERSONAL_FIELDS.items():
        if not auditlog.contains(model):
            # Reverse relations (a case's record, survey, referral ...) are no fields of the model: without
            # this, auditlog reads each of them on every save, one query apiece.
            reverse = [field.name for field in model._meta.get_fields() if field.auto_created and not field.concrete]
            auditlog.register(model, mask_fields=list(fields), exclude_fields=[*NOISE_FIELDS.get(model, []), *reverse])


def history_of(case: Case):
    """Every change and read logged for the case, its registration, its messages, letters, files and tags; newest first."""
    registration = case.registration_id
    parts = [
        (Case, [case.pk]),
        (Registration, [registration]),
        (InboundMessage, list(case.inbound_messages.values_list("pk", flat=True))),
        (OutgoingMessage, list(case.outgoing_messages.values_list("pk", flat=True))),
        (Attachment, list(Attachment.objects.filter(registration_id=registration).values_list("pk", flat=True))),
        (CaseNorm, list(case.norm_tags.values_list("pk", flat=True))),
    ]
    condition = Q(pk__in=[])
    for model, pks in parts:
        if pks:
            condition |= Q(content_type=ContentType.objects.get_for_model(model), object_id__in=pks)
    return LogEntry.objects.filter(condition).select_related("actor", "content_type").order_by("-timestamp", "-pk")
