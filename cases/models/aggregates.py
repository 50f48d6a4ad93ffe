"""Derived tables behind the aggregates (rebuilt from the cases, never edited by hand), and the
editors' choice to publish last year's figures on the charter page.

``CaseFact``, ``CaseTagFact`` and ``NormMonthCount`` hold no names, addresses or texts: only
dates, kinds, channels, outcomes and counts. ``cases.reporting.increments`` updates them per case
after every change (only the cells the case leaves and enters), ``cases.reporting.rollup``
rebuilds them completely every night and reports any drift, so the editors' figures stay fast on
a million cases (see ``bench/bench_aggregates.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["AggregatePending", "CaseFact", "CaseTagFact", "NormMonthCount", "PublicFigures"]


class CaseFact(models.Model):
    """One row per case (merged cases left out): the dates the compliance figures are computed from.

    ``acknowledged_on`` is the day the *ontvangstbevestiging* left (the acknowledgement letter's
    sent or posted date, else the day of the ``acknowledge`` transition); ``handled_on`` is the
    day of the answer or response, or of the decision that ended the case without one (Awb 9:5,
    2:3, 9:8); ``finished_on`` is ``handled_on`` or, for a withdrawn case, the day it was closed;
    ``extended_on`` is the day the answer term was extended (Awb 9:11(2)). For a promised call-back
    (TEL-TERUGBELLEN): ``callback_due``, the day the citizen was reached (``called_back_on``) and
    the day a call-back stopped being owed without one (``callback_superseded_on``: the first
    explanation, answer, decision or withdrawal, as ``Case.callback_owed`` reads them). Dates are local dates.
    """

    # ``fact``: the counts are rebuilt from the stored facts, tags joined to their case's fact (``rollup``).
    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, primary_key=True, related_name="fact")
    received_on = models.DateField(db_index=True)
    kind = models.CharField(max_length=12)
    channel = models.CharField(max_length=10)
    outcome = models.CharField(max_length=20, blank=True)
    closed = models.BooleanField(default=False)
    # No answer term runs any more (answered, responded or closed); false again for a reopened case,
    # whose first answer stays in ``handled_on``: it is open, and counted so.
    answered = models.BooleanField(default=False)
    withdrawn = models.BooleanField(default=False, help_text="Closed without an answer or decision (the sender withdrew).")
    acknowledgement_due = models.DateField()
    acknowledged_on = models.DateField(null=True, blank=True)
    answer_due = models.DateField()
    effective_answer_due = models.DateField(help_text="The term the answer is due by now: the latest of the original, extended and reopened terms.")
    # The first answer is judged against the term it had then: a later reopening's term does not rescue it.
    extended_answer_due = models.DateField(null=True, blank=True, help_text="The extended answer term (Awb 9:11 lid 2), if any.")
    extended_on = models.DateField(null=True, blank=True)
    handled_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True, help_text="The day the case was closed (last), for outcomes as they stood on a day.")
    finished_on = models.DateField(null=True, blank=True)
    handling_days = models.IntegerField(null=True, blank=True, help_text="Calendar days from receipt to handled_on.")
    callback_due = models.DateField(null=True, blank=True, help_text="The day a promised call-back was due (TEL-TERUGBELLEN); empty when none was promised.")
    called_back_on = models.DateField(null=True, blank=True, help_text="The day the citizen was reached by the promised call-back.")
    callback_superseded_on = models.DateField(
        null=True,
        blank=True,
        help_text="For a promised call-back: the first day of an explanation, answer, decision or withdrawal, after which no call-back was owed.",
    )

    class Meta:
        verbose_name = _("zaakfeit (afgeleid)")
        verbose_name_plural = _("zaakfeiten (afgeleid)")
        default_permissions = ()

    def __str__(self) -> str:
        return f"fact of case {self.case_id}"

    @staticmethod
    def withdrawn_by(as_of) -> models.Q:
        """Facts of cases withdrawn by ``as_of``: no answer was owed them that day. One withdrawn after it
        was still open (and maybe late) then."""
        return models.Q(withdrawn=True) & (models.Q(closed_on__isnull=True) | models.Q(closed_on__lte=as_of))


class CaseTagFact(models.Model):
    """The norm tags of a case as ``NormMonthCount`` counts them now (confirmed and suggested, merged
    cases left out): what a case's next change must take out of the counts before it adds itself again."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    norm = models.ForeignKey("cms.ServiceNorm", on_delete=models.CASCADE, related_name="+")
    tag_status = models.CharField(max_length=10)

    class Meta:
        verbose_name = _("normlabel van een zaak (afgeleid)")
        verbose_name_plural = _("normlabels van zaken (afgeleid)")
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["case", "norm"], name="one_tag_fact_per_case_and_norm")]

    def __str__(self) -> str:
        return f"case {self.case_id} norm {self.norm_id} {self.tag_status}"


class AggregatePending(models.Model):
    """A case whose change is not yet in the counts (with a worker: one task takes all of them per
    ``HANDVEST_AGGREGATES_REFRESH_SECONDS``). A row, not a cache key, so a lost task loses nothing:
    the next task, or the nightly rebuild, takes it."""

    case_id = models.BigIntegerField(primary_key=True)
    since = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("zaak die nog geteld moet worden")
        verbose_name_plural = _("zaken die nog geteld moeten worden")
        default_permissions = ()

    def __str__(self) -> str:
        return f"case {self.case_id} to count"


class NormMonthCount(models.Model):
    """Rollup: how many cases of a month of receipt carry a norm tag, per tag status, kind,
    intake channel and outcome. Only confirmed and suggested tags are counted (rejected ones not)."""

    month = models.DateField(help_text="First day of the month of receipt.")
    norm = models.ForeignKey("cms.ServiceNorm", on_delete=models.CASCADE, related_name="+")
    tag_status = models.CharField(max_length=10)
    kind = models.CharField(max_length=12)
    channel = models.CharField(max_length=10)
    outcome = models.CharField(max_length=20, blank=True)
    cases = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("telling per norm en maand (afgeleid)")
        verbose_name_plural = _("tellingen per norm en maand (afgeleid)")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["month", "norm", "tag_status", "kind", "channel", "outcome"], name="one_rollup_row_per_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} norm {self.norm_id} {self.tag_status}: {self.cases}"


class PublicFigures(models.Model):
    """Whether the public charter page shows last year's figures per norm (editors opt in on the
    revision dashboard). One row; ``PublicFigures.load()`` returns it."""

    show_on_charter = models.BooleanField(_("cijfers van vorig jaar op het handvest tonen"), default=False)
    changed_at = models.DateTimeField(null=True, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("openbare cijfers")
        verbose_name_plural = _("openbare cijfers")

    def __str__(self) -> str:
        return "aan" if self.show_on_charter else "uit"

    @classmethod
    def load(cls) -> PublicFigures:
        found = cls.objects.order_by("pk").first()
        return found if found is not None else cls.objects.create()
