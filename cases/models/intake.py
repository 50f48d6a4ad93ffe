"""What arrived: raw inbound e-mail (kept even when it cannot be parsed) and attachments."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.storage import private_storage

__all__ = ["UNPROCESSED_OUTCOMES", "Attachment", "InboundMessage", "InboundOutcome", "WebSubmission", "WebhookToken"]


class InboundOutcome(models.TextChoices):
    """What the intake did with a message (also the ``outcome`` of ``import_eml --json``)."""

    CASE = "case", _("nieuwe zaak")
    THREAD = "thread", _("bij bestaande zaak")
    DUPLICATE = "duplicate", _("dubbel, genegeerd")
    TRIAGE = "triage", _("naar triage")
    AUTO_REPLY = "auto_reply", _("automatisch antwoord of bounce")
    IGNORED = "ignored", _("reclame, niet geregistreerd")
    ERROR = "error", _("geen e-mail")
    QUARANTINE = "quarantine", _("in quarantaine: niet veilig te verwerken")


# Outcomes that leave the message for a person: nothing was registered from it.
UNPROCESSED_OUTCOMES = (InboundOutcome.ERROR, InboundOutcome.QUARANTINE)


class InboundMessage(models.Model):
    """An e-mail as it arrived at info@ (webhook or .eml import): the raw bytes are stored first,
    before anything reads them, and kept whatever happens.

    ``outcome`` stays empty until the message is processed (beat's inbound relay takes up one a
    crash left behind). The ones with outcome ``error`` or ``quarantine`` wait for a person, with
    the reason, in the triage list and the mailroom's quarantine list.
    """

    received_at = models.DateTimeField(_("ontvangen op"), default=timezone.now, db_index=True, help_text=_("Wanneer de gemeente het bericht ontving."))
    source = models.CharField(_("bron"), max_length=40, help_text=_("Bijv. webhook:mailgun, eml, mbox."))
    raw_sha256 = models.CharField(
        _("SHA-256 van het origineel"),
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        help_text="The same bytes twice (a webhook retry, a re-import) are one message.",
    )
    message_id = models.TextField(_("Message-ID"), null=True, blank=True)
    message_key = models.CharField(
        _("sleutel van de Message-ID"),
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        help_text="SHA-256 of the whole Message-ID, set on the first message that carries it.",
    )
    in_reply_to = models.CharField(_("antwoord op (In-Reply-To)"), max_length=500, blank=True)
    references = models.TextField(_("eerdere berichten (References)"), blank=True)
    from_address = models.CharField(_("e-mailadres afzender"), max_length=320, blank=True)
    from_name = models.CharField(_("naam afzender"), max_length=200, blank=True)
    to_address = models.CharField(_("gestuurd aan"), max_length=320, blank=True)
    subject = models.CharField(_("onderwerp"), max_length=500, blank=True)
    text = models.TextField(_("tekst"), blank=True)
    raw = models.FileField(_("origineel"), storage=private_storage, upload_to="inbound/%Y/%m/", blank=True)
    raw_size = models.PositiveIntegerField(_("grootte van het origineel (bytes)"), default=0)
    content_hash = models.CharField(_("inhoudshash"), max_length=64, blank=True, db_index=True, help_text="Identity of a message without a Message-ID.")
    outcome = models.CharField(_("uitkomst van de intake"), max_length=12, choices=InboundOutcome.choices, blank=True, db_index=True)
    reason = models.TextField(_("reden"), blank=True, help_text=_("Waarom de intake deed wat ze deed (bijv. waarom niet te verwerken)."))
    registration = models.ForeignKey(
        "cases.Registration", on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_messages", verbose_name=_("registratie")
    )
    case = models.ForeignKey("cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_messages", verbose_name=_("zaak"))
    # A reply from the address the case was registered with (its From or Reply-To), decided when it joined
    # the case: only such mail shows on the citizen's private page (anyone can put a number in a subject).
    from_sender = models.BooleanField(_("van de indiener"), default=False)
    handled = models.BooleanField(_("afgehandeld"), default=False)

    class Meta:
        verbose_name = _("binnengekomen e-mail")
        constraints = [
            # A message without a Message-ID is known by its content key; the first one processed holds it.
            models.UniqueConstraint(
                fields=["content_hash"], condition=models.Q(message_key__isnull=True) & ~models.Q(content_hash=""), name="one_inbound_per_content_key"
            ),
        ]
        verbose_name_plural = _("binnengekomen e-mails")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        # No sender or subject: this text is what the audit log records about the message.
        return f"e-mail {self.pk}"


class Attachment(models.Model):
    """A file that came with a registration (upload, e-mail attachment, scan); stored privately."""

    registration = models.ForeignKey(
        "cases.Registration", on_delete=models.CASCADE, related_name="attachments", null=True, blank=True, verbose_name=_("registratie")
    )
    inbound_message = models.ForeignKey(InboundMessage, on_delete=models.CASCADE, related_name="attachments", null=True, blank=True, verbose_name=_("e-mail"))
    file = models.FileField(_("bestand"), storage=private_storage, upload_to="attachments/%Y/%m/")
    filename = models.CharField(_("bestandsnaam"), max_length=255)
    content_type = models.CharField(_("bestandstype"), max_length=100)
    size = models.PositiveIntegerField(_("grootte (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("bijlage")
        verbose_name_plural = _("bijlagen")

    def __str__(self) -> str:
        # Not the file name (it may hold a name): this text is what the audit log records about the file.
        return f"bijlage {self.pk}"


class WebhookToken(models.Model):
    """A signed webhook post's one-time token (Mailgun's ``token``): a replayed post carries a token seen before and is refused."""

    provider = models.CharField(max_length=20)
    token = models.CharField(max_length=200)
    # SHA-256 over the post's messages: the same token with the same content again is the provider's
    # retry of a post whose answer it never got (answered 200, nothing stored twice); with other content, a replay.
    digest = models.CharField(max_length=64, blank=True)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "token"], name="one_use_per_webhook_token")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.token[:12]}"


class WebSubmission(models.Model):
    """A web form's submission as the request stored it, with its registration number and private link
    already taken; a worker registers it (``cases.intake.web_submissions``).

    The citizen's thank-you page shows the number and the link at once, and the web request writes one
    row. ``payload`` holds what the citizen sent until the registration holds it, and is emptied then;
    beat's relay registers a submission a crash left waiting. Destroying the registration destroys this row.
    """

    number = models.CharField(_("registratienummer"), max_length=24, unique=True)
    token = models.CharField(_("sleutel van de persoonlijke link"), max_length=64, unique=True)
    # The form's identity (words, sender, day: ``webform.submission_hash``): a double click meets the first row here.
    content_hash = models.CharField(_("inhoudshash"), max_length=64, unique=True)
    kind = models.CharField(_("soort"), max_length=12)
    received_at = models.DateTimeField(_("ontvangen op"), default=timezone.now)
    payload = models.JSONField(_("inhoud tot de registratie"), default=dict, blank=True)
    registration = models.OneToOneField(
        "cases.Registration", on_delete=models.CASCADE, null=True, blank=True, related_name="web_submission", verbose_name=_("registratie")
    )

    class Meta:
        verbose_name = _("webformulier in verwerking")
        verbose_name_plural = _("webformulieren in verwerking")
        indexes = [models.Index(fields=["received_at"], condition=models.Q(registration__isnull=True), name="web_submission_waiting")]

    def __str__(self) -> str:
        return self.number
