"""What arrived: raw inbound e-mail (kept even when it cannot be parsed) and attachments."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.storage import private_storage

__all__ = ["Attachment", "InboundMessage", "InboundOutcome"]


class InboundOutcome(models.TextChoices):
    """What the intake did with a message (also the ``outcome`` of ``import_eml --json``)."""

    CASE = "case", _("nieuwe zaak")
    THREAD = "thread", _("bij bestaande zaak")
    DUPLICATE = "duplicate", _("dubbel, genegeerd")
    TRIAGE = "triage", _("naar triage")
    AUTO_REPLY = "auto_reply", _("automatisch antwoord of bounce")
    IGNORED = "ignored", _("reclame, niet geregistreerd")
    ERROR = "error", _("niet te verwerken")


class InboundMessage(models.Model):
    """An e-mail as it arrived at info@ (webhook or .eml import): the raw bytes are kept, whatever happens.

    An officer sees the ones with outcome ``error`` in the triage list, with the reason.
    """

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    source = models.CharField(_("bron"), max_length=40, help_text=_("Bijv. webhook:mailgun, eml, mbox."))
    message_id = models.CharField(max_length=500, null=True, blank=True, unique=True)
    in_reply_to = models.CharField(max_length=500, blank=True)
    references = models.TextField(blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to_address = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    text = models.TextField(blank=True)
    raw = models.FileField(storage=private_storage, upload_to="inbound/%Y/%m/", blank=True)
    raw_size = models.PositiveIntegerField(default=0)
    content_hash = models.CharField(max_length=64, blank=True, db_index=True)
    outcome = models.CharField(max_length=12, choices=InboundOutcome.choices, blank=True)
    reason = models.TextField(_("reden"), blank=True, help_text=_("Waarom de intake deed wat ze deed (bijv. waarom niet te verwerken)."))
    registration = models.ForeignKey("cases.Registration", on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_messages")
    case = models.ForeignKey("cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_messages")
    handled = models.BooleanField(_("afgehandeld"), default=False)

    class Meta:
        verbose_name = _("binnengekomen e-mail")
        verbose_name_plural = _("binnengekomen e-mails")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.from_address}: {self.subject[:60]}"


class Attachment(models.Model):
    """A file that came with a registration (upload, e-mail attachment, scan); stored privately."""

    registration = models.ForeignKey("cases.Registration", on_delete=models.CASCADE, related_name="attachments", null=True, blank=True)
    inbound_message = models.ForeignKey(InboundMessage, on_delete=models.CASCADE, related_name="attachments", null=True, blank=True)
    file = models.FileField(storage=private_storage, upload_to="attachments/%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return self.filename
