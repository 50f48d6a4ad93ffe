"""A norm's target as it stood in each period, from the norm's published Wagtail revisions.

The target of a norm (kind, share, amount, unit, the period it is judged over, where its
measurements come from) is part of the norm, so every change is a revision in the norm's
history. The versions are read from Wagtail's log of publications (``wagtail.publish`` with
its revision): the first published version also stands for the time before it (the charter
existed before it was loaded into Handvest); every later one applies from the moment it was
published. A period is judged by the version in force when the period began, so a target
revised in the middle of March applies from April: never to the past, never to half a period.
Drafts never count.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from wagtail.models import ModelLogEntry

from cases.calendar import WorkingCalendar
from cases.reporting.periods import period_key, period_range
from cms.models import MeasuredFrom, MeasurementPeriod, ServiceNorm, TargetKind, TargetUnit

PUBLISH_ACTION = "wagtail.publish"
# The fields of a norm that make its target; a revision that changes none of them is no new version.
TARGET_FIELDS = ("target_kind", "target_percentage", "target_amount", "target_unit", "measurement_period", "measured_from")


@dataclass(frozen=True)
class TargetVersion:
    """One version of a norm's target; ``valid_from`` None means: since the beginning."""

    valid_from: datetime.datetime | None
    kind: str
    percentage: int | None
    amount: int | None
    unit: str
    period: str
    measured_from: str
    display: str

    @property
    def measurable(self) -> bool:
        """Whether a measurement can be judged against it (a qualitative promise cannot)."""
        return self.kind != TargetKind.QUALITATIVE and self.amount is not None

    @property
    def required_share(self) -> Decimal | None:
        """The share of observations that must be within, as a fraction: the percentage, else all of them."""
        if not self.measurable:
            return None
        return Decimal(self.percentage if self.percentage is not None else 100) / 100

    @property
    def from_cases(self) -> bool:
        return self.measured_from != MeasuredFrom.IMPORT

    def within(self, field: str = "value") -> Q | None:
        """The condition on a measured value for 'within the target': at most the amount, or at
        least it for a notice in advance (a driving licence reminder at least 4 weeks ahead)."""
        if not self.measurable:
            return None
        if self.kind == TargetKind.ADVANCE_NOTICE:
            return Q(**{f"{field}__gte": self.amount})
        return Q(**{f"{field}__lte": self.amount})

    def key(self) -> tuple:
        return (self.kind, self.percentage, self.amount, self.unit, self.period, self.measured_from)


def version_of(norm: ServiceNorm, valid_from: datetime.datetime | None = None) -> TargetVersion:
    period = norm.measurement_period if norm.measurement_period in MeasurementPeriod.values else MeasurementPeriod.MONTH
    return TargetVersion(
        valid_from=valid_from,
        kind=norm.target_kind,
        percentage=norm.target_percentage,
        amount=norm.target_amount,
        unit=norm.target_unit,
        period=period,
        measured_from=norm.measured_from or MeasuredFrom.IMPORT,
        display=str(norm.target_display),
    )


def _as_published(content: dict) -> ServiceNorm:
    """An unsaved norm with the target fields of a revision's content (not Wagtail's
    ``with_content_json``, which looks up every foreign key of every revision)."""
    values = {}
    for name in (*TARGET_FIELDS, "target_period"):
        # Revisions saved before a field existed lack it; the field's default fills in.
        values[name] = content[name] if name in content else ServiceNorm._meta.get_field(name).get_default()
    return ServiceNorm(**values)


def target_versions(norms: Iterable[ServiceNorm]) -> dict[int, list[TargetVersion]]:
    """Per norm id, the versions of its target in the order they applied (one query for all norms)."""
    norms = {norm.pk: norm for norm in norms}
    entries = (
        ModelLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(ServiceNorm), action=PUBLISH_ACTION, object_id__in=[str(pk) for pk in norms], revision__isnull=False
        )
        .select_related("revision")
        .order_by("timestamp", "pk")
    )
    found: dict[int, list[TargetVersion]] = {pk: [] for pk in norms}
    for entry in entries:
        versions = found[int(entry.object_id)]
        version = version_of(_as_published(entry.revision.content), valid_from=None if not versions else entry.timestamp)
        if not versions or version.key() != versions[-1].key():
            versions.append(version)
    # A norm never published through Wagtail (made in code) has its own fields as its only version.
    return {pk: versions or [version_of(norms[pk])] for pk, versions in found.items()}


def version_at(versions: list[TargetVersion], moment: datetime.datetime) -> TargetVersion:
    current = versions[0]
    for version in versions[1:]:
        if version.valid_from is not None and version.valid_from <= moment:
            current = version
    return current


@dataclass(frozen=True)
class PeriodSpec:
    """A period of a norm (``2026-03``, ``2026-Q1``) with the target version it is judged by."""

    key: str
    start: datetime.date
    end: datetime.date
    version: TargetVersion


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def norm_periods(versions: list[TargetVersion], start: datetime.date, end: datetime.date) -> list[PeriodSpec]:
    """The norm's own periods from ``start`` (a first day of a month) until ``end``, each with its version.

    When a revision changes the period (month → quarter) in the middle of a quarter, months run
    on until the next quarter begins.
    """
    periods = []
    day = start
    while day < end:
        version = version_at(versions, _local_midnight(day))
        kind = version.period
        if (kind == MeasurementPeriod.QUARTER and (day.month - 1) % 3) or (kind == MeasurementPeriod.YEAR and day.month != 1):
            kind = MeasurementPeriod.MONTH
        key = period_key(day, kind)
        period_start, period_end = period_range(key)
        periods.append(PeriodSpec(key=key, start=period_start, end=period_end, version=version))
        day = period_end
    return periods


def term_end(calendar: WorkingCalendar, day: datetime.date, version: TargetVersion) -> datetime.date:
    """The last day of a term of ``version`` that starts on ``day`` (a date of receipt), counted as
    the workflow counts its deadlines: working days after the day, or weeks and days rolled
    forward past a weekend or holiday (Atw art. 1)."""
    unit = version.unit if version.unit in (TargetUnit.WORKING_DAYS, TargetUnit.WEEKS) else TargetUnit.DAYS
    return calendar.add_term(day, version.amount, unit)
