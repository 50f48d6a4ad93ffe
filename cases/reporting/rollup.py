"""Recounting the derived tables behind the aggregates: ``CaseFact``, ``CaseTagFact`` and ``NormMonthCount``.

They are rebuilt from the cases with one ``INSERT … SELECT`` each, for some months of receipt or
for everything (nightly, by the benchmark, by the annual report). A rebuild is all or nothing and
holds the rollup lock exclusively. Day to day, a changed case updates only its own cells
(``cases.reporting.increments``), with the same queries for one case's facts.
"""

from __future__ import annotations

import datetime
import logging
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Count, Exists, ExpressionWrapper, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Least, TruncDate, TruncMonth

from cases.models import (
    ANSWER_LETTER_KINDS,
    LEFT_STATUSES,
    Case,
    CaseEvent,
    CaseFact,
    CaseNorm,
    CaseState,
    CaseTagFact,
    ComplaintOutcome,
    EventKind,
    LetterKind,
    NormMonthCount,
    OutboxStatus,
    OutgoingMessage,
    TagStatus,
    effective_answer_due_sql,
)

logger = logging.getLogger(__name__)

# Outcomes that end a complaint with a decision but without a written answer on the merits.
DECIDED_WITHOUT_ANSWER = (ComplaintOutcome.RESOLVED_INFORMALLY, ComplaintOutcome.FORWARDED, ComplaintOutcome.DECLINED)
DECIDING_STEPS = ("resolve_informally", "forward", "decline")  # the transitions that end a complaint with those outcomes
COUNTED_TAG_STATUSES = (TagStatus.CONFIRMED, TagStatus.SUGGESTED)
# Any constant will do: it names the one advisory lock that serialises refreshes on PostgreSQL.
ROLLUP_LOCK_KEY = 8_120_017

FACT_COLUMNS = (
    "case",
    "received_on",
    "kind",
    "channel",
    "outcome",
    "closed",
    "answered",
    "withdrawn",
    "acknowledgement_due",
    "acknowledged_on",
    "answer_due",
    "effective_answer_due",
    "extended_answer_due",
    "extended_on",
    "handled_on",
    "closed_on",
    "finished_on",
    "handling_days",
    "callback_due",
    "called_back_on",
    "callback_superseded_on",
)
TAG_FACT_COLUMNS = ("case", "norm", "tag_status")
NORM_COUNT_COLUMNS = ("month", "norm", "tag_status", "kind", "channel", "outcome", "cases")


class DaysBetween(models.Func):
    """Whole calendar days from ``start`` to ``end`` (two dates), in SQL on both databases."""

    output_field = models.IntegerField()
    arity = 2

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" - ", **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="CAST(julianday(%(expressions)s) AS INTEGER)", arg_joiner=") - julianday(", **extra_context)


@dataclass(frozen=True)
class RefreshResult:
    months: tuple[datetime.date, ...] | None  # None: everything
    facts: int
    norm_rows: int


def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def _local_tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _letters_left(kinds: list[str]) -> models.QuerySet:
    """The case's letters of these kinds that left (sent, or posted by the mailroom), with the moment as ``left_at``.
    The day the acknowledgement left is what the charter promises, not the transition's own moment."""
    letters = OutgoingMessage.objects.filter(case=OuterRef("pk"), kind__in=kinds, status__in=LEFT_STATUSES)
    return letters.annotate(left_at=Coalesce("sent_at", "posted_at")).filter(left_at__isnull=False)


def _answer_given() -> models.Case:
    """When the answer was given: when its letter left (on paper: when the mailroom posted it), not when the
    officer took the step; not yet while its letter waits to leave; the step's moment when it has no letter."""
    kinds = ANSWER_LETTER_KINDS
    gone = _letters_left(kinds)
    waiting = OutgoingMessage.objects.filter(
        case=OuterRef("pk"), kind__in=kinds, status__in=[OutboxStatus.QUEUED, OutboxStatus.SENDING, OutboxStatus.TO_PRINT, OutboxStatus.PRINTED]
    )
    return models.Case(
        When(Exists(waiting) & ~Exists(gone), then=Value(None)),
        default=Coalesce(Subquery(gone.order_by("left_at").values("left_at")[:1], output_field=models.DateTimeField()), F("answered_at")),
        output_field=models.DateTimeField(),
    )


def _earliest(*moments) -> Least:
    """The earliest of these moments that is set (None when none is): LEAST over rotated COALESCEs, because
    SQLite's MIN of a NULL is NULL where PostgreSQL's LEAST leaves it out."""
    return Least(*(Coalesce(*moments[index:], *moments[:index]) for index in range(len(moments))))


def fact_queryset(cases: models.QuerySet[Case]) -> models.QuerySet:
    """One row per case with exactly the columns of ``CaseFact``, in ``FACT_COLUMNS`` order."""
    tz = _local_tz()
    acknowledgement_left = _letters_left([LetterKind.ACKNOWLEDGEMENT]).order_by("left_at").values("left_at")[:1]
    answered = _answer_given()
    extension = CaseEvent.objects.filter(case=OuterRef("pk"), kind=EventKind.EXTENDED).order_by("at").values("at")[:1]
    # The first decision without an answer letter (informally resolved, forwarded, declined) stays the
    # case's handling when it is reopened, as the first answer does (``answered_at`` is kept).
    decided = CaseEvent.objects.filter(case=OuterRef("pk"), kind=EventKind.TRANSITION, name__in=DECIDING_STEPS).order_by("at").values("at")[:1]
    ended_by_decision = models.Case(When(closed_at__isnull=False, outcome__in=DECIDED_WITHOUT_ANSWER, then=F("closed_at")), output_field=models.DateTimeField())
    decision = Coalesce(Subquery(decided, output_field=models.DateTimeField()), ended_by_decision)
    # Whichever came first, the first answer or the first decision (a reopened case may have both).
    first = _earliest(answered, decision)
    handled_on = TruncDate(first, tzinfo=tz)
    withdrawn = Q(state=CaseState.CLOSED, answered_at__isnull=True) & ~Q(outcome__in=DECIDED_WITHOUT_ANSWER)
    # A promised call-back is owed until the citizen is reached or spoken to otherwise (``Case.callback_owed``):
    # the first explanation, answer (the step, not the letter: from then the officer cannot record a call-back),
    # decision or ending.
    superseded = _earliest(F("explained_at"), F("answered_at"), decision, F("closed_at"))
    return (
        cases.order_by()
        .annotate(
            f_case=F("pk"),
            f_received_on=F("registration__received_on"),
            f_kind=F("kind"),
            f_channel=F("registration__channel"),
            f_outcome=F("outcome"),
            f_closed=ExpressionWrapper(Q(state=CaseState.CLOSED), output_field=models.BooleanField()),
            f_answered=ExpressionWrapper(Q(state__in=CaseState.answered_states()), output_field=models.BooleanField()),
            f_withdrawn=ExpressionWrapper(withdrawn, output_field=models.BooleanField()),
            f_acknowledgement_due=F("acknowledgement_due"),
            f_acknowledged_on=TruncDate(Coalesce(Subquery(acknowledgement_left, output_field=models.DateTimeField()), F("acknowledged_at")), tzinfo=tz),
            f_answer_due=F("answer_due"),
            f_effective_answer_due=effective_answer_due_sql(),
            f_extended_answer_due=F("extended_answer_due"),
            f_extended_on=TruncDate(Subquery(extension, output_field=models.DateTimeField()), tzinfo=tz),
            f_handled_on=handled_on,
            f_closed_on=models.Case(When(state=CaseState.CLOSED, then=TruncDate("closed_at", tzinfo=tz)), output_field=models.DateField()),
            f_finished_on=Coalesce(handled_on, models.Case(When(withdrawn, then=TruncDate("closed_at", tzinfo=tz)), output_field=models.DateField())),
            f_handling_days=DaysBetween(handled_on, F("registration__received_on")),
            f_callback_due=F("callback_due"),
            f_called_back_on=TruncDate("called_back_at", tzinfo=tz),
            f_callback_superseded_on=models.Case(When(callback_due__isnull=False, then=TruncDate(superseded, tzinfo=tz)), output_field=models.DateField()),
        )
        .values(*(f"f_{name}" for name in FACT_COLUMNS))
    )


def tag_fact_queryset(tags: models.QuerySet[CaseNorm]) -> models.QuerySet:
    """One row per counted tag with exactly the columns of ``CaseTagFact``, in ``TAG_FACT_COLUMNS`` order."""
    return tags.order_by().annotate(t_case=F("case_id"), t_norm=F("norm_id"), t_tag_status=F("status")).values("t_case", "t_norm", "t_tag_status")


def norm_count_queryset(tag_facts: models.QuerySet[CaseTagFact]) -> models.QuerySet:
    """Stored tag facts joined to their case's stored fact, grouped into the cells of ``NormMonthCount``
    (in ``NORM_COUNT_COLUMNS`` order): what ``increments.contribution`` adds up, case by case."""
    return (
        tag_facts.order_by()
        .annotate(
            r_month=TruncMonth("case__fact__received_on", output_field=models.DateField()),
            r_norm=F("norm_id"),
            r_tag_status=F("tag_status"),
            r_kind=F("case__fact__kind"),
            r_channel=F("case__fact__channel"),
            r_outcome=F("case__fact__outcome"),
        )
        .values("r_month", "r_norm", "r_tag_status", "r_kind", "r_channel", "r_outcome")
        .annotate(r_cases=Count("pk"))
        .values(*(f"r_{name}" for name in NORM_COUNT_COLUMNS))
    )


def insert_select(model: type[models.Model], columns: Iterable[str], queryset: models.QuerySet) -> int:
    sql, params = queryset.query.sql_with_params()
    quote = connection.ops.quote_name
    targets = ", ".join(quote(model._meta.get_field(name).column) for name in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(model._meta.db_table)} ({targets}) {sql}", params)
        return cursor.rowcount


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK_KEY])


def _received_in(months: Iterable[datetime.date], field: str) -> Q:
    condition = Q(pk__in=[])
    for month in months:
        condition |= Q(**{f"{field}__gte": month, f"{field}__lt": next_month(month)})
    return condition


def _empty(model: type[models.Model]) -> None:
    if connection.vendor == "postgresql":
        # TRUNCATE is far faster than DELETE on a million rows, but refuses while deferred
        # foreign-key checks of this transaction are pending: run them first.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {connection.ops.quote_name(model._meta.db_table)}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    else:
        model.objects.all().delete()


def rollup_refresh(*, months: Iterable[datetime.date] | None = None) -> RefreshResult:
    """Rebuild the derived tables for these months of receipt, or completely when ``months`` is None.

    Merged cases (``merged_into``) are left out: they are counted in the case they were merged into.
    """
    wanted = None if months is None else tuple(sorted({month_of(month) for month in months}))
    cases = Case.objects.filter(merged_into__isnull=True)
    tags = CaseNorm.objects.filter(status__in=COUNTED_TAG_STATUSES, case__merged_into__isnull=True)
    with transaction.atomic():
        _lock()
        if wanted is None:
            _empty(CaseFact)
            _empty(CaseTagFact)
            _empty(NormMonthCount)
        else:
            in_months = _received_in(wanted, "registration__received_on")
            # A case whose date of receipt was corrected may still have its fact in another month.
            stale_ids = set(CaseFact.objects.filter(_received_in(wanted, "received_on")).values_list("case_id", flat=True))
            stale_ids |= set(Case.objects.filter(in_months).values_list("pk", flat=True))
            CaseFact.objects.filter(case_id__in=stale_ids).delete()
            CaseTagFact.objects.filter(case_id__in=stale_ids).delete()
            NormMonthCount.objects.filter(month__in=wanted).delete()
            cases = cases.filter(in_months)
            tags = tags.filter(_received_in(wanted, "case__registration__received_on"))
        facts = insert_select(CaseFact, FACT_COLUMNS, fact_queryset(cases))
        insert_select(CaseTagFact, TAG_FACT_COLUMNS, tag_fact_queryset(tags))
        # Counted from the facts just stored, not from the cases and tags again: each statement sees
        # what was committed when it began, so a change committed between them would be in the counts
        # but not in its case's facts, and that case's refresh would count it a second time.
        stored = CaseTagFact.objects.filter(case__fact__isnull=False)
        if wanted is not None:
            stored = stored.filter(_received_in(wanted, "case__fact__received_on"))
        norm_rows = insert_select(NormMonthCount, NORM_COUNT_COLUMNS, norm_count_queryset(stored))
    scope = "all months" if wanted is None else ", ".join(f"{month:%Y-%m}" for month in wanted)
    logger.info("aggregates refreshed for %s: %d case facts, %d norm rows", scope, facts, norm_rows)
    return RefreshResult(months=wanted, facts=facts, norm_rows=norm_rows)
