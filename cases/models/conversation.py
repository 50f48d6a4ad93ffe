"""The conversation with the citizen: questions back, consent to wait longer, satisfaction, reopening, the ombudsman.

Written by the services in ``cases.conversation``; shown on the citizen's private page (in order,
open questions first) and on the officer's case page. No row here is ever deleted by the
conversation itself; answers are written once.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting

from cases.models.case import Case, CaseState
from cases.models.correspondence import OutgoingMessage
from cases.models.events import CaseEvent, EventKind
from cases.models.intake import Attachment, InboundMessage
from cms.models import KeptSetting

__all__ = [
    "AnswerChannel",
    "CitizenQuestion",
    "ConsentRequest",
    "ConsentStatus",
    "OmbudsmanKind",
    "OmbudsmanReferral",
    "OmbudsmanSettings",
    "QuestionStatus",
    "ReopenRequest",
    "ReopenStatus",
    "SatisfactionSurvey",
]


class AnswerChannel(models.TextChoices):
    """How the citizen's answer reached us."""

    WEB = "web", _("via de eigen pagina")
    EMAIL = "email", _("per e-mail")
    LETTER = "letter", _("per brief (vastgelegd door een medewerker)")
    PHONE = "phone", _("telefonisch (vastgelegd door een medewerker)")


class QuestionStatus(models.TextChoices):
    OPEN = "open", _("wacht op antwoord")
    ANSWERED = "answered", _("beantwoord")
    WITHDRAWN = "withdrawn", _("ingetrokken")


class CitizenQuestion(models.Model):
    """A question from the officer to the citizen (*reactie gevraagd*) and the citizen's one reply.

    The answer term of Awb 9:11 keeps running while the question is open (the law has no pause for
    complaints); ``asked_at`` → ``answered_at`` is the waiting time the figures can show apart.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="questions")
    text = models.TextField(_("vraag"))
    status = models.CharField(_("status"), max_length=10, choices=QuestionStatus.choices, default=QuestionStatus.OPEN, db_index=True)
    asked_at = models.DateTimeField(_("gevraagd op"), default=timezone.now)
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    letter = models.ForeignKey(
        OutgoingMessage, on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text=_("De brief of e-mail met de vraag.")
    )
    answered_at = models.DateTimeField(_("beantwoord op"), null=True, blank=True)
    answer_text = models.TextField(_("antwoord"), blank=True)
    answer_channel = models.CharField(_("antwoord via"), max_length=8, choices=AnswerChannel.choices, blank=True)
    answer_inbound = models.ForeignKey(InboundMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    attachments = models.ManyToManyField(Attachment, blank=True, related_name="+")
    read_at = models.DateTimeField(_("antwoord gelezen op"), null=True, blank=True, help_text=_("Wanneer de behandelaar het antwoord las."))
    officer_notified_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Wanneer de behandelaar per e-mail hoorde dat er antwoord is; gezet vóór het versturen, dus nooit twee keer.")
    )

    class Meta:
        verbose_name = _("vraag aan de indiener")
        verbose_name_plural = _("vragen aan de indiener")
        ordering = ["asked_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["case"], condition=models.Q(status="open"), name="one_open_question_per_case")]

    def __str__(self) -> str:
        return f"{self.case} vraag {self.pk}"

    @classmethod
    def end_with_case(cls, case: Case, *, actor, why: str) -> int:
        """A case that ends (closed, or merged into another) waits for no answer: its open question is withdrawn,
        noted on the timeline, in the caller's transaction. The citizen's page and the officers' queue stop asking."""
        withdrawn = 0
        for question in cls.objects.select_for_update().filter(case=case, status=QuestionStatus.OPEN):
            question.status = QuestionStatus.WITHDRAWN
            question.save(update_fields=["status"])
            CaseEvent.objects.create(
                case=case, actor=actor, kind=EventKind.NOTE, name="question_withdrawn", note=question.text, data={"question": question.pk, "why": why}
            )
            withdrawn += 1
        return withdrawn

    @property
    def waiting_time(self):
        """Question asked → answered (None while open): shown apart in the figures."""
        return (self.answered_at - self.asked_at) if self.answered_at else None


class ConsentStatus(models.TextChoices):
    PENDING = "pending", _("wacht op antwoord")
    AGREED = "agreed", _("akkoord")
    REFUSED = "refused", _("niet akkoord")
    EXPIRED = "expired", _("verlopen")


def _past_answering(today: datetime.date) -> Q:
    """A request nobody can answer any more: its proposed date has passed, or its case was answered or merged into another."""
    return Q(proposed_due__lt=today) | Q(case__state__in=CaseState.answered_states()) | Q(case__merged_into__isnull=False)


class ConsentRequestQuerySet(models.QuerySet):
    def awaiting(self, today: datetime.date) -> ConsentRequestQuerySet:
        """Requests the citizen can still answer: pending, the proposed date not past, the case not answered."""
        return self.filter(status=ConsentStatus.PENDING).exclude(_past_answering(today))

    def lapsed(self, today: datetime.date) -> ConsentRequestQuerySet:
        """Pending requests nobody can answer any more (``consents_expire`` marks them expired)."""
        return self.filter(status=ConsentStatus.PENDING).filter(_past_answering(today))


class ConsentRequest(models.Model):
    """A request for the complainant's written consent to postpone the answer further (Awb 9:11 lid 3).

    The first postponement (four weeks at most) needs only a written notice; every further one
    needs this consent. Agreed, the answer term moves to ``proposed_due``.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="consent_requests")
    proposed_due = models.DateField(_("nieuwe datum"))
    reason = models.TextField(_("waarom het langer duurt"))
    status = models.CharField(_("status"), max_length=8, choices=ConsentStatus.choices, default=ConsentStatus.PENDING, db_index=True)
    requested_at = models.DateTimeField(default=timezone.now)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    letter = models.ForeignKey(OutgoingMessage, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_channel = models.CharField(_("antwoord via"), max_length=8, choices=AnswerChannel.choices, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("De medewerker die een antwoord per brief of e-mail vastlegde."),
    )
    note = models.TextField(_("toelichting"), blank=True)
    applied = models.BooleanField(default=False, help_text=_("De antwoordtermijn is naar de nieuwe datum verschoven."))
    expired_at = models.DateTimeField(null=True, blank=True)

    objects = ConsentRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("verzoek om instemming met uitstel")
        verbose_name_plural = _("verzoeken om instemming met uitstel")
        ordering = ["requested_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["case"], condition=models.Q(status="pending"), name="one_pending_consent_per_case")]

    def __str__(self) -> str:
        return f"{self.case} uitstel tot {self.proposed_due}"


class SatisfactionSurvey(models.Model):
    """The one question after closure: how satisfied were you (1–5), and why? One per case, ever."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="satisfaction")
    asked_at = models.DateTimeField(default=timezone.now)
    letter = models.ForeignKey(OutgoingMessage, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    score = models.PositiveSmallIntegerField(_("cijfer"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)])
    reason = models.TextField(_("waarom"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("tevredenheidsvraag")
        verbose_name_plural = _("tevredenheidsvragen")

    def __str__(self) -> str:
        return f"{self.case} tevredenheid"


class ReopenStatus(models.TextChoices):
    PENDING = "pending", _("wacht op besluit")
    REOPENED = "reopened", _("heropend")
    DECLINED = "declined", _("niet heropend")


class ReopenRequest(models.Model):
    """A citizen was not satisfied (score 1 or 2): the officer reopens the case, or explains why not."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reopen_requests")
    survey = models.OneToOneField(SatisfactionSurvey, on_delete=models.PROTECT, null=True, blank=True, related_name="reopen_request")
    status = models.CharField(_("status"), max_length=8, choices=ReopenStatus.choices, default=ReopenStatus.PENDING, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    explanation = models.TextField(_("toelichting aan de indiener"), blank=True)
    letter = models.ForeignKey(OutgoingMessage, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("verzoek om heropening")
        verbose_name_plural = _("verzoeken om heropening")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.case} heropening"


class OmbudsmanKind(models.TextChoices):
    NATIONAL = "national", _("de Nationale ombudsman")
    MUNICIPAL = "municipal", _("de ombudsman van de gemeente")


class OmbudsmanReferral(models.Model):
    """The complainant went on to the ombudsman (Awb 9:18 and on): when, the findings, and what we did."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="ombudsman_referral")
    ombudsman = models.CharField(_("ombudsman"), max_length=10, choices=OmbudsmanKind.choices)
    submitted_on = models.DateField(_("klacht bij de ombudsman ingediend op"))
    findings = models.TextField(_("bevindingen van de ombudsman"), blank=True)
    findings_on = models.DateField(_("rapport van de ombudsman op"), null=True, blank=True)
    measures = models.TextField(_("maatregelen van de gemeente"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("klacht bij de ombudsman")
        verbose_name_plural = _("klachten bij de ombudsman")

    def __str__(self) -> str:
        return f"{self.case} ombudsman"


@register_setting(icon="group")
class OmbudsmanSettings(KeptSetting, BaseGenericSetting):
    """Where a complainant can go after our answer (Awb 9:17–9:18): the Nationale ombudsman, or the
    municipality's own ombudsman or complaints committee. Named in the answer letter (Awb 9:12 lid 2),
    in the decision not to reopen, and on the citizen's private page."""

    ombudsman = models.CharField(_("ombudsman na de klachtbehandeling"), max_length=10, choices=OmbudsmanKind.choices, default=OmbudsmanKind.NATIONAL)
    own_name = models.CharField(
        _("naam van de eigen ombudsman"), max_length=200, blank=True, help_text=_("Alleen bij een eigen ombudsman, bijv. 'de Ombudsman Harlingen'.")
    )
    own_website = models.URLField(_("website van de eigen ombudsman"), blank=True)
    own_contact = models.TextField(_("contact van de eigen ombudsman"), blank=True, help_text=_("Adres of telefoonnummer, zoals de inwoner het leest."))

    panels = [FieldPanel("ombudsman"), FieldPanel("own_name"), FieldPanel("own_website"), FieldPanel("own_contact")]

    class Meta:
        verbose_name = _("ombudsman")

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        if self.ombudsman == OmbudsmanKind.MUNICIPAL and not self.own_name.strip():
            raise ValidationError({"own_name": _("Vul de naam van de eigen ombudsman in.")})

    @property
    def is_municipal(self) -> bool:
        return self.ombudsman == OmbudsmanKind.MUNICIPAL and bool(self.own_name.strip())

    @property
    def display_name(self) -> str:
        return self.own_name.strip() if self.is_municipal else str(_("de Nationale ombudsman"))
