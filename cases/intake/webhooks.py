"""The inbound mail webhooks: mail to info@ posted by Mailgun, Postmark, SendGrid or Amazon SES.

django-anymail's views check the ESP's signature or the basic-auth secret. We extend its inbound
views (``InboundWebhookView``) so that the message is stored *before* anything parses it: where
the ESP posts the raw MIME (Mailgun ``inbound_mime``, Postmark's ``RawEmail``, SendGrid's raw
mode), those bytes go straight to the one intake service, exactly as ``import_eml`` does, and
anymail's own parser never sees hostile mail. Where there is no raw MIME (Amazon SES, parsed
modes), anymail parses and the message is serialised back to bytes; a post anymail cannot read
is still stored, for a person to look at. Once stored, the answer is 200, also for a duplicate
or a message in quarantine, so the ESP stops retrying; only when storing fails (the database is
down) the answer is 5xx and the ESP tries again.
With a worker, the web process only stores the message: a task registers it on the worker, where
the trained kind classifier decides complaint, suggestion or other (the web process never loads it).

Anymail lets posts through when no secret is configured (it only warns). We refuse them: an
inbound webhook without its secret would let anyone on the internet register cases.

Replays: Mailgun signs ``timestamp`` + ``token``, not the message. A signed post older than
``HANDVEST_WEBHOOK_MAX_AGE_SECONDS``, or one whose token was used before, is refused (400) and
logged. The token is kept on its message's row, in the statement that stores it: the row's unique
key refuses it a second time (nothing looked up first; a post is one statement and its audit entry,
one commit), and a post that fails to store leaves no token, so the ESP's retry is taken.
"""

from __future__ import annotations

import datetime
import email.policy
import json
import logging

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView
from django.conf import settings
from django.http import HttpResponse
from django.urls import re_path
from django.utils import timezone

from cases.intake.email import IntakeResult, ReplayedToken, email_intake
from cases.tagging import models_stay_out

logger = logging.getLogger(__name__)

NOT_CONFIGURED = "Inbound webhook for %s refused: %s is not configured, so the post cannot be verified."
REPLAY_STALE = "Inbound webhook for %s refused: signed %s s ago, more than %s s (a replayed post?)."
REPLAY_TOKEN = "Inbound webhook for %s refused: its token was used before (a replayed post)."


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


def require_secret(esp_name: str) -> None:
    setting, secret = _secret_for(esp_name)
    if not secret:
        logger.error(NOT_CONFIGURED, esp_name, setting)
        raise AnymailWebhookValidationFailure(NOT_CONFIGURED % (esp_name, setting))


def message_bytes(message) -> bytes:
    """The raw bytes of an ``AnymailInboundMessage`` (the message as the ESP received it, re-serialised)."""
    for policy in (None, email.policy.compat32, email.policy.default.clone(utf8=True)):
        try:
            return message.as_bytes() if policy is None else message.as_bytes(policy=policy)
        except (UnicodeError, LookupError, ValueError, TypeError, AttributeError, IndexError, RecursionError):
            continue
    return message.as_string(policy=email.policy.compat32).encode("utf-8", "surrogateescape")


def _text_bytes(value: str) -> bytes:
    # The form or JSON decoding made text of the MIME; undecodable bytes survive as surrogates.
    return value.encode("utf-8", "surrogateescape")


def handle_inbound_email(sender, event, esp_name: str, **kwargs) -> IntakeResult:
    """Register one message posted to another anymail inbound webhook (the ``inbound`` signal)."""
    require_secret(esp_name)
    result = email_intake(raw=message_bytes(event.message), source=f"webhook:{esp_slug(esp_name)}", defer=models_stay_out())
    logger.info("inbound mail via %s (event %s): %s %s", esp_name, event.event_id or "-", result.outcome, result.reference or "")
    return result


class StoreFirstMixin:
    """Store the posted message before anything parses it (see the module's docstring)."""

    def raw_mime(self, request) -> bytes | None:
        """The raw MIME the ESP posted, or None when it posts the message parsed."""
        return None

    def check_replay(self, request) -> str | None:
        """Refuse a replayed post; return its one-time token to remember once the message is stored."""
        return None

    def post(self, request, *args, **kwargs):
        require_secret(self.esp_name)
        self.run_validators(request)
        token = self.check_replay(request) or ""
        source = f"webhook:{esp_slug(self.esp_name)}"
        # A web process with a worker only stores the mail: the worker registers it and decides its
        # kind with the trained classifier, which the web process never loads (``models_stay_out``).
        defer = models_stay_out()
        try:
            # A signed post carries one message (Mailgun's); its token is kept on that message's row.
            for index, raw in enumerate(self._messages(request)):
                result = email_intake(raw=raw, source=source, defer=defer, webhook_token=token if index == 0 else "")
                logger.info("inbound mail via %s: %s %s", self.esp_name, result.outcome, result.reference or "")
        except ReplayedToken:
            logger.warning(REPLAY_TOKEN, self.esp_name)
            raise AnymailWebhookValidationFailure(REPLAY_TOKEN % self.esp_name) from None
        return HttpResponse()

    def _messages(self, request) -> list[bytes]:
        raw = self.raw_mime(request)
        if raw is not None:
            return [raw]
        try:
            return [message_bytes(event.message) for event in self.parse_events(request)]
        except Exception:
            # Anymail could not read the post (hostile mail, an ESP that changed its format): keep
            # the post itself, so a person can see what came; it lands in quarantine as no e-mail.
            logger.exception("inbound post of %s could not be read by anymail; stored as it came", self.esp_name)
            return [request.body]


class MailgunInbound(StoreFirstMixin, MailgunInboundWebhookView):
    def raw_mime(self, request):
        value = request.POST.get("body-mime")
        return None if value is None else _text_bytes(value)

    def check_replay(self, request):
        try:
            signed = datetime.datetime.fromtimestamp(int(request.POST.get("timestamp", "")), tz=datetime.UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            raise AnymailWebhookValidationFailure("Mailgun post without a valid timestamp") from None
        age = (timezone.now() - signed).total_seconds()
        limit = settings.HANDVEST_WEBHOOK_MAX_AGE_SECONDS
        if abs(age) > limit:
            logger.warning(REPLAY_STALE, self.esp_name, int(age), limit)
            raise AnymailWebhookValidationFailure(REPLAY_STALE % (self.esp_name, int(age), limit))
        # Not looked up here: it is stored with the message, whose row's unique key refuses it a second time.
        return request.POST.get("token", "")


class PostmarkInbound(StoreFirstMixin, PostmarkInboundWebhookView):
    def raw_mime(self, request):
        try:
            value = json.loads(request.body.decode("utf-8")).get("RawEmail")
        except (ValueError, AttributeError, UnicodeDecodeError):
            return None
        return _text_bytes(value) if isinstance(value, str) else None


class SendGridInbound(StoreFirstMixin, SendGridInboundWebhookView):
    def raw_mime(self, request):
        value = request.POST.get("email")
        return None if value is None else _text_bytes(value)


class AmazonSESInbound(StoreFirstMixin, AmazonSESInboundWebhookView):
    """SES posts an SNS notification (the message base64 in it, or a pointer to S3): anymail reads it."""

    def post(self, request, *args, **kwargs):
        if self.basic_auth and not request.META.get("HTTP_AUTHORIZATION"):
            # As anymail's own view: SNS sends the basic-auth secret only after a 401 challenge.
            response = HttpResponse(status=401)
            response["WWW-Authenticate"] = 'Basic realm="Anymail WEBHOOK_SECRET"'
            return response
        return super().post(request, *args, **kwargs)


# Ours first, anymail's after them (``config/urls.py``): the same paths anymail documents.
urlpatterns = [
    re_path(r"^mailgun/inbound(_mime)?/$", MailgunInbound.as_view(), name="mailgun_inbound_webhook"),
    re_path(r"^postmark/inbound/$", PostmarkInbound.as_view(), name="postmark_inbound_webhook"),
    re_path(r"^sendgrid/inbound/$", SendGridInbound.as_view(), name="sendgrid_inbound_webhook"),
    re_path(r"^amazon_ses/inbound/$", AmazonSESInbound.as_view(), name="amazon_ses_inbound_webhook"),
]
