"""Records management (Archiefwet 1995, Selectielijst gemeenten en intergemeentelijke organen 2020)
and the requests of citizens about their personal data (AVG art. 15-17).

| model | what it is | where it shows up |
| --- | --- | --- |
| ``ResultType`` | the retention table: *resultaattype*, Selectielijst category, verdict, term | Archief → Bewaartermijnen |
| ``CaseRecord`` | per closed case: result type, verdict, term, *brondatum*, destruction date | a case's Archivering page |
| ``DestructionList`` / ``DestructionListItem`` | a *vernietigingslijst* the archivist reviews and approves | Archief → Vernietigingslijsten |
| ``DataSubjectRequest`` | the log of access, rectification and erasure requests (no copy of the data) | Privacyverzoeken |

The retention table is data (seeded by migration 0012); a case's verdict, term and date are fixed
when it closes (``CaseRecord.fix_at_closure``, called by ``cases.workflow.transitions``), so a later
change of the table applies to cases closed after it. The services live in ``cases.records``.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models.case import Case
from cases.models.outcomes import ComplaintOutcome, SuggestionOutcome
from cases.models.registration import Kind
from cases.storage import private_storage

__all__ = [
    "RESULT_CODE_BY_OUTCOME",
    "ArchivalVerdict",
    "CaseRecord",
    "DataSubjectRequest",
    "DestructionItemState",
    "DestructionList",
    "DestructionListItem",
    "DestructionListStatus",
    "RecordHold",
    "RequestKind",
    "ResultCode",
    "ResultType",
    "add_years",
    "result_code_for",
]


class ArchivalVerdict(models.TextChoices):
    """*Archiefnominatie*: destroy after the term, or keep for ever (transfer to the archive)."""

    DESTROY = "vernietigen", _("vernietigen")
    KEEP = "bewaren", _("blijvend bewaren")


class ResultCode(models.TextChoices):
    """The result types the code derives at closure (the table may hold more, chosen by hand)."""

    COMPLAINT_HANDLED = "complaint_handled", _("klacht afgehandeld")
    COMPLAINT_OMBUDSMAN = "complaint_ombudsman", _("klacht afgehandeld via de Nationale ombudsman")
    COMPLAINT_INADMISSIBLE = "complaint_inadmissible", _("klacht niet ontvankelijk of doorgezonden")
    COMPLAINT_WITHDRAWN = "complaint_withdrawn", _("klacht ingetrokken (afgebroken)")
    COMPLAINT_KEEP = "complaint_keep", _("klacht met invloed op een te bewaren zaak")
    SUGGESTION_GRANTED = "suggestion_granted", _("suggestie overgenomen")
    SUGGESTION_DECLINED = "suggestion_declined", _("suggestie niet overgenomen")
    SUGGESTION_WITHDRAWN = "suggestion_withdrawn", _("suggestie ingetrokken (afgebroken)")


# The case's outcome at closure decides its result type; "" is a withdrawn suggestion (no outcome).
RESULT_CODE_BY_OUTCOME = {
    (Kind.COMPLAINT, ComplaintOutcome.WELL_FOUNDED): ResultCode.COMPLAINT_HANDLED,
    (Kind.COMPLAINT, ComplaintOutcome.PARTLY_FOUNDED): ResultCode.COMPLAINT_HANDLED,
    (Kind.COMPLAINT, ComplaintOutcome.UNFOUNDED): ResultCode.COMPLAINT_HANDLED,
    (Kind.COMPLAINT, ComplaintOutcome.NO_JUDGEMENT): ResultCode.COMPLAINT_HANDLED,
    (Kind.COMPLAINT, ComplaintOutcome.RESOLVED_INFORMALLY): ResultCode.COMPLAINT_HANDLED,
    (Kind.COMPLAINT, ComplaintOutcome.FORWARDED): ResultCode.COMPLAINT_INADMISSIBLE,
    (Kind.COMPLAINT, ComplaintOutcome.DECLINED): ResultCode.COMPLAINT_INADMISSIBLE,
    (Kind.COMPLAINT, ComplaintOutcome.WITHDRAWN): ResultCode.COMPLAINT_WITHDRAWN,
    (Kind.SUGGESTION, SuggestionOutcome.ADOPTED): ResultCode.SUGGESTION_GRANTED,
    (Kind.SUGGESTION, SuggestionOutcome.NEXT_REVISION): ResultCode.SUGGESTION_GRANTED,
    (Kind.SUGGESTION, SuggestionOutcome.DECLINED): ResultCode.SUGGESTION_DECLINED,
    (Kind.SUGGESTION, ""): ResultCode.SUGGESTION_WITHDRAWN,
}


def result_code_for(kind: str, outcome: str) -> str:
    """The result type a case closed with ``outcome`` gets; a complaint without a known outcome counts as handled."""
    default = ResultCode.COMPLAINT_HANDLED if kind == Kind.COMPLAINT else ResultCode.SUGGESTION_WITHDRAWN
    return str(RESULT_CODE_BY_OUTCOME.get((kind, outcome or ""), default))


def add_years(day: datetime.date, years: int) -> datetime.date:
    """``day`` plus whole years; 29 February becomes 28 February in a year without it."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


class ResultType(models.Model):
    """A row of the retention table: a result type (*resultaattype*) of a complaint or suggestion,
    with the Selectielijst 2020 category it falls under, the verdict and the term in years.

    Edited by the archivist in Wagtail (Archief → Bewaartermijnen); seeded by migration 0012 from
    procestype 13 *Geschillen behandelen* (complaints) and 6 *Verzoeken behandelen* (suggestions).
    """

    code = models.SlugField(_("code"), max_length=40, unique=True, help_text=_("Vaste sleutel waarmee Handvest een uitkomst aan dit resultaattype koppelt."))
    kind = models.CharField(_("soort"), max_length=12, choices=[(Kind.COMPLAINT, Kind.COMPLAINT.label), (Kind.SUGGESTION, Kind.SUGGESTION.label)])
    name = models.CharField(_("resultaattype"), max_length=120)
    selectielijst_item = models.CharField(
        _("Selectielijst 2020, categorie"),
        max_length=20,
        help_text=_("Het nummer in de Selectielijst gemeenten en intergemeentelijke organen 2020, bijv. 13.1.2."),
    )
    procestype = models.CharField(_("procestype"), max_length=80, blank=True, help_text=_("Bijv. '13 Geschillen behandelen'."))
    verdict = models.CharField(_("archiefnominatie"), max_length=12, choices=ArchivalVerdict.choices, default=ArchivalVerdict.DESTROY)
    term_years = models.PositiveSmallIntegerField(_("bewaartermijn (jaren)"), null=True, blank=True, help_text=_("Leeg bij blijvend bewaren."))
    note = models.TextField(_("toelichting"), blank=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("bewaartermijn")
        verbose_name_plural = _("bewaartermijnen")
        ordering = ["kind", "sort_order", "selectielijst_item"]

    def __str__(self) -> str:
        return f"{self.name} ({self.selectielijst_item})"

    def clean(self) -> None:
        if self.verdict == ArchivalVerdict.DESTROY and not self.term_years:
            raise ValidationError({"term_years": _("Vul een bewaartermijn in: na hoeveel jaar wordt vernietigd?")})
        if self.verdict == ArchivalVerdict.KEEP and self.term_years:
            raise ValidationError({"term_years": _("Blijvend te bewaren stukken hebben geen bewaartermijn; maak dit veld leeg.")})


# The timeline event of an officer choosing a result type (``cases.records.retention.record_set_result_type``).
HAND_CHOSEN_EVENT = "result_type"


class RecordHold(models.TextChoices):
    """Why a closed case may not be destroyed now, whatever its date."""

    OMBUDSMAN = "ombudsman", _("bij de Nationale ombudsman")
    OBJECTION = "objection", _("bezwaar, beroep of andere procedure loopt")
    OTHER = "other", _("andere reden om te bewaren")


class CaseRecordQuerySet(models.QuerySet):
    def wiped(self) -> CaseRecordQuerySet:
        """Records whose case's personal data is gone (destroyed or erased): ``CaseRecord.wiped`` in SQL."""
        return self.exclude(destroyed_at=None, erased_at=None)


class CaseRecord(models.Model):
    """The archival facts of one closed case: result type, verdict, term, *brondatum* (the closure
    date) and destruction date, any hold (ombudsman, objection), and when its personal data went.

    ``destroyed_at`` is set by an approved destruction list, ``erased_at`` by an erasure request
    (AVG art. 17); either way the Case and Registration rows stay, without personal data, so the
    aggregates and the annual report keep their counts.
    """

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="record")
    result_type = models.ForeignKey(ResultType, on_delete=models.PROTECT, null=True, blank=True, related_name="records", verbose_name=_("resultaattype"))
    verdict = models.CharField(_("archiefnominatie"), max_length=12, choices=ArchivalVerdict.choices, blank=True)
    term_years = models.PositiveSmallIntegerField(_("bewaartermijn (jaren)"), null=True, blank=True)
    source_date = models.DateField(_("brondatum"), help_text=_("De datum van afsluiten van de zaak."))
    destroy_on = models.DateField(_("vernietigen vanaf"), null=True, blank=True, db_index=True)
    hold = models.CharField(_("niet vernietigen"), max_length=12, choices=RecordHold.choices, blank=True, db_index=True)
    hold_reason = models.TextField(_("reden"), blank=True)
    ombudsman_on = models.DateField(_("voorgelegd aan de Nationale ombudsman op"), null=True, blank=True)
    destroyed_at = models.DateTimeField(_("persoonsgegevens vernietigd op"), null=True, blank=True)
    erased_at = models.DateTimeField(_("persoonsgegevens gewist op (AVG)"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("archiefgegevens van een zaak")
        verbose_name_plural = _("archiefgegevens van zaken")
        default_permissions = ()

    def __str__(self) -> str:
        return f"record of case {self.case_id}"

    @property
    def wiped(self) -> bool:
        """The personal data of the case is gone (destroyed or erased)."""
        return self.destroyed_at is not None or self.erased_at is not None

    def apply(self, result_type: ResultType | None) -> None:
        """Take verdict, term and destruction date from ``result_type`` (not saved)."""
        self.result_type = result_type
        self.verdict = result_type.verdict if result_type else ""
        self.term_years = result_type.term_years if result_type else None
        destroys = result_type is not None and result_type.verdict == ArchivalVerdict.DESTROY and result_type.term_years
        self.destroy_on = add_years(self.source_date, result_type.term_years) if destroys else None

    @classmethod
    def fix_at_closure(cls, case: Case) -> CaseRecord:
        """Give a case that just closed its record: result type from its outcome, brondatum the closure date.

        Called in the transaction of the closing step. A missing row of the retention table never
        stops a closure: the record then has no result type and is never proposed for destruction.
        """
        closed_on = timezone.localdate(case.closed_at) if case.closed_at else timezone.localdate()
        record = cls.objects.filter(case=case).first() or cls(case=case)
        record.source_date = closed_on
        # A reopened case that closes again keeps what the ombudsman made of it (13.1.2), a result type an
        # officer chose by hand (e.g. *blijvend bewaren*: never to be undone by a derivation), and any hold.
        if record.pk and record.result_type_id and case.events.filter(name=HAND_CHOSEN_EVENT).exists():
            result_type = record.result_type
        else:
            code = ResultCode.COMPLAINT_OMBUDSMAN if record.ombudsman_on else result_code_for(case.kind, case.outcome)
            result_type = ResultType.objects.filter(code=code).first()
        record.apply(result_type)
        record.save()
        return record


class DestructionListStatus(models.TextChoices):
    PROPOSED = "proposed", _("ter beoordeling")
    APPROVED = "approved", _("goedgekeurd, wordt uitgevoerd")
    DONE = "done", _("vernietigd")
    CANCELLED = "cancelled", _("ingetrokken")


class DestructionList(models.Model):
    """A *vernietigingslijst*: the closed cases whose destruction date had passed on ``as_of``.

    The archivist reviews it (metadata only), excludes cases with a reason, and approves; then the
    personal data of the remaining cases is destroyed, one case per transaction, and the
    *verklaring van vernietiging* (Archiefbesluit 1995 art. 8) is kept in ``statement``.
    """

    as_of = models.DateField(_("peildatum"))
    status = models.CharField(_("status"), max_length=10, choices=DestructionListStatus.choices, default=DestructionListStatus.PROPOSED, db_index=True)
    created_at = models.DateTimeField(_("opgesteld op"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(_("goedgekeurd op"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    approver_name = models.CharField(_("goedgekeurd door"), max_length=200, blank=True, help_text=_("Naam op het moment van goedkeuren, voor de verklaring."))
    done_at = models.DateTimeField(_("uitgevoerd op"), null=True, blank=True)
    statement = models.FileField(storage=private_storage, upload_to="records/statements/", blank=True)
    statement_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("vernietigingslijst")
        verbose_name_plural = _("vernietigingslijsten")
        ordering = ["-created_at"]
        permissions = [("review_destruction", "Can review and approve destruction lists (archivist)")]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        """E.g. ``VL-2031-0004``."""
        return f"VL-{self.created_at:%Y}-{self.pk or 0:04d}"

    @property
    def is_open(self) -> bool:
        return self.status in (DestructionListStatus.PROPOSED, DestructionListStatus.APPROVED)


class DestructionItemState(models.TextChoices):
    PROPOSED = "proposed", _("voorgesteld")
    EXCLUDED = "excluded", _("uitgezonderd")
    DESTROYED = "destroyed", _("vernietigd")
    SKIPPED = "skipped", _("overgeslagen")
    WITHDRAWN = "withdrawn", _("lijst ingetrokken")


class DestructionListItem(models.Model):
    """One case on a destruction list, with the metadata the archivist decides on (never its content).

    The metadata is a copy, so the list and the statement still read the same after destruction.
    """

    destruction_list = models.ForeignKey(DestructionList, on_delete=models.CASCADE, related_name="items")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("registratienummer"), max_length=24)
    kind = models.CharField(_("soort"), max_length=12)
    result_type_name = models.CharField(_("resultaattype"), max_length=120)
    selectielijst_item = models.CharField(_("Selectielijst 2020"), max_length=20)
    term_years = models.PositiveSmallIntegerField(_("bewaartermijn (jaren)"), null=True)
    source_date = models.DateField(_("brondatum"))
    destroy_on = models.DateField(_("vernietigen vanaf"))
    merged_numbers = models.CharField(_("samengevoegde zaken"), max_length=500, blank=True)
    state = models.CharField(_("stand"), max_length=10, choices=DestructionItemState.choices, default=DestructionItemState.PROPOSED)
    reason = models.TextField(_("reden"), blank=True, help_text=_("Waarom uitgezonderd of overgeslagen."))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("zaak op een vernietigingslijst")
        verbose_name_plural = _("zaken op een vernietigingslijst")
        ordering = ["destroy_on", "number"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["destruction_list", "case"], name="one_item_per_case_and_list"),
            # A case is proposed for destruction on one list at a time: two lists made at once (a double
            # click, two archivists) cannot both hold it, so an exclusion on one is never undone by the other.
            models.UniqueConstraint(fields=["case"], condition=models.Q(state="proposed"), name="one_open_proposal_per_case"),
        ]

    def __str__(self) -> str:
        return f"{self.number} on list {self.destruction_list_id}"


class RequestKind(models.TextChoices):
    ACCESS = "access", _("inzage (AVG art. 15)")
    RECTIFICATION = "rectification", _("rectificatie (AVG art. 16)")
    ERASURE = "erasure", _("wissen (AVG art. 17)")


class DataSubjectRequest(models.Model):
    """One request of a citizen about their personal data, as handled: which cases, what was done,
    why, by whom. It holds the registration numbers, never the person's name or e-mail address,
    so the log itself does not keep what an erasure removed."""

    kind = models.CharField(_("soort verzoek"), max_length=14, choices=RequestKind.choices)
    matched_on = models.CharField(_("gezocht op"), max_length=40, help_text=_("e-mailadres, naam of registratienummer (niet de waarde zelf)."))
    numbers = models.TextField(_("zaken"), blank=True, help_text=_("Registratienummers, gescheiden door komma's."))
    refused = models.TextField(_("geweigerd"), blank=True, help_text=_("Registratienummers met de reden van weigering."))
    reason = models.TextField(_("reden of toelichting"), blank=True)
    handled_at = models.DateTimeField(_("afgehandeld op"), default=timezone.now)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("AVG-verzoek")
        verbose_name_plural = _("AVG-verzoeken")
        ordering = ["-handled_at"]
        default_permissions = ("view",)
        permissions = [("handle_data_requests", "Can handle citizens' access, rectification and erasure requests")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.handled_at:%Y-%m-%d}"
