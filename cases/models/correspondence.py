"""The outbox: every letter to a citizen, written in the same transaction as its cause, sent exactly once."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.storage import private_storage

__all__ = [
    "ANSWER_LETTER_KINDS",
    "CONVERSATION_LETTER_KINDS",
    "LEFT_STATUSES",
    "STRANDED_STATUSES",
    "DeadlineDigest",
    "DeliveryChannel",
    "LetterKind",
    "OutboxStatus",
    "OutgoingMessage",
]


class LetterKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", _("ontvangstbevestiging")
    INTERIM_NOTICE = "interim_notice", _("tussentijdse mededeling")
    HEARING_INVITATION = "hearing_invitation", _("uitnodiging hoorzitting")
    FORWARD_NOTICE = "forward_notice", _("doorzendbericht")
    DECLINE = "decline", _("besluit niet behandelen")
    EXPLANATION = "explanation", _("uitleg")
    ANSWER = "answer", _("antwoord op klacht")
    SUGGESTION_RESPONSE = "suggestion_response", _("reactie op suggestie")
    OTHER = "other", _("overige brief")
    # The conversation with the citizen (cases.conversation): written by its services only.
    QUESTION = "question", _("vraag aan u")
    CONSENT_REQUEST = "consent_request", _("verzoek om instemming met uitstel")
    SATISFACTION = "satisfaction", _("vraag: bent u tevreden?")
    REOPEN_DECISION = "reopen_decision", _("besluit over heropenen")
    # A new private link (``cases.correspondence.links``), written by that service only.
    PRIVATE_LINK = "private_link", _("nieuwe persoonlijke link")


# Letters that only their own services write (the conversation's, the private link's); not offered as a free letter.
CONVERSATION_LETTER_KINDS = frozenset(
    {LetterKind.QUESTION, LetterKind.CONSENT_REQUEST, LetterKind.SATISFACTION, LetterKind.REOPEN_DECISION, LetterKind.PRIVATE_LINK}
)


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", _("e-mail")
    POST = "post", _("post (PDF-brief)")


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", _("in de wachtrij")
    SENDING = "sending", _("wordt verstuurd")
    UNKNOWN = "unknown", _("verzonden? onbekend")
    SENT = "sent", _("verstuurd")
    FAILED = "failed", _("mislukt")
    TO_PRINT = "to_print", _("klaar om te printen")
    PRINTED = "printed", _("geprint, nog niet gepost")
    POSTED = "posted", _("gepost")
    SUPPRESSED = "suppressed", _("niet verstuurd")


# A letter that left: sent by e-mail, or posted by the mailroom. Only then does the citizen have it.
LEFT_STATUSES = (OutboxStatus.SENT, OutboxStatus.POSTED)
# A letter that will not leave unless an officer acts: it failed, or was held back (no address, a robot address).
STRANDED_STATUSES = (OutboxStatus.FAILED, OutboxStatus.SUPPRESSED)
# The letters that give a case its answer (a complaint's, a suggestion's).
ANSWER_LETTER_KINDS = (LetterKind.ANSWER, LetterKind.SUGGESTION_RESPONSE)


class OutgoingMessage(models.Model):
    """One letter or e-mail to the citizen of a case.

    ``dedupe_key`` is unique, so the same automatic letter (e.g. the acknowledgement of a case)
    can be written to the outbox only once, whatever retries or double clicks happen. Sending
    claims the row first (status ``sending`` with a ``claim_token``, committed before the mail
    provider is called), so a worker that dies while sending never leads to a second mail: a row
    left ``sending`` becomes ``unknown`` for an officer to check and send again.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="outgoing_messages", verbose_name=_("zaak"))
    kind = models.CharField(_("soort brief"), max_length=24, choices=LetterKind.choices)
    channel = models.CharField(_("verzendwijze"), max_length=8, choices=DeliveryChannel.choices)
    status = models.CharField(_("status"), max_length=12, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED, db_index=True)
    dedupe_key = models.CharField(_("sleutel tegen dubbel versturen"), max_length=120, unique=True)
    automatic = models.BooleanField(_("automatisch"), default=False, help_text=_("Automatisch verstuurd (Auto-Submitted: auto-replied)."))
    to_email = models.EmailField(_("e-mailadres ontvanger"), blank=True)
    to_name = models.CharField(_("naam ontvanger"), max_length=200, blank=True)
    to_address = models.TextField(_("postadres ontvanger"), blank=True)
    subject = models.CharField(_("onderwerp"), max_length=300)
    body_text = models.TextField(_("tekst"))
    pdf = models.FileField(_("PDF"), storage=private_storage, upload_to="letters/%Y/%m/", blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=500, unique=True)
    in_reply_to = models.CharField(_("antwoord op (In-Reply-To)"), max_length=500, blank=True)
    references = models.TextField(_("eerdere berichten (References)"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("pogingen"), default=0)
    retry_at = models.DateTimeField(
        _("volgende poging"),
        null=True,
        blank=True,
        help_text="After a refused attempt: when the next is due. The outbox relay takes over a row whose retry did not come.",
    )
    claim_token = models.CharField(
        _("claim van de verzender"), max_length=32, blank=True, help_text="Set when a worker claims the row to send it; only that claim may mark it sent."
    )
    claimed_at = models.DateTimeField(_("geclaimd op"), null=True, blank=True)
    provider_message_id = models.CharField(
        _("id bij de mailprovider"), max_length=200, blank=True, help_text="The id the mail provider gave the message (anymail)."
    )
    last_error = models.TextField(_("laatste fout"), blank=True)
    created_at = models.DateTimeField(_("aangemaakt op"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("aangemaakt door")
    )
    sent_at = models.DateTimeField(_("verstuurd op"), null=True, blank=True)
    printed_at = models.DateTimeField(_("geprint op"), null=True, blank=True)
    # Why the mailroom must print this letter again and throw the earlier print away (``post.letter_remake``);
    # kept apart from ``last_error``, which the outbox rewrites when it makes the PDF again. Cleared once printed.
    reprint_reason = models.CharField(_("opnieuw printen"), max_length=200, blank=True)
    posted_at = models.DateTimeField(_("gepost op"), null=True, blank=True, help_text=_("Wanneer de postkamer de brief postte: dan pas is hij verstuurd."))
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("gepost door"))

    class Meta:
        verbose_name = _("uitgaand bericht")
        verbose_name_plural = _("uitgaande berichten")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case}"


class DeadlineDigest(models.Model):
    """The daily deadline digest to the quality officers: one row per working day, so a second scan that day sends nothing.

    Written by the daily scan (``cases.correspondence.digest``); ``summary`` keeps the registration
    numbers per section, so the officers' workspace can show the day's list too.
    """

    date = models.DateField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Claimed for sending (committed before the mail goes): a second run that day sends nothing.
    sending_at = models.DateTimeField(null=True, blank=True)
    recipients = models.TextField(blank=True, help_text=_("E-mailadressen van de kwaliteitsmedewerkers, gescheiden door komma's."))
    summary = models.JSONField(default=dict, blank=True, help_text=_("Registratienummers per onderdeel van het overzicht."))
    body_text = models.TextField(blank=True)

    class Meta:
        verbose_name = _("dagoverzicht termijnen")
        verbose_name_plural = _("dagoverzichten termijnen")
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d}"
