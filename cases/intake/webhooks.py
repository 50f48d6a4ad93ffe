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

Replays: Mailgun signs ``timestamp`` + ``token``. A signed post older than
``HANDVEST_WEBHOOK_MAX_AGE_SECONDS``, or one whose token was used before with other content, is
refused (400) and logged; the token is remembered with a digest of its post once its message is stored
(with a worker: in the same transaction, stored first, so its unique key refuses a replay and a post
costs one commit; a post that fails to store leaves no token, and the ESP's retry is taken). The same
token with the very same content is the ESP retrying a post whose answer it never got (a timeout, a
dropped connection): it gets 200 and nothing is stored twice, so the ESP stops retrying.
"""

from __future__ import annotations

import datetime
import email.policy
import hashlib
import json
import logging

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.http import HttpResponse
from django.http.request import RawPostDataException
from django.urls import re_path
from django.utils import timezone

from cases.intake.email import STORED, IntakeResult, email_intake, inbound_store_at_once
from cases.models import WebhookToken
from cases.tagging import models_stay_out

logger = logging.getLogger(__name__)

NOT_CONFIGURED = "Inbound webhook for %s refused: %s is not configured, so the post cannot be verified."
REPLAY_STALE = "Inbound webhook for %s refused: signed %s s ago, more than %s s (a replayed post?)."
REPLAY_TOKEN = "Inbound webhook for %s refused: its token was used before (a replayed post)."
SAME_POST_AGAIN = "Inbound webhook for %s: the same post again with its token (a retry after a lost answer); stored before, answered 200."


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


def _post_as_received(request) -> bytes:
    """The post itself, for a person to look at: its body, or, once Django has parsed a multipart post (its stream can
    be read only once), its fields and files as they were parsed."""
    try:
        return request.body
    except RawPostDataException:
        parts = [f"{key}: {value}".encode("utf-8", "surrogateescape") for key, values in request.POST.lists() for value in values]
        for name, upload in request.FILES.items():
            upload.seek(0)
            parts.append(f"{name} ({upload.name}):".encode("utf-8", "surrogateescape") + b"\n" + upload.read())
        return b"\n".join(parts)


def post_digest(messages: list[bytes]) -> str:
    """What a webhook token is remembered with: the SHA-256 over its post's messages."""
    return hashlib.sha256(b"".join(hashlib.sha256(raw).digest() for raw in messages)).hexdigest()


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
        token = self.check_replay(request)
        source = f"webhook:{esp_slug(self.esp_name)}"
        messages = self._messages(request)
        digest = post_digest(messages)
        # A web process with a worker only stores the mail: the worker registers it and decides its
        # kind with the trained classifier, which the web process never loads (``models_stay_out``).
        if not models_stay_out():
            if not (token and self._seen_before(token, digest)):
                self._take(messages, source=source, defer=False)  # each committed before it is read
                self._remember(token, digest)
        elif not self._store_at_once(messages, source=source, token=token, digest=digest):
            self._store_or_answer(messages, source=source, token=token, digest=digest)
        return HttpResponse()

    def _store_at_once(self, messages: list[bytes], *, source: str, token: str | None, digest: str) -> bool:
        """The usual post, one new message with a new token, stored with its token in one statement on
        PostgreSQL; False when that does not apply, or a unique key refused it (nothing stored then): the
        transaction below tells the provider's retry, a replay and bytes stored before apart."""
        if connection.vendor != "postgresql" or len(messages) != 1:
            return False
        also = self._token_row(token, digest) if token else None
        try:
            inbound = inbound_store_at_once(raw=messages[0], source=source, also=also)
        except IntegrityError:
            return False
        logger.info("inbound mail via %s: %s as message %s", self.esp_name, STORED, inbound.pk)
        return True

    def _store_or_answer(self, messages: list[bytes], *, source: str, token: str | None, digest: str) -> None:
        """A post refused at once, or with several messages: the token and each message in one
        transaction, each message on its own savepoint, so bytes stored before (the provider's retry
        with a new signature, a twin post) are answered as a duplicate and the new token is kept. The
        token goes first: a used one is caught by its unique key, and tells the provider's retry (200)
        from a replay (400)."""
        try:
            with transaction.atomic():
                if token:
                    self._store_token(token, digest)
                self._take(messages, source=source, defer=True)
        except IntegrityError:
            if not (token and self._seen_before(token, digest)):
                raise

    def _take(self, messages: list[bytes], *, source: str, defer: bool) -> None:
        for raw in messages:
            result = email_intake(raw=raw, source=source, defer=defer)
            logger.info("inbound mail via %s: %s %s", self.esp_name, result.outcome, result.reference or "")

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
            return [_post_as_received(request)]

    def _token_row(self, token: str, digest: str) -> WebhookToken:
        return WebhookToken(provider=esp_slug(self.esp_name), token=token[:200], digest=digest)

    def _store_token(self, token: str, digest: str) -> None:
        self._token_row(token, digest).save(force_insert=True)

    def _seen_before(self, token: str, digest: str) -> bool:
        """True when ``token`` came before with this very post (the ESP's retry; answer 200 and store
        nothing); False when it is new. A token seen with other content is a replay: refused (400)."""
        seen = WebhookToken.objects.filter(provider=esp_slug(self.esp_name), token=token[:200]).values_list("digest", flat=True).first()
        if seen is None:
            return False
        if seen == digest:
            logger.info(SAME_POST_AGAIN, self.esp_name)
            return True
        logger.warning(REPLAY_TOKEN, self.esp_name)
        raise AnymailWebhookValidationFailure(REPLAY_TOKEN % self.esp_name)

    def _remember(self, token: str | None, digest: str) -> None:
        if not token:
            return
        try:
            with transaction.atomic():
                self._store_token(token, digest)
        except IntegrityError:
            pass  # a twin post with the same token, handled at the same moment


class MailgunInbound(StoreFirstMixin, MailgunInboundWebhookView):
    def raw_mime(self, request):
        value = request.POST.get("body-mime")
        if value is None and "body-mime" in request.FILES:
            return request.FILES["body-mime"].read()  # the MIME sent as a file part: its bytes as they are
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
        # A used token is caught in ``post``: with a worker by its unique key when it is stored; without
        # one each message commits on its own before the token does, so it is looked up first there.
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
