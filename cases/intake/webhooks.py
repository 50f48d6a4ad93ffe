"""The anymail inbound webhook: mail to info@ posted by Mailgun, Postmark, SendGrid or Amazon SES.

django-anymail's views (``/anymail/<esp>/inbound/``) check the ESP's signature or the basic-auth
secret and send ``anymail.signals.inbound``; this receiver (connected in ``cases.receivers``) turns the parsed message back into raw
bytes and hands it to the one intake service, exactly as ``import_eml`` does. A retried post is a
``duplicate`` and the view still answers 200, so the ESP stops retrying.

Anymail lets posts through when no secret is configured (it only warns). We refuse them: an
inbound webhook without its secret would let anyone on the internet register cases.
"""

from __future__ import annotations

import email.policy
import logging

from anymail.exceptions import AnymailWebhookValidationFailure
from django.conf import settings

from cases.intake.email import IntakeResult, email_intake

logger = logging.getLogger(__name__)

NOT_CONFIGURED = "Inbound webhook for %s refused: %s is not configured, so the post cannot be verified."


def esp_slug(esp_name: str) -> str:
    return (esp_name or "unknown").lower().replace(" ", "_")


def _secret_for(esp_name: str) -> tuple[str, str]:
    """(setting name, value) of the secret that authenticates this ESP's posts."""
    anymail = getattr(settings, "ANYMAIL", {}) or {}
    if esp_slug(esp_name) == "mailgun":
        return "MAILGUN_WEBHOOK_SIGNING_KEY", anymail.get("MAILGUN_WEBHOOK_SIGNING_KEY") or ""
    secret = anymail.get("WEBHOOK_SECRET") or ""
    if isinstance(secret, list | tuple):
        secret = ",".join(s for s in secret if s)
    return "WEBHOOK_SECRET", secret


def message_bytes(message) -> bytes:
    """The raw bytes of an ``AnymailInboundMessage`` (the message as the ESP received it, re-serialised)."""
    for policy in (None, email.policy.compat32, email.policy.default.clone(utf8=True)):
        try:
            return message.as_bytes() if policy is None else message.as_bytes(policy=policy)
        except (UnicodeError, LookupError, ValueError, TypeError, AttributeError, IndexError):
            continue
    return message.as_string(policy=email.policy.compat32).encode("utf-8", "surrogateescape")


def handle_inbound_email(sender, event, esp_name: str, **kwargs) -> IntakeResult:
    """Register one message posted to an anymail inbound webhook."""
    setting, secret = _secret_for(esp_name)
    if not secret:
        logger.error(NOT_CONFIGURED, esp_name, setting)
        raise AnymailWebhookValidationFailure(NOT_CONFIGURED % (esp_name, setting))
    raw = message_bytes(event.message)
    result = email_intake(raw=raw, source=f"webhook:{esp_slug(esp_name)}", received_at=event.timestamp)
    logger.info("inbound mail via %s (event %s): %s %s", esp_name, event.event_id or "-", result.outcome, result.reference or "")
    return result
