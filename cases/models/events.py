"""The append-only timeline of a case: every step, message, tag change and note."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models.case import Case

__all__ = ["AppendOnlyQuerySet", "CaseEvent", "EventKind"]


class EventKind(models.TextChoices):
    REGISTERED = "registered", _("geregistreerd")
    TRANSITION = "transition", _("statuswijziging")
    EXTENDED = "extended", _("termijn verlengd")
    MESSAGE_IN = "message_in", _("bericht ontvangen")
    MESSAGE_OUT = "message_out", _("bericht verstuurd")
    TAG = "tag", _("norm gewijzigd")
    NOTE = "note", _("interne notitie")
    ASSIGNED = "assigned", _("toegewezen")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionDenied("The case timeline is append-only.")

    def delete(self):
        raise PermissionDenied("The case timeline is append-only.")


class CaseEvent(models.Model):
    """One entry of a case's timeline: never edited, never deleted."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    name = models.CharField(max_length=40, blank=True, help_text="transition or message name")
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    internal = models.BooleanField(default=True, help_text="Internal events never reach the citizen's page.")
    data = models.JSONField(default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.case} {self.kind} {self.name}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionDenied("The case timeline is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("The case timeline is append-only.")
