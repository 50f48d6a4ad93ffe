"""Incoming items: every one gets a registration number and a date of receipt.

Complaints and suggestions also become a ``Case`` (``cases.models.case``); other items wait in
the triage list.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["IntakeChannel", "Kind", "Registration", "RegistrationCounter", "ReplyChannel", "TriageState", "normal_email", "normal_name"]


def normal_name(name: str) -> str:
    """A sender's name (or address) as compared: white space collapsed, case folded."""
    return " ".join((name or "").split()).casefold()


def normal_email(email: str) -> str:
    return (email or "").strip().casefold()


class IntakeChannel(models.TextChoices):
    WEB = "web", _("webformulier")
    EMAIL = "email", _("e-mail")
    LETTER = "letter", _("brief")
    PHONE = "phone", _("telefoon")
    COUNTER = "counter", _("balie")


class Kind(models.TextChoices):
    COMPLAINT = "complaint", _("klacht")
    SUGGESTION = "suggestion", _("verbetersuggestie")
    OTHER = "other", _("overig")


class ReplyChannel(models.TextChoices):
    EMAIL = "email", _("per e-mail")
    POST = "post", _("per post")
    PHONE = "phone", _("telefonisch")


class TriageState(models.TextChoices):
    PENDING = "pending", _("wacht op beoordeling")
    CONVERTED = "converted", _("omgezet in zaak")
    FORWARDED = "forwarded", _("doorgestuurd")
    DONE = "done", _("afgehandeld")


class RegistrationCounter(models.Model):
    """The last sequence number per prefix and year; locked while a number is taken, so numbers are gap-free."""

    prefix = models.CharField(max_length=6)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="unique_counter_per_prefix_year")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


class Registration(models.Model):
    """An incoming item, whatever it is: it gets a registration number and a date of receipt.

    Complaints and suggestions get a ``Case``; other items wait in the triage list.
    """

    number = models.CharField(_("registratienummer"), max_length=24, unique=True)
    received_on = models.DateField(_("datum van ontvangst"), help_text=_("Voor een brief de datum van de poststempel of ontvangst; nooit in de toekomst."))
    registered_at = models.DateTimeField(_("geregistreerd op"), default=timezone.now)
    channel = models.CharField(_("kanaal"), max_length=10, choices=IntakeChannel.choices)
    kind = models.CharField(_("soort"), max_length=12, choices=Kind.choices)
    subject = models.CharField(_("onderwerp"), max_length=300, blank=True)
    text = models.TextField(_("tekst"), blank=True)
    sender_name = models.CharField(_("naam afzender"), max_length=200, blank=True)
    sender_email = models.EmailField(_("e-mailadres"), blank=True)
    sender_phone = models.CharField(_("telefoon"), max_length=40, blank=True)
    sender_address = models.TextField(_("postadres"), blank=True)
    email_undeliverable = models.BooleanField(_("e-mailadres onbestelbaar"), default=False)
    reply_channel = models.CharField(_("antwoord via"), max_length=10, choices=ReplyChannel.choices, default=ReplyChannel.EMAIL)
    message_id = models.TextField(_("Message-ID"), null=True, blank=True, help_text=_("Zoals ontvangen, hoe lang ook."))
    message_key = models.CharField(
        _("sleutel van de Message-ID"),
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text="SHA-256 of the whole Message-ID: the database refuses a second registration of one e-mail.",
    )
    content_hash = models.CharField(_("inhoudshash"), max_length=64, blank=True, db_index=True)
    triage_state = models.CharField(_("triage"), max_length=10, choices=TriageState.choices, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("geregistreerd door")
    )

    class Meta:
        verbose_name = _("registratie")
        verbose_name_plural = _("registraties")
        ordering = ["-registered_at"]
        indexes = [models.Index(fields=["kind", "triage_state"])]
        permissions = [("correct_letter_text", "Can correct the text read from a scanned letter")]
        constraints = [
            # Without a Message-ID an item is known by its content key (a web form's one-time token, a
            # scan's bytes): two deliveries at once meet here, and one of them gets the other's registration.
            models.UniqueConstraint(fields=["content_hash"], condition=~models.Q(content_hash=""), name="one_registration_per_content_key"),
        ]

    def __str__(self) -> str:
        return self.number
