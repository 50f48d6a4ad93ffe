"""Registrations, cases and their append-only timeline.

Every incoming item is a ``Registration`` (registration number, date of receipt). Complaints
and suggestions also become a ``Case`` whose state is a django-fsm-2 field; other items wait
in the triage list. Transition bodies only change state and dates; the services in
``cases.services`` lock the row, call them, write the event and queue side effects after commit.
"""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from cases.calendar import default_calendar

ACK_WORKING_DAYS = 4  # charter; Awb 9:6
ANSWER_WEEKS = 6  # charter; Awb 9:11(1)
MAX_EXTENSION_WEEKS = 4  # Awb 9:11(2)
CALLBACK_WORKING_DAYS = 2  # charter, TEL-TERUGBELLEN
DUE_SOON_WORKING_DAYS = 5
HANDLE_PERMISSION = "cases.handle_case"


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


class CaseState(models.TextChoices):
    """States of both workflows; the complaint and suggestion transitions guard which apply."""

    RECEIVED = "received", _("ontvangen")
    ACKNOWLEDGED = "acknowledged", _("ontvangst bevestigd")
    IN_TREATMENT = "in_treatment", _("in behandeling")
    HEARING = "hearing", _("hoorzitting gepland")
    EXPLAINED = "explained", _("uitleg gegeven")
    ANSWERED = "answered", _("beantwoord")
    UNDER_CONSIDERATION = "under_consideration", _("wordt bekeken")
    RESPONDED = "responded", _("gereageerd")
    CLOSED = "closed", _("afgesloten")

    @classmethod
    def open_states(cls) -> list[str]:
        return [state for state in cls.values if state != cls.CLOSED]

    @classmethod
    def closed_states(cls) -> list[str]:
        return [cls.CLOSED]


# What a citizen reads on the private page for each state (plain Dutch, B1).
PUBLIC_STATE_TEXT = {
    CaseState.RECEIVED: _("Wij hebben uw bericht ontvangen."),
    CaseState.ACKNOWLEDGED: _("Wij hebben de ontvangst bevestigd. Uw bericht wordt binnenkort bekeken."),
    CaseState.IN_TREATMENT: _("Een medewerker behandelt uw klacht."),
    CaseState.HEARING: _("Wij willen graag met u praten over uw klacht. U krijgt of kreeg hiervoor een uitnodiging."),
    CaseState.EXPLAINED: _("U heeft uitleg gekregen. Het schriftelijke antwoord volgt."),
    CaseState.ANSWERED: _("U heeft een antwoord gekregen."),
    CaseState.UNDER_CONSIDERATION: _("Wij bekijken uw suggestie."),
    CaseState.RESPONDED: _("Wij hebben op uw suggestie gereageerd."),
    CaseState.CLOSED: _("Uw zaak is afgesloten."),
}


class ComplaintOutcome(models.TextChoices):
    WELL_FOUNDED = "gegrond", _("gegrond")
    PARTLY_FOUNDED = "deels_gegrond", _("deels gegrond")
    UNFOUNDED = "ongegrond", _("ongegrond")
    NO_JUDGEMENT = "geen_oordeel", _("geen oordeel")
    RESOLVED_INFORMALLY = "informeel_opgelost", _("naar tevredenheid opgelost (Awb 9:5)")
    FORWARDED = "doorgezonden", _("doorgezonden (Awb 9:7)")
    DECLINED = "niet_behandeld", _("niet in behandeling genomen (Awb 9:8)")
    WITHDRAWN = "ingetrokken", _("ingetrokken")


class SuggestionOutcome(models.TextChoices):
    ADOPTED = "adopted", _("overgenomen")
    NEXT_REVISION = "next_revision", _("meegenomen in de volgende herziening")
    DECLINED = "declined", _("niet overgenomen (met redenen)")


class DeclineGround(models.TextChoices):
    """Grounds of Awb 9:8 on which a complaint need not be handled."""

    ALREADY_HANDLED = "9:8-1a", _("Awb 9:8 lid 1a: over deze gedraging is al eerder een klacht behandeld")
    OLDER_THAN_A_YEAR = "9:8-1b", _("Awb 9:8 lid 1b: de gedraging was langer dan een jaar geleden")
    OBJECTION_POSSIBLE = "9:8-1c", _("Awb 9:8 lid 1c: u kon bezwaar maken of beroep instellen")
    APPEAL_OPEN = "9:8-1d", _("Awb 9:8 lid 1d: er staat of stond beroep open bij de rechter")
    CRIMINAL = "9:8-1e", _("Awb 9:8 lid 1e: de gedraging is onderwerp van strafrechtelijk onderzoek")
    COURT = "9:8-1f", _("Awb 9:8 lid 1f: de gedraging ligt bij de rechter")
    INSUFFICIENT_INTEREST = "9:8-2", _("Awb 9:8 lid 2: het belang of het gewicht van de gedraging is kennelijk onvoldoende")


def new_public_token() -> str:
    """An unguessable token for the citizen's private link: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


class RegistrationCounter(models.Model):
    """The last sequence number per prefix and year; locked while a number is taken, so numbers are gap-free."""

    prefix = models.CharField(max_length=6)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="unique_counter_per_prefix_year")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


__all__ = [
    "Case",
    "CaseEvent",
    "CaseState",
    "ComplaintOutcome",
    "DeclineGround",
    "EventKind",
    "IntakeChannel",
    "Kind",
    "Registration",
    "RegistrationCounter",
    "ReplyChannel",
    "SuggestionOutcome",
    "TriageState",
    "AppendOnlyQuerySet",
]


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
    message_id = models.CharField(_("Message-ID"), max_length=500, null=True, blank=True, unique=True)
    content_hash = models.CharField(_("inhoudshash"), max_length=64, blank=True, db_index=True)
    triage_state = models.CharField(_("triage"), max_length=10, choices=TriageState.choices, blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("registratie")
        verbose_name_plural = _("registraties")
        ordering = ["-registered_at"]
        indexes = [models.Index(fields=["kind", "triage_state"])]
        permissions = [("correct_letter_text", "Can correct the text read from a scanned letter")]

    def __str__(self) -> str:
        return self.number


class Case(ConcurrentTransitionMixin, models.Model):
    """A complaint (*klacht*, Awb 9:1–9:12) or suggestion (*verbetersuggestie*) being handled.

    ``state`` only changes through the transition methods below, called from
    ``cases.services.workflow``; every change is recorded as a ``CaseEvent``.
    """

    registration = models.OneToOneField(Registration, on_delete=models.PROTECT, related_name="case")
    kind = models.CharField(_("soort"), max_length=12, choices=[(Kind.COMPLAINT, Kind.COMPLAINT.label), (Kind.SUGGESTION, Kind.SUGGESTION.label)])
    state = FSMField(_("status"), default=CaseState.RECEIVED, choices=CaseState.choices, protected=True, db_index=True)
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_cases")
    acknowledgement_due = models.DateField(_("ontvangstbevestiging uiterlijk"))
    answer_due = models.DateField(_("antwoord uiterlijk"))
    extended_answer_due = models.DateField(_("verlengd tot"), null=True, blank=True)
    extension_reason = models.TextField(_("reden verlenging"), blank=True)
    callback_due = models.DateField(_("terugbellen uiterlijk"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    hearing_on = models.DateField(_("hoorzitting op"), null=True, blank=True)
    hearing_waiver = models.TextField(_("reden om niet te horen (Awb 9:10 lid 2)"), blank=True)
    explained_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(_("uitkomst"), max_length=20, choices=ComplaintOutcome.choices + SuggestionOutcome.choices, blank=True)
    decline_ground = models.CharField(_("grond Awb 9:8"), max_length=8, choices=DeclineGround.choices, blank=True)
    forwarded_to = models.CharField(_("doorgezonden aan (Awb 9:7)"), max_length=200, blank=True)
    public_token = models.CharField(max_length=64, unique=True, default=new_public_token, editable=False)
    public_token_revoked = models.BooleanField(default=False)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_cases", verbose_name=_("samengevoegd met"))

    class Meta:
        verbose_name = _("zaak")
        verbose_name_plural = _("zaken")
        ordering = ["answer_due"]
        permissions = [("handle_case", "Can handle cases (quality officer)")]
        indexes = [models.Index(fields=["state", "answer_due"])]

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
        """Awb 9:10: the complainant was heard, or hearing was waived with a reason."""
        return self.state == CaseState.HEARING or bool(self.hearing_waiver) or self.hearing_on is not None

    def not_extended_yet(self) -> bool:
        """Awb 9:11(2): the answer term is extended once."""
        return self.extended_answer_due is None

    # --- transitions: state and dates only; services add events and side effects -------------
    @transition(field=state, source=CaseState.RECEIVED, target=CaseState.ACKNOWLEDGED, permission=HANDLE_PERMISSION)
    def acknowledge(self) -> None:
        self.acknowledged_at = timezone.now()

    @transition(
        field=state, source=[CaseState.RECEIVED, CaseState.ACKNOWLEDGED], target=CaseState.CLOSED, conditions=[is_complaint], permission=HANDLE_PERMISSION
    )
    def resolve_informally(self) -> None:
        self.outcome = ComplaintOutcome.RESOLVED_INFORMALLY
        self.closed_at = timezone.now()

    @transition(
        field=state, source=[CaseState.RECEIVED, CaseState.ACKNOWLEDGED], target=CaseState.CLOSED, conditions=[is_complaint], permission=HANDLE_PERMISSION
    )
    def forward(self, *, to: str) -> None:
        self.forwarded_to = to
        self.outcome = ComplaintOutcome.FORWARDED
        self.closed_at = timezone.now()

    @transition(
        field=state, source=[CaseState.RECEIVED, CaseState.ACKNOWLEDGED], target=CaseState.CLOSED, conditions=[is_complaint], permission=HANDLE_PERMISSION
    )
    def decline(self, *, ground: str) -> None:
        self.decline_ground = DeclineGround(ground)
        self.outcome = ComplaintOutcome.DECLINED
        self.closed_at = timezone.now()

    @transition(field=state, source=CaseState.ACKNOWLEDGED, target=CaseState.IN_TREATMENT, conditions=[is_complaint], permission=HANDLE_PERMISSION)
    def start_treatment(self, *, officer) -> None:
        self.assigned_to = officer

    @transition(field=state, source=CaseState.IN_TREATMENT, target=CaseState.HEARING, conditions=[is_complaint], permission=HANDLE_PERMISSION)
    def schedule_hearing(self, *, on: datetime.date) -> None:
        self.hearing_on = on

    @transition(
        field=state, source=[CaseState.IN_TREATMENT, CaseState.HEARING], target=CaseState.EXPLAINED, conditions=[is_complaint], permission=HANDLE_PERMISSION
    )
    def explain(self) -> None:
        self.explained_at = timezone.now()

    @transition(
        field=state,
        source=[CaseState.IN_TREATMENT, CaseState.HEARING, CaseState.EXPLAINED],
        target=CaseState.ANSWERED,
        conditions=[is_complaint, hearing_done_or_waived],
        permission=HANDLE_PERMISSION,
    )
    def answer(self) -> None:
        self.answered_at = timezone.now()

    @transition(field=state, source=CaseState.ANSWERED, target=CaseState.CLOSED, conditions=[is_complaint], permission=HANDLE_PERMISSION)
    def close(self, *, outcome: str) -> None:
        self.outcome = ComplaintOutcome(outcome)
        self.closed_at = timezone.now()

    @transition(field=state, source=CaseState.ACKNOWLEDGED, target=CaseState.UNDER_CONSIDERATION, conditions=[is_suggestion], permission=HANDLE_PERMISSION)
    def consider(self, *, officer) -> None:
        self.assigned_to = officer

    @transition(
        field=state,
        source=[CaseState.ACKNOWLEDGED, CaseState.UNDER_CONSIDERATION],
        target=CaseState.RESPONDED,
        conditions=[is_suggestion],
        permission=HANDLE_PERMISSION,
    )
    def respond(self, *, outcome: str) -> None:
        self.outcome = SuggestionOutcome(outcome)
        self.answered_at = timezone.now()

    @transition(field=state, source=CaseState.RESPONDED, target=CaseState.CLOSED, conditions=[is_suggestion], permission=HANDLE_PERMISSION)
    def close_suggestion(self) -> None:
        self.closed_at = timezone.now()

    @transition(field=state, source=CaseState.open_states(), target=CaseState.CLOSED, permission=HANDLE_PERMISSION)
    def withdraw(self) -> None:
        if self.is_complaint():
            self.outcome = ComplaintOutcome.WITHDRAWN
        self.closed_at = timezone.now()

    # --- deadlines ------------------------------------------------------------------------
    @property
    def effective_answer_due(self) -> datetime.date:
        return self.extended_answer_due or self.answer_due

    def next_deadline(self) -> tuple[str, datetime.date] | None:
        """The deadline that comes next in this state, as (name, date), or None when nothing is due."""
        if self.state == CaseState.RECEIVED:
            return ("acknowledgement", self.acknowledgement_due)
        if self.state in (CaseState.CLOSED, CaseState.ANSWERED, CaseState.RESPONDED):
            return None
        return ("answer", self.effective_answer_due)

    def deadline_status(self, today: datetime.date | None = None) -> str:
        """'overdue', 'soon' (within DUE_SOON_WORKING_DAYS working days), 'ok' or 'none'."""
        deadline = self.next_deadline()
        if deadline is None:
            return "none"
        today = today or timezone.localdate()
        due = deadline[1]
        if today > due:
            return "overdue"
        if default_calendar().working_days_between(today, due) <= DUE_SOON_WORKING_DAYS:
            return "soon"
        return "ok"

    def public_state_text(self) -> str:
        return str(PUBLIC_STATE_TEXT[CaseState(self.state)])


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
