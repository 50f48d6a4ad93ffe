"""Selectors: did the municipality keep each promise, per norm and per the norm's own period?

For every period of a norm (per month, quarter or year, as its target says) the number of
observations, the share within the target, and whether that share reaches the required share
of the target version in force when the period began (``cases.measurements.targets``).
Observations are the imported measurements (counted in SQL against the version's amount) plus
the imported totals per period, or, for the norms Handvest measures itself, the cases
(``cases.measurements.from_cases``). ``met`` is None for a qualitative norm and for a period
without observations. Counts of cases follow the small-cell rule of every figure (``<3``, and
no share over fewer cases); counts of calls and visits are no people and are shown as they are.

Shown in the norm's figures panel (``cases.workspace.revision``), on the measurements page and
the officer's dashboard (``latest_attainment``), and in the charter report.
"""

from __future__ import annotations

import bisect
import datetime
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, Count, IntegerField, Value, When
from django.utils import timezone

from cases.measurements.from_cases import case_counts
from cases.measurements.targets import PeriodSpec, TargetVersion, norm_periods, target_versions
from cases.models import Measurement, MeasurementTotal
from cases.reporting.figures import small_cell_threshold
from cases.reporting.periods import period_key, period_label, period_range
from cms.models import Channel, ServiceNorm


@dataclass(frozen=True)
class PeriodAttainment:
    """One period of a norm: ``observations``, how many ``within`` the target, and the share required."""

    period: str
    start: datetime.date
    end: datetime.date
    observations: int
    within: int
    required: Decimal | None
    threshold: int = 0  # the small-cell threshold when the observations are cases, else 0
    in_progress: bool = False

    @property
    def label(self) -> str:
        return period_label(self.period)

    @property
    def suppressed(self) -> bool:
        return 0 < self.observations < self.threshold

    @property
    def within_suppressed(self) -> bool:
        """A small number within the term (cases only) is hidden too, and so is the share it would give away."""
        return 0 < self.within < self.threshold

    @property
    def attained(self) -> float | None:
        """The share within, as a fraction rounded down to 3 decimals; None without (enough) observations.
        Down, in integers: 2,499 of 2,500 is 0.999, never a 1.0 beside the verdict 'niet gehaald'."""
        if self.observations == 0 or self.suppressed or self.within_suppressed:
            return None
        return (1000 * self.within // self.observations) / 1000

    @property
    def met(self) -> bool | None:
        """Met or not; None without (enough) observations. With a small number within hidden, the verdict
        stands when it is the same for every number it could be (1 of 11 and 2 of 11 both fall short of
        80%): it gives nothing away, and the worst periods do not read as 'no measurements'."""
        if self.observations == 0 or self.suppressed or self.required is None:
            return None
        if self.within_suppressed:
            verdicts = {Decimal(within) >= self.required * self.observations for within in range(1, self.threshold)}
            return verdicts.pop() if len(verdicts) == 1 else None
        return Decimal(self.within) >= self.required * self.observations

    @property
    def observations_value(self) -> int | str:
        return f"<{self.threshold}" if self.suppressed else self.observations

    @property
    def within_value(self) -> int | None:
        return None if self.suppressed or self.within_suppressed else self.within

    @property
    def percent_display(self) -> str:
        return "—" if self.attained is None else f"{100 * self.attained:.1f}%".replace(".", ",")

    @property
    def met_display(self) -> str:
        return {True: "gehaald", False: "niet gehaald", None: "—"}[self.met]


@dataclass
class NormAttainment:
    """A norm with its periods; ``versions`` are the target versions that judged them, oldest first."""

    norm: ServiceNorm
    versions: list[TargetVersion]
    periods: list[PeriodAttainment]
    period_versions: dict[str, TargetVersion] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.norm.code

    @property
    def measurable(self) -> bool:
        return any(version.measurable for version in self.versions)

    @property
    def from_cases(self) -> bool:
        return self.versions[-1].from_cases

    @property
    def observed(self) -> bool:
        """Whether any period has observations (also of a promise without a number: imported counts, not judged)."""
        return any(period.observations for period in self.periods)

    @property
    def target(self) -> str:
        """The target in words; with a revision inside the periods, each version from its first period."""
        texts = [self.versions[0].display]
        for version in self.versions[1:]:
            first = next((period for period in self.periods if self.period_versions.get(period.period) is version), None)
            if first is not None:
                texts.append(f"vanaf {first.label}: {version.display}")
        return "; ".join(texts)

    @property
    def judged(self) -> list[PeriodAttainment]:
        return [period for period in self.periods if period.met is not None]

    @property
    def met_count(self) -> int:
        return sum(1 for period in self.periods if period.met)


def _local_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _runs(periods: list[PeriodSpec]) -> list[list[int]]:
    """Indexes of consecutive periods judged by the same version."""
    runs: list[list[int]] = []
    for index, period in enumerate(periods):
        if runs and periods[runs[-1][-1]].version is period.version:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def _imported_counts(norm_id: int, periods: list[PeriodSpec]) -> list[list[int]]:
    """Per period: imported observations within the target (one query per version run) plus imported totals."""
    counts = [[0, 0] for _period in periods]
    starts = [period.start for period in periods]
    zone = _local_zone()
    for run in _runs(periods):
        within = periods[run[0]].version.within()
        if within is None:
            continue
        ends = [datetime.datetime.combine(periods[index].end, datetime.time.min, tzinfo=zone) for index in run]
        first = datetime.datetime.combine(periods[run[0]].start, datetime.time.min, tzinfo=zone)
        # The period by comparing with its end (local midnight): cheaper per row than truncating in the local zone.
        bucket = Case(*(When(observed_at__lt=end, then=Value(index)) for index, end in zip(run, ends, strict=True)), output_field=IntegerField())
        rows = (
            Measurement.objects.filter(norm_id=norm_id, observed_at__gte=first, observed_at__lt=ends[-1])
            .annotate(bucket=bucket)
            .values_list("bucket")
            .annotate(n=Count("pk"), within=Count("pk", filter=within))
            .order_by()
        )
        for index, number, within_count in rows:
            counts[index][0] += number
            counts[index][1] += within_count
    totals = MeasurementTotal.objects.filter(norm_id=norm_id, period_start__gte=starts[0], period_start__lt=periods[-1].end)
    for day, observations, within_count in totals.values_list("period_start", "observations", "within_target"):
        index = bisect.bisect_right(starts, day) - 1
        counts[index][0] += observations
        counts[index][1] += within_count
    return counts


def _norm_attainment(norm: ServiceNorm, versions: list[TargetVersion], start, end, as_of, threshold: int) -> NormAttainment:
    periods = [period for period in norm_periods(versions, start, end) if period.start <= as_of]
    counts = _imported_counts(norm.pk, periods) if periods else []
    for measured_from in {period.version.measured_from for period in periods if period.version.from_cases}:
        chosen = [index for index, period in enumerate(periods) if period.version.measured_from == measured_from]
        for index, found in zip(chosen, case_counts(measured_from, [periods[index] for index in chosen], as_of=as_of), strict=True):
            counts[index] = found
    result = [
        PeriodAttainment(
            period=period.key,
            start=period.start,
            end=period.end,
            observations=number,
            within=within,
            required=period.version.required_share,
            threshold=threshold if period.version.from_cases else 0,
            in_progress=period.end > as_of,
        )
        for period, (number, within) in zip(periods, counts, strict=True)
    ]
    used = [version for version in versions if any(period.version is version for period in periods)] or [versions[0]]
    return NormAttainment(norm=norm, versions=used, periods=result, period_versions={period.key: period.version for period in periods})


def _charter_order(norms: Iterable[ServiceNorm]) -> list[ServiceNorm]:
    channel_order = {value: index for index, value in enumerate(Channel.values)}
    return sorted(norms, key=lambda norm: (channel_order.get(norm.channel, 99), norm.sort_order, norm.code))


def norm_attainment(
    *, start: datetime.date, end: datetime.date, norms: Iterable[ServiceNorm] | None = None, as_of: datetime.date | None = None
) -> list[NormAttainment]:
    """Every norm (or those given) with its periods from ``start`` (a first of a month) until
    ``end``, as on ``as_of`` (default today; later periods are left out), in the charter's order."""
    as_of = as_of or timezone.localdate()
    norms = _charter_order(ServiceNorm.objects.all() if norms is None else norms)
    versions = target_versions(norms)
    threshold = small_cell_threshold()
    return [_norm_attainment(norm, versions[norm.pk], start, end, as_of, threshold) for norm in norms]


@dataclass(frozen=True)
class LatestAttainment:
    """For the officer's dashboard: a measured norm and its latest period with observations (None: none yet)."""

    code: str
    promise: str
    target: str
    latest: PeriodAttainment | None


def latest_attainment(*, as_of: datetime.date | None = None) -> list[LatestAttainment]:
    """Every active norm with a measurable target, with its most recent period that has observations
    since the start of last year (a period still running is marked ``in_progress``)."""
    as_of = as_of or timezone.localdate()
    start, end = datetime.date(as_of.year - 1, 1, 1), period_range(period_key(as_of, "month"))[1]
    norms = ServiceNorm.objects.filter(active=True, live=True)  # a draft never published is no promise yet
    result = []
    for item in norm_attainment(start=start, end=end, norms=norms, as_of=as_of):
        with_data = [period for period in item.periods if period.observations]
        latest = with_data[-1] if with_data else None
        # The target beside a period is the version that judged it (a target revised since applies from a later period).
        version = item.period_versions.get(latest.period, item.versions[-1]) if latest else item.versions[-1]
        if not version.measurable:
            continue
        result.append(LatestAttainment(code=item.code, promise=item.norm.promise, target=version.display, latest=latest))
    return result
