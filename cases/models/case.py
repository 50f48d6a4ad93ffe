"""Cases and their workflow: the django-fsm-2 transitions between the states of ``cases.models.states``.

Transition bodies only change state and dates; the services in ``cases.workflow`` lock the row,
call them, write the event and queue side effects after commit.
"""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from cases import errors
from cases.calendar import default_calendar
from cases.models.correspondence import ANSWER_LETTER_KINDS, STRANDED_STATUSES
from cases.models.outcomes import ComplaintOutcome, DeclineGround, HearingWaiverGround, SuggestionOutcome
from cases.models.registration import Kind, Registration
from cases.models.states import PUBLIC_STATE_TEXT, CaseState
from cases.permissions import HANDLE_CASE

__all__ = [
    "PUBLIC_STATE_TEXT",
    "Case",
    "CaseQuerySet",
    "CaseState",
    "callback_owed_q",
    "effective_answer_due_sql",
    "new_public_token",
]


# Awb 9:8 lid 3: the complainant hears within four weeks of receipt that the complaint is not handled.
DECLINE_TERM_WEEKS = 4
HEARING_DATE_OUT_OF_RANGE = _("Kies voor de hoorzitting een datum vanaf de dag van ontvangst en binnen een jaar vanaf vandaag.")


def new_public_token() -> str:
    """An unguessable token for the citizen's private link: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def effective_answer_due_sql():
    """``Case.effective_answer_due`` in SQL: the latest of the original, extended and reopened terms.
    (Greatest over Coalesces: on SQLite GREATEST of a NULL is NULL.)"""
    return Greatest(Coalesce("reopened_answer_due", "answer_due"), Coalesce("extended_answer_due", "answer_due"))


def callback_owed_q() -> Q:
    """``Case.callback_owed`` as a filter."""
    return Q(callback_due__isnull=False, called_back_at__isnull=True, explained_at__isnull=True) & ~Q(state__in=CaseState.answered_states())


class CaseQuerySet(models.QuerySet):
    def with_next_due(self) -> CaseQuerySet:
        """Annotate ``next_due``: the date of ``Case.next_deadline()``, in SQL, to sort and filter on."""
        term = models.Case(models.When(state=CaseState.RECEIVED, then=F("acknowledgement_due")), default=effective_answer_due_sql())
        return self.annotate(
            next_due=models.Case(
                models.When(state__in=CaseState.answered_states(), then=Value(None, output_field=models.DateField())),
                models.When(callback_owed_q(), then=Least(F("callback_due"), term)),
                default=term,
                output_field=models.DateField(),
            )
        )


class Case(ConcurrentTransitionMixin, models.Model):
    """A complaint (*klacht*, Awb 9:1–9:12) or suggestion (*verbetersuggestie*) being handled.

    ``state`` only changes through the transition methods below, called from
    ``cases.workflow.transitions``; every change is recorded as a ``CaseEvent``.
    """

    registration = models.OneToOneField(Registration, on_delete=models.PROTECT, related_name="case", verbose_name=_("registratie"))
    kind = models.CharField(_("soort"), max_length=12, choices=[(Kind.COMPLAINT, Kind.COMPLAINT.label), (Kind.SUGGESTION, Kind.SUGGESTION.label)])
    state = FSMField(_("status"), default=CaseState.RECEIVED, choices=CaseState.choices, protected=True, db_index=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_cases", verbose_name=_("behandelaar")
    )
    acknowledgement_due = models.DateField(_("ontvangstbevestiging uiterlijk"))
    answer_due = models.DateField(_("antwoord uiterlijk"))
    extended_answer_due = models.DateField(_("verlengd tot"), null=True, blank=True)
    extension_reason = models.TextField(_("reden verlenging"), blank=True)
    # A case reopened after the citizen's dissatisfaction is answered again within a new term from the
    # day it was reopened; ``answer_due`` keeps the original term, which the compliance figures measure.
    reopened_answer_due = models.DateField(_("opnieuw te beantwoorden uiterlijk"), null=True, blank=True)
    callback_due = models.DateField(_("terugbellen uiterlijk"), null=True, blank=True)
    called_back_at = models.DateTimeField(_("teruggebeld op"), null=True, blank=True, help_text=_("Wanneer de indiener bij het terugbellen is gesproken."))
    acknowledged_at = models.DateTimeField(_("ontvangst bevestigd op"), null=True, blank=True)
    hearing_on = models.DateField(_("hoorzitting op"), null=True, blank=True)
    hearing_waiver = models.TextField(_("reden om niet te horen (Awb 9:10 lid 2)"), blank=True)
    hearing_report = models.TextField(_("verslag van het horen (Awb 9:10 lid 3)"), blank=True)
    # Awb 9:10 lid 1: the person whose conduct the complaint is about is heard too (personal data: wiped with the case).
    complained_about = models.CharField(_("over de gedraging van"), max_length=200, blank=True)
    explained_at = models.DateTimeField(_("uitleg gegeven op"), null=True, blank=True)
    answered_at = models.DateTimeField(_("beantwoord op"), null=True, blank=True)
    closed_at = models.DateTimeField(_("afgesloten op"), null=True, blank=True)
    outcome = models.CharField(_("uitkomst"), max_length=20, choices=ComplaintOutcome.choices + SuggestionOutcome.choices, blank=True)
    decline_ground = models.CharField(_("grond Awb 9:8"), max_length=8, choices=DeclineGround.choices, blank=True)
    forwarded_to = models.CharField(_("doorgezonden aan (Awb 2:3)"), max_length=200, blank=True)
    public_token = models.CharField(_("sleutel van de persoonlijke link"), max_length=64, unique=True, default=new_public_token, editable=False)
    public_token_revoked = models.BooleanField(_("persoonlijke link ingetrokken"), default=False)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_cases", verbose_name=_("samengevoegd met"))

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("zaak")
        verbose_name_plural = _("zaken")
        ordering = ["answer_due"]
        permissions = [("handle_case", "Can handle cases (quality officer)")]
        indexes = [models.Index(fields=["state", "answer_due"])]

    def refresh_from_db(self, using=None, fields=None, from_queryset=None) -> None:
        """Django's refresh, safe for the protected state in a threaded server (runserver, gunicorn --threads):
        django-fsm-2 switches the field's ``protected`` flag, shared by every thread, off and on around the
        refresh, so a request refreshing at the same moment could find it on again and fail. A state not yet on
        the instance may be set, so it is dropped first and loaded like any other field."""
        if fields is None:
            fields = [field.attname for field in self._meta.concrete_fields if field.attname in self.__dict__]
        if "state" in fields:
            self.__dict__.pop("state", None)
        models.Model.refresh_from_db(self, using=using, fields=fields, from_queryset=from_queryset)
        self._update_initial_state()

    def __str__(self) -> str:
        return self.registration.number

    # --- guards ---------------------------------------------------------------------------
    def is_complaint(self) -> bool:
        """Only complaints follow Awb chapter 9."""
        return self.kind == Kind.COMPLAINT

    def is_suggestion(self) -> bool:
        """Only suggestions are considered and responded to."""
        return self.kind == Kind.SUGGESTION

    def hearing_done_or_waived(self) -> bool:
        """Awb 9:10: the complainant was heard (the hearing's day has come and its report is made, lid 3),
        or hearing was waived with a reason.

        A hearing that is only planned is no hearing: the answer waits for its day (and its letter says
        "op ... hebben wij met u gesproken")."""
        return bool(self.hearing_waiver) or (self.hearing_held() and bool(self.hearing_report.strip()))

    def answer_not_stranded(self) -> bool:
        """The answer's letter left or is on its way: closing waits while it failed or was not sent (Awb 9:12: the
        complainant gets the answer in writing). A case answered without a letter of its own has nothing to wait for."""
        letters = self.outgoing_messages.filter(kind__in=ANSWER_LETTER_KINDS)
        return not letters.exists() or letters.exclude(status__in=STRANDED_STATUSES).exists()

    def unheard_as_unfounded(self) -> bool:
        """Not heard on the ground that the complaint is manifestly unfounded (Awb 9:10 lid 2a): then it
        cannot be judged (partly) well founded. ``case_waive_hearing`` begins the waiver with its ground's label."""
        heard = self.hearing_held() and bool(self.hearing_report.strip())  # heard after all: judged on the hearing
        return not heard and self.hearing_waiver.startswith(str(HearingWaiverGround.UNFOUNDED.label))

    def hearing_reportable(self) -> bool:
        """The hearing was held and the complaint is not answered yet: its report can be written (again)."""
        # In treatment too: a reopened case heard before (its report may still be missing).
        return self.is_complaint() and self.hearing_held() and self.state in (CaseState.IN_TREATMENT, CaseState.HEARING, CaseState.EXPLAINED)

    def hearing_held(self) -> bool:
        """The hearing's day has come (a report can be written from then on)."""
        return self.hearing_on is not None and self.hearing_on <= timezone.localdate()

    def current_term_due(self) -> datetime.date:
        """The answer term that runs now: the first one, or the new one of a case reopened after its answer."""
        return self.reopened_answer_due or self.answer_due

    def not_extended_yet(self) -> bool:
        """Awb 9:11(2): the answer term is extended once; a reopened case's new term once more (an earlier
        extension lies before it)."""
        return self.extended_answer_due is None or self.extended_answer_due <= self.current_term_due()

    def is_answered(self) -> bool:
        """The answer or response went out, or the case ended."""
        return self.state in CaseState.answered_states()

    def term_running(self) -> bool:
        """Awb 9:11(2): the answer term (a reopened case's new one) has not run out yet: it is extended only while it runs."""
        return timezone.localdate() <= self.current_term_due()

    def is_extendable(self) -> bool:
        """Awb 9:11(2): an answer term still running, and not extended before."""
        return not self.is_answered() and self.not_extended_yet() and self.term_running()

    def hearing_waivable(self) -> bool:
        """Awb 9:10(2): a complaint in handling, not heard, and no reason to waive recorded yet."""
        return self.is_complaint() and self.state in CaseState.hearing_waivable_states() and self.hearing_on is None and not self.hearing_waiver

    # --- transitions: state and dates only; services add events and side effects -------------
    @transition(field=state, source=CaseState.RECEIVED, target=CaseState.ACKNOWLEDGED, permission=HANDLE_CASE)
    def acknowledge(self, *, at: datetime.datetime | None = None) -> None:
        # ``at``: when the acknowledgement left (sent, or posted on the day the mailroom names), not when it was marked.
        self.acknowledged_at = at or timezone.now()

    # Awb 9:5: whenever the complainant is satisfied (at once, or after an explanation or a hearing), the case
    # closes without the answer letter of Awb 9:12.
    @transition(
        field=state,
        source=[CaseState.RECEIVED, CaseState.ACKNOWLEDGED, CaseState.IN_TREATMENT, CaseState.HEARING, CaseState.EXPLAINED],
        target=CaseState.CLOSED,
        conditions=[is_complaint],
        permission=HANDLE_CASE,
    )
    def resolve_informally(self) -> None:
        self.outcome = ComplaintOutcome.RESOLVED_INFORMALLY
        self.closed_at = timezone.now()

    @transition(field=state, source=[CaseState.RECEIVED, CaseState.ACKNOWLEDGED], target=CaseState.CLOSED, conditions=[is_complaint], permission=HANDLE_CASE)
    def forward(self, *, to: str) -> None:
        self.forwarded_to = to
        self.outcome = ComplaintOutcome.FORWARDED
        self.closed_at = timezone.now()

    @transition(field=state, source=[CaseState.RECEIVED, CaseState.ACKNOWLEDGED], target=CaseState.CLOSED, conditions=[is_complaint], permission=HANDLE_CASE)
    def decline(self, *, ground: str) -> None:
        self.decline_ground = DeclineGround(ground)
        self.outcome = ComplaintOutcome.DECLINED
        self.closed_at = timezone.now()

    @transition(field=state, source=CaseState.ACKNOWLEDGED, target=CaseState.IN_TREATMENT, conditions=[is_complaint], permission=HANDLE_CASE)
    def start_treatment(self, *, officer) -> None:
        self.assigned_to = officer

    # Awb 9:10: also after an explanation that did not satisfy the complainant.
    @transition(
        field=state, source=[CaseState.IN_TREATMENT, CaseState.EXPLAINED], target=CaseState.HEARING, conditions=[is_complaint], permission=HANDLE_CASE
    )
    def schedule_hearing(self, *, on: datetime.date) -> None:
        # A typo (0001-01-01, 2062) would move the case to "hoorzitting gepland" and, in the past, open the answer.
        if on < self.registration.received_on or on > timezone.localdate() + datetime.timedelta(days=366):
            raise ValidationError({"on": HEARING_DATE_OUT_OF_RANGE})
        self.hearing_on = on

    @transition(field=state, source=[CaseState.IN_TREATMENT, CaseState.HEARING], target=CaseState.EXPLAINED, conditions=[is_complaint], permission=HANDLE_CASE)
    def explain(self) -> None:
        self.explained_at = timezone.now()

    @transition(
        field=state,
        source=[CaseState.IN_TREATMENT, CaseState.HEARING, CaseState.EXPLAINED],
        target=CaseState.ANSWERED,
        conditions=[is_complaint, hearing_done_or_waived],
        permission=HANDLE_CASE,
    )
    def answer(self) -> None:
        # The first answer stays the answer the charter's term is measured by; a reopened case answered
        # again keeps it (the second is on the timeline and measured against the reopened term's letter).
        self.answered_at = self.answered_at or timezone.now()

    @transition(field=state, source=CaseState.ANSWERED, target=CaseState.CLOSED, conditions=[is_complaint, answer_not_stranded], permission=HANDLE_CASE)
    def close(self, *, outcome: str) -> None:
        outcome = ComplaintOutcome(outcome)
        if outcome in (ComplaintOutcome.WELL_FOUNDED, ComplaintOutcome.PARTLY_FOUNDED) and self.unheard_as_unfounded():
            raise errors.WorkflowError(str(errors.UNHEARD_BUT_FOUNDED))
        self.outcome = outcome
        self.closed_at = timezone.now()

    @transition(field=state, source=CaseState.ACKNOWLEDGED, target=CaseState.UNDER_CONSIDERATION, conditions=[is_suggestion], permission=HANDLE_CASE)
    def consider(self, *, officer) -> None:
        self.assigned_to = officer

    @transition(
        field=state,
        source=[CaseState.ACKNOWLEDGED, CaseState.UNDER_CONSIDERATION],
        target=CaseState.RESPONDED,
        conditions=[is_suggestion],
        permission=HANDLE_CASE,
    )
    def respond(self, *, outcome: str) -> None:
        self.outcome = SuggestionOutcome(outcome)
        self.answered_at = self.answered_at or timezone.now()  # the first response, as ``answer``

    @transition(field=state, source=CaseState.RESPONDED, target=CaseState.CLOSED, conditions=[is_suggestion, answer_not_stranded], permission=HANDLE_CASE)
    def close_suggestion(self) -> None:
        self.closed_at = timezone.now()

    # Not once answered: the answer's judgement is the registered outcome (Awb 9:12a) and stays.
    @transition(
        field=state,
        source=[state for state in CaseState.open_states() if state not in (CaseState.ANSWERED, CaseState.RESPONDED)],
        target=CaseState.CLOSED,
        permission=HANDLE_CASE,
    )
    def withdraw(self) -> None:
        if self.is_complaint():
            self.outcome = ComplaintOutcome.WITHDRAWN
        self.closed_at = timezone.now()

    # The conversation (cases.conversation.reopening): a citizen who was not satisfied asks to reopen; the
    # officer decides. Reopened, the case is handled again from treatment (or consideration).
    @transition(field=state, source=CaseState.CLOSED, target=CaseState.IN_TREATMENT, conditions=[is_complaint], permission=HANDLE_CASE)
    def reopen_complaint(self) -> None:
        self._clear_ending()

    @transition(field=state, source=CaseState.CLOSED, target=CaseState.UNDER_CONSIDERATION, conditions=[is_suggestion], permission=HANDLE_CASE)
    def reopen_suggestion(self) -> None:
        self._clear_ending()

    def _clear_ending(self) -> None:
        self.outcome = ""
        self.decline_ground = ""
        self.forwarded_to = ""
        self.closed_at = None

    # --- deadlines ------------------------------------------------------------------------
    @property
    def effective_answer_due(self) -> datetime.date:
        """The term the answer is due by now: the latest of the original, extended and reopened terms."""
        return max(due for due in (self.answer_due, self.extended_answer_due, self.reopened_answer_due) if due is not None)

    @property
    def decline_due(self) -> datetime.date:
        """The last day to tell the complainant the complaint is not handled (Awb 9:8 lid 3): four weeks
        after receipt, rolled forward past a weekend or holiday (Atw art. 1), as every term of a law."""
        return default_calendar().add_weeks(self.registration.received_on, DECLINE_TERM_WEEKS)

    def decline_is_late(self, today: datetime.date | None = None) -> bool:
        return (today or timezone.localdate()) > self.decline_due

    def callback_owed(self) -> bool:
        """A call-back was promised (TEL-TERUGBELLEN) and nobody has spoken to the citizen since: not called back
        and reached, no explanation and no answer."""
        return self.callback_due is not None and self.called_back_at is None and self.explained_at is None and not self.is_answered()

    def term_deadline(self) -> tuple[str, datetime.date] | None:
        """The term of this state, as (name, date): the acknowledgement, the answer, or None once answered."""
        if self.state == CaseState.RECEIVED:
            return ("acknowledgement", self.acknowledgement_due)
        return None if self.is_answered() else ("answer", self.effective_answer_due)

    def next_deadline(self) -> tuple[str, datetime.date] | None:
        """The deadline that comes next, as (name, date): the term of this state or, when sooner, the call-back still
        owed; None when nothing is due. ``CaseQuerySet.with_next_due`` is the same rule in SQL."""
        term = self.term_deadline()
        if term is not None and self.callback_owed() and self.callback_due < term[1]:
            return ("callback", self.callback_due)
        return term

    def public_state_text(self) -> str:
        return str(PUBLIC_STATE_TEXT[CaseState(self.state)])
