"""Norm tags of cases (suggested by the tagger, decided by officers) and the tagger's model versions."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["CaseNorm", "TagSource", "TagStatus", "TaggerModel"]


class TagSource(models.TextChoices):
    TAGGER = "tagger", _("tagger")
    OFFICER = "officer", _("medewerker")
    CITIZEN = "citizen", _("inwoner (hint op formulier)")


class TagStatus(models.TextChoices):
    SUGGESTED = "suggested", _("voorgesteld")
    CONFIRMED = "confirmed", _("bevestigd")
    REJECTED = "rejected", _("afgewezen")


class CaseNorm(models.Model):
    """A norm a case concerns. Confirmed and rejected tags are the officers' training data."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="norm_tags", verbose_name=_("zaak"))
    norm = models.ForeignKey("cms.ServiceNorm", on_delete=models.PROTECT, related_name="case_tags", verbose_name=_("norm"))
    score = models.FloatField(_("score"), null=True, blank=True)
    model_version = models.CharField(_("modelversie"), max_length=64, blank=True)
    explanation = models.JSONField(_("uitleg van de tagger"), default=list, blank=True, help_text=_("De woorden die het zwaarst wogen."))
    source = models.CharField(_("bron"), max_length=8, choices=TagSource.choices, default=TagSource.TAGGER)
    status = models.CharField(_("status"), max_length=10, choices=TagStatus.choices, default=TagStatus.SUGGESTED, db_index=True)
    created_at = models.DateTimeField(_("aangemaakt op"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("beoordeeld door")
    )
    decided_at = models.DateTimeField(_("beoordeeld op"), null=True, blank=True)

    class Meta:
        verbose_name = _("norm van de zaak")
        verbose_name_plural = _("normen van zaken")
        constraints = [models.UniqueConstraint(fields=["case", "norm"], name="one_tag_per_case_and_norm")]
        ordering = ["-score"]

    def __str__(self) -> str:
        return f"{self.case} {self.norm.code} {self.status}"


class TaggerModel(models.Model):
    """A trained tagger version, with its scores on the held-out split; one is active."""

    version = models.CharField(max_length=64, unique=True)
    path = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(default=False)
    scores = models.JSONField(default=dict, blank=True)
    examples = models.PositiveIntegerField(default=0)
    officer_examples = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        # Two trainings finishing at once each deactivated the other's model before it was committed, and both
        # became active; which one tagged a case was then up to the database's row order.
        constraints = [models.UniqueConstraint(fields=["active"], condition=models.Q(active=True), name="one_active_tagger")]

    def __str__(self) -> str:
        return f"{self.version[:12]}{' (actief)' if self.active else ''}"
