"""Measurements of the charter's norms: what the municipality measured of its own promises.

``Measurement`` is one observation (a call answered after 18 seconds, a visitor helped after 2
minutes); ``MeasurementTotal`` is a count a supplier already made per period (1,000 calls, 783
within 25 seconds). Both are imported by the quality officer (``cases.measurements.importing``:
``manage.py import_measurements`` or the upload at ``/beheer/metingen/``); ``MeasurementImport``
logs each file that changed something. No personal data: a norm, a moment, a number.
Attainment per norm and period is computed from these rows (``cases.measurements.attainment``)
and shown in the norm's figures panel, on the officer's dashboard and in the charter report.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

__all__ = ["Measurement", "MeasurementImport", "MeasurementSource", "MeasurementTotal"]


class MeasurementSource(models.TextChoices):
    """Where a measurement was taken."""

    TELEPHONY = "telephony", _("telefooncentrale (export)")
    COUNTER_QUEUE = "counter_queue", _("wachtrijsysteem balie")
    WEB_STATISTICS = "web_statistics", _("webstatistieken")
    MANUAL_SAMPLE = "manual_sample", _("handmatige steekproef")
    OTHER = "other", _("overig")


class Measurement(models.Model):
    """One observation of a norm at a moment, with its value in the norm's unit (seconds, minutes,
    working days, ...). A row of a file is known by its norm, moment, value and ``occurrence``
    (how many identical rows came before it in that file: two calls answered in the same second
    after 18 seconds are two), unique in the table, so importing a file again adds nothing. The
    unique index also serves every count per norm and period (``cases.measurements.attainment``)."""

    # No index of its own: the unique index below starts with the norm.
    norm = models.ForeignKey("cms.ServiceNorm", on_delete=models.PROTECT, db_index=False, related_name="+", verbose_name=_("norm"))
    observed_at = models.DateTimeField(_("gemeten op"))
    value = models.DecimalField(_("waarde"), max_digits=12, decimal_places=3, help_text=_("In de eenheid van de norm."))
    occurrence = models.PositiveIntegerField(
        default=0, help_text="0 for the first of identical rows (same norm, moment and value) in a file, 1 for the next, …"
    )
    source = models.CharField(_("bron"), max_length=20, choices=MeasurementSource.choices, default=MeasurementSource.OTHER)

    class Meta:
        verbose_name = _("meting")
        verbose_name_plural = _("metingen")
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["norm", "observed_at", "value", "occurrence"], name="one_measurement_per_row")]

    def __str__(self) -> str:
        return f"norm {self.norm_id} at {self.observed_at:%Y-%m-%d %H:%M}: {self.value}"


class MeasurementTotal(models.Model):
    """Observations of a norm counted per period by the supplier: how many, and how many within the
    target. The days are inclusive; the total counts in the norm's period in which ``period_start``
    falls. A later file with the same norm and days replaces the counts (a correction)."""

    norm = models.ForeignKey("cms.ServiceNorm", on_delete=models.PROTECT, related_name="+", verbose_name=_("norm"))
    period_start = models.DateField(_("eerste dag"))
    period_end = models.DateField(_("laatste dag"))
    observations = models.PositiveIntegerField(_("waarnemingen"))
    within_target = models.PositiveIntegerField(_("binnen de norm"))
    source = models.CharField(_("bron"), max_length=20, choices=MeasurementSource.choices, default=MeasurementSource.OTHER)

    class Meta:
        verbose_name = _("telling per periode")
        verbose_name_plural = _("tellingen per periode")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["norm", "period_start", "period_end"], name="one_total_per_norm_and_days"),
            models.CheckConstraint(condition=Q(within_target__lte=F("observations")), name="total_within_at_most_observations"),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="total_end_not_before_start"),
        ]

    def __str__(self) -> str:
        return f"norm {self.norm_id} {self.period_start}–{self.period_end}: {self.within_target}/{self.observations}"


class MeasurementImport(models.Model):
    """A measurement file that was imported and changed something: who, when, which file, how many rows."""

    file_name = models.CharField(_("bestand"), max_length=255)
    sha256 = models.CharField(max_length=64)
    kind = models.CharField(_("soort"), max_length=10, help_text="raw or totals")
    source = models.CharField(_("bron"), max_length=20, choices=MeasurementSource.choices)
    rows = models.PositiveIntegerField(_("regels"))
    added = models.PositiveIntegerField(_("nieuw"))
    updated = models.PositiveIntegerField(_("bijgewerkt"), default=0)
    replaced = models.PositiveIntegerField(
        _("eerdere totalen vervangen"), default=0, help_text=_("Opgeslagen totalen die een langer totaal uit dit bestand omvat.")
    )
    imported_at = models.DateTimeField(_("geïmporteerd op"), auto_now_add=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("import van metingen")
        verbose_name_plural = _("imports van metingen")
        default_permissions = ()
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"{self.file_name}: {self.added} new of {self.rows}"
