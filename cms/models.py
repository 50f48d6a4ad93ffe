"""The published charter: municipality settings, charter versions, service norms and pages.

``cms`` knows nothing of cases. Aggregates reach the editor's views through Wagtail hooks
that ``cases`` registers.
"""

from __future__ import annotations

import datetime
import re

from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import Subquery
from django.db.models.functions import Coalesce
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, PublishingPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting
from wagtail.fields import RichTextField
from wagtail.models import DraftStateMixin, Page, PreviewableMixin, RevisionMixin
from wagtail.search import index

from cms.kept import forget, kept

NORM_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
NORM_CODE_IMMUTABLE = _("De code van een norm ligt vast zodra de norm bestaat; maak een nieuwe norm aan.")
NORM_NOT_DELETABLE = _("Een norm wordt nooit verwijderd; trek hem in (met datum en eventueel een opvolger).")
NORM_NOT_UNPUBLISHABLE = _(
    "Een norm gaat niet offline zonder datum. Trek hem in: zet 'In gebruik' uit, vul de datum van intrekken in en publiceer."
)


class Channel(models.TextChoices):
    """The contact channels of the charter, in the order the charter lists them."""

    TELEFOON = "telefoon", _("Telefoon")
    POST = "post", _("Brief en e-mail")
    BALIE = "balie", _("Balie")
    WEBSITE = "website", _("Gemeentelijke website")
    OVERIG = "overig", _("Overig")
    KLACHTEN = "klachten", _("Klachten")


class TargetKind(models.TextChoices):
    """How a norm's promise can be measured."""

    SHARE_WITHIN = "share_within", _("Aandeel binnen een tijd (bijv. 80% binnen 25 seconden)")
    MAX_DURATION = "max_duration", _("Maximale duur (bijv. binnen 3 minuten)")
    TERM = "term", _("Termijn (bijv. 4 werkdagen, 6 weken)")
    ADVANCE_NOTICE = "advance_notice", _("Bericht vooraf (bijv. 4 weken van tevoren)")
    QUALITATIVE = "qualitative", _("Kwalitatieve belofte (niet in een getal)")


class TargetUnit(models.TextChoices):
    SECONDS = "seconds", _("seconden")
    MINUTES = "minutes", _("minuten")
    HOURS = "hours", _("uur")
    WORKING_DAYS = "working_days", _("werkdagen")
    DAYS = "days", _("dagen")
    WEEKS = "weeks", _("weken")


# The unit after the amount 1: "1 werkdag", not "1 werkdagen" (the choices' labels are plurals).
UNIT_SINGULAR = {
    TargetUnit.SECONDS: _("seconde"),
    TargetUnit.MINUTES: _("minuut"),
    TargetUnit.HOURS: _("uur"),
    TargetUnit.WORKING_DAYS: _("werkdag"),
    TargetUnit.DAYS: _("dag"),
    TargetUnit.WEEKS: _("week"),
}


def unit_text(amount, unit: str) -> str:
    """The unit as it reads after ``amount``: singular after 1, plural otherwise; '' without a unit."""
    if not unit or unit not in TargetUnit.values:
        return ""
    return str(UNIT_SINGULAR[TargetUnit(unit)] if amount == 1 else TargetUnit(unit).label)


class MeasurementPeriod(models.TextChoices):
    """The period over which a norm is measured and judged (met or not), e.g. TEL-25SEC per month."""

    MONTH = "month", _("per maand")
    QUARTER = "quarter", _("per kwartaal")
    YEAR = "year", _("per jaar")


class MeasuredFrom(models.TextChoices):
    """Where a norm's measurements come from: supplied (imported) or counted from the cases themselves."""

    IMPORT = "import", _("aangeleverde metingen (telefooncentrale, wachtrijsysteem, steekproef, ...)")
    ACKNOWLEDGEMENTS = "acknowledgements", _("uit de zaken: ontvangstbevestigingen")
    ANSWERS = "answers", _("uit de zaken: inhoudelijke antwoorden (of tijdig tussenbericht)")


# Units a term counted from the cases' date of receipt can be expressed in.
CASE_TERM_UNITS = ("working_days", "days", "weeks")


class KeptSetting:
    """A Wagtail setting read by every registration or letter (the number's prefix, the contact block,
    the ombudsman named in an answer), which changes a few times a year: ``current()`` is ``load()``
    kept a minute per process (``cms.kept``). A save in this process is seen at once
    (``forget_settings``), one in another process within the minute. Read what it returns; never save it."""

    @classmethod
    def current(cls):
        return kept(cls, cls.load)


@receiver(post_save, dispatch_uid="forget_settings")
def forget_settings(sender, **kwargs) -> None:
    """Forget a kept setting when it is saved, and again when the save commits: a thread of this
    process may have read the old row in between."""
    if isinstance(sender, type) and issubclass(sender, KeptSetting):
        forget(sender)
        transaction.on_commit(lambda: forget(sender))


@register_setting(icon="site")
class MunicipalitySettings(KeptSetting, BaseGenericSetting):
    """The municipality behind the charter: its name, contact block and registration prefix.

    Shown in the footer of every public page and in every letter; the prefix starts every
    registration number (``HLG-2026-000042``).
    """

    name = models.CharField(_("naam"), max_length=120, default="Gemeente", help_text=_("Bijv. Gemeente Harlingen."))
    registration_prefix = models.CharField(
        _("prefix registratienummer"),
        max_length=6,
        default="GEM",
        validators=[RegexValidator(r"^[A-Z]{2,6}$", _("Twee tot zes hoofdletters."))],
        help_text=_("Begin van elk registratienummer, bijv. HLG in HLG-2026-000042."),
    )
    phone = models.CharField(_("telefoon"), max_length=40, blank=True, help_text=_("Bijv. 14 0517."))
    phone_abroad = models.CharField(_("telefoon vanuit het buitenland"), max_length=40, blank=True)
    opening_hours = models.TextField(_("openingstijden"), blank=True, help_text=_("Eén regel per dagdeel."))
    postal_address = models.TextField(_("postadres"), blank=True)
    visiting_address = models.TextField(_("bezoekadres"), blank=True)
    complaint_email = models.EmailField(_("e-mailadres voor klachten"), blank=True)
    website = models.URLField(_("website"), blank=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("registration_prefix"),
        MultiFieldPanel(
            [
                FieldPanel("phone"),
                FieldPanel("phone_abroad"),
                FieldPanel("opening_hours"),
                FieldPanel("postal_address"),
                FieldPanel("visiting_address"),
                FieldPanel("complaint_email"),
                FieldPanel("website"),
            ],
            heading=_("Contact"),
        ),
    ]

    class Meta:
        verbose_name = _("gemeente")

    def __str__(self) -> str:
        return self.name


class Charter(models.Model):
    """One version of the municipality's quality charter (e.g. Harlingen 2017).

    Norms belong to a version; the public charter page shows one version.
    """

    key = models.SlugField(_("sleutel"), max_length=80, unique=True, help_text=_("Bijv. harlingen-2017; gelijk aan de bestandsnaam."))
    title = models.CharField(_("titel"), max_length=200)
    year = models.PositiveSmallIntegerField(_("jaar"), validators=[MinValueValidator(1990), MaxValueValidator(2100)])
    introduction = models.TextField(_("inleiding"), blank=True, help_text=_("'Wat is het?'"))
    how_it_works = models.TextField(_("hoe werkt het"), blank=True)
    complaints_text = models.TextField(_("tekst 'Klachten'"), blank=True)
    suggestions_text = models.TextField(_("tekst 'Verbetersuggesties'"), blank=True)

    panels = [
        FieldPanel("key", read_only=True),
        FieldRowPanel([FieldPanel("title"), FieldPanel("year")]),
        FieldPanel("introduction"),
        FieldPanel("how_it_works"),
        FieldPanel("complaints_text"),
        FieldPanel("suggestions_text"),
    ]

    class Meta:
        verbose_name = _("handvest")
        verbose_name_plural = _("handvesten")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.title} ({self.year})"


class ServiceNormForm(WagtailAdminModelForm):
    """The code is typed once, on creation; afterwards it is shown but cannot change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "code" in self.fields:
            self.fields["code"].disabled = True


def charter_in_force() -> Coalesce:
    """The id of the charter version the public page shows (the newest such page), or of the newest version when no
    page is live; an expression, so a query filters on it without a round trip of its own."""
    shown = CharterPage.objects.live().order_by("-charter__year").values("charter_id")[:1]
    newest = Charter.objects.order_by("-year").values("pk")[:1]
    return Coalesce(Subquery(shown), Subquery(newest))


class ServiceNormQuerySet(models.QuerySet):
    def published_active(self) -> ServiceNormQuerySet:
        """Norms a citizen can hold the municipality to today: published, in use, and of the charter version the
        public page shows (the newest version without a page). A norm a newer version left out is off the page,
        and so off the web form, the case terms and the tagger as well (one query: the version is a subquery)."""
        return self.filter(live=True, active=True, charter_id=charter_in_force())

    def delete(self):
        raise PermissionDenied(NORM_NOT_DELETABLE)


class ServiceNorm(DraftStateMixin, RevisionMixin, PreviewableMixin, index.Indexed, models.Model):
    """A promise of the charter (*servicenorm*), with a stable code that cases and the tagger use.

    Editors revise norms in Wagtail's snippet admin (draft, publish, history); a norm is
    retired, never deleted. Shown grouped by channel on the public charter page.
    """

    charter = models.ForeignKey(Charter, on_delete=models.PROTECT, related_name="norms", verbose_name=_("handvest"))
    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        validators=[RegexValidator(NORM_CODE_RE, _("Hoofdletters, cijfers en koppeltekens, bijv. TEL-25SEC."))],
        help_text=_("Stabiele code, bijv. TEL-25SEC. Ligt vast na aanmaken."),
    )
    channel = models.CharField(_("kanaal"), max_length=20, choices=Channel.choices)
    promise = models.TextField(_("belofte"), help_text=_("De norm zoals de inwoner hem leest."))
    target_kind = models.CharField(_("soort doel"), max_length=20, choices=TargetKind.choices, default=TargetKind.QUALITATIVE)
    target_percentage = models.PositiveSmallIntegerField(
        _("percentage"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Verplicht bij 'aandeel binnen een tijd'. Bij een maximale duur of termijn: het deel dat binnen moet blijven; leeg = alles (100%)."),
    )
    target_amount = models.PositiveIntegerField(_("hoeveelheid"), null=True, blank=True, help_text=_("Bijv. 25 (seconden), 4 (werkdagen)."))
    target_unit = models.CharField(_("eenheid"), max_length=20, choices=TargetUnit.choices, blank=True)
    target_period = models.CharField(_("meetperiode"), max_length=40, blank=True, help_text=_("Bijv. 'per maand'."))
    measurement_period = models.CharField(
        _("gemeten en beoordeeld"),
        max_length=10,
        choices=MeasurementPeriod.choices,
        default=MeasurementPeriod.MONTH,
        help_text=_("Per welke periode wordt vastgesteld of de norm gehaald is."),
    )
    measured_from = models.CharField(
        _("bron van de metingen"),
        max_length=20,
        choices=MeasuredFrom.choices,
        default=MeasuredFrom.IMPORT,
        help_text=_("Aangeleverd door de kwaliteitsmedewerker (import), of door Handvest zelf geteld uit de zaken."),
    )
    keywords = models.TextField(_("trefwoorden"), blank=True, help_text=_("Door komma's gescheiden; helpen de tagger."))
    sort_order = models.PositiveSmallIntegerField(_("volgorde binnen kanaal"), default=0)
    active = models.BooleanField(_("actief"), default=True, help_text=_("Uit = ingetrokken; de norm blijft bewaard."))
    retired_on = models.DateField(_("ingetrokken op"), null=True, blank=True)
    successor = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="predecessors", verbose_name=_("opvolger"))
    _revisions = GenericRelation("wagtailcore.Revision", related_query_name="servicenorm")

    objects = ServiceNormQuerySet.as_manager()
    base_form_class = ServiceNormForm

    panels = [
        FieldPanel("code"),
        FieldRowPanel([FieldPanel("channel"), FieldPanel("sort_order")]),
        FieldPanel("promise"),
        MultiFieldPanel(
            [
                FieldPanel("target_kind"),
                FieldRowPanel([FieldPanel("target_percentage"), FieldPanel("target_amount"), FieldPanel("target_unit")]),
                FieldPanel("target_period"),
                FieldRowPanel([FieldPanel("measurement_period"), FieldPanel("measured_from")]),
            ],
            heading=_("Meetbaar doel"),
        ),
        FieldPanel("keywords"),
        FieldPanel("charter"),
        MultiFieldPanel([FieldPanel("active"), FieldPanel("retired_on"), FieldPanel("successor")], heading=_("Intrekken")),
        PublishingPanel(),
    ]
    search_fields = [index.SearchField("code"), index.SearchField("promise"), index.SearchField("keywords"), index.FilterField("channel")]

    class Meta:
        verbose_name = _("servicenorm")
        verbose_name_plural = _("servicenormen")
        ordering = ["channel", "sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.code}: {self.promise[:60]}"

    @property
    def revisions(self):
        return self._revisions

    @property
    def keyword_list(self) -> list[str]:
        return [word.strip() for word in self.keywords.split(",") if word.strip()]

    @property
    def target_display(self) -> str:
        """The measurable target in words, e.g. '80% binnen 25 seconden (per maand)'."""
        unit = unit_text(self.target_amount, self.target_unit)
        if self.target_kind == TargetKind.SHARE_WITHIN:
            text = _("%(pct)s%% binnen %(amount)s %(unit)s") % {"pct": self.target_percentage, "amount": self.target_amount, "unit": unit}
        elif self.target_kind == TargetKind.MAX_DURATION:
            text = _("binnen %(amount)s %(unit)s") % {"amount": self.target_amount, "unit": unit}
        elif self.target_kind == TargetKind.TERM:
            text = _("termijn %(amount)s %(unit)s") % {"amount": self.target_amount, "unit": unit}
        elif self.target_kind == TargetKind.ADVANCE_NOTICE:
            text = _("%(amount)s %(unit)s vooraf") % {"amount": self.target_amount, "unit": unit}
        else:
            return str(_("kwalitatief"))
        if self.target_kind != TargetKind.SHARE_WITHIN and self.target_percentage not in (None, 100):
            text = _("%(pct)s%% %(target)s") % {"pct": self.target_percentage, "target": text}
        return f"{text} ({self.target_period})" if self.target_period else str(text)

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.pk:
            stored = type(self).objects.filter(pk=self.pk).values_list("code", flat=True).first()
            if stored is not None and stored != self.code:
                errors["code"] = NORM_CODE_IMMUTABLE
        if self.target_kind == TargetKind.SHARE_WITHIN and self.target_percentage is None:
            errors["target_percentage"] = _("Vul het percentage in.")
        if self.target_kind == TargetKind.QUALITATIVE and self.target_percentage is not None:
            errors["target_percentage"] = _("Een kwalitatieve belofte heeft geen percentage.")
        if self.measured_from != MeasuredFrom.IMPORT and (self.target_kind != TargetKind.TERM or self.target_unit not in CASE_TERM_UNITS):
            errors["measured_from"] = _("Uit de zaken tellen kan alleen bij een termijn in werkdagen, dagen of weken.")
        if self.target_kind != TargetKind.QUALITATIVE:
            if self.target_amount is None:
                errors["target_amount"] = _("Vul de hoeveelheid in.")
            if not self.target_unit:
                errors["target_unit"] = _("Kies een eenheid.")
        if not self.active and self.retired_on is None:
            errors["retired_on"] = _("Vul de datum van intrekken in.")
        if self.successor_id and self.successor_id == self.pk:
            errors["successor"] = _("Een norm kan niet zijn eigen opvolger zijn.")
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        if self.pk:
            stored = type(self).objects.filter(pk=self.pk).values_list("code", flat=True).first()
            if stored is not None and stored != self.code:
                raise ValidationError({"code": NORM_CODE_IMMUTABLE})
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied(NORM_NOT_DELETABLE)

    def get_preview_template(self, request, mode_name):
        return "cms/servicenorm_preview.html"


def complaint_form_url() -> str:
    """Where a citizen files a complaint: the web form when installed, else the complaint e-mail."""
    try:
        return reverse("intake:complaint_form")
    except NoReverseMatch:
        settings = MunicipalitySettings.load()
        return f"mailto:{settings.complaint_email}" if settings.complaint_email else "#"


class HomePage(Page):
    """The site's start page: what a citizen can do here, with links to the charter and the form."""

    intro = RichTextField(_("inleiding"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["cms.CharterPage", "cms.CharterReportPage"]
    max_count = 1

    class Meta:
        verbose_name = _("startpagina")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["charter_pages"] = CharterPage.objects.live().child_of(self)
        context["report_pages"] = CharterReportPage.objects.live().child_of(self)
        context["complaint_url"] = complaint_form_url()
        return context


class CharterPage(Page):
    """The public charter: introduction, the published active norms by channel, complaints and suggestions."""

    charter = models.ForeignKey(Charter, on_delete=models.PROTECT, related_name="pages", verbose_name=_("handvest"))

    content_panels = Page.content_panels + [FieldPanel("charter")]
    parent_page_types = ["cms.HomePage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("handvestpagina")

    def norms_by_channel(self) -> list[tuple[str, list[ServiceNorm]]]:
        norms = ServiceNorm.objects.published_active().filter(charter=self.charter).order_by("sort_order", "code")
        grouped = {value: [] for value in Channel.values}
        for norm in norms:
            grouped[norm.channel].append(norm)
        return [(Channel(value).label, items) for value, items in grouped.items() if items]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["norms_by_channel"] = self.norms_by_channel()
        context["complaint_url"] = complaint_form_url()
        # Other apps add to this page through the hook (e.g. last year's figures per norm, opt-in);
        # cms knows none of them. A hook may set ``charter_page_extras`` (HTML) on the norms in
        # the context and add HTML blocks to ``context["charter_page_sections"]``.
        context["charter_page_sections"] = []
        for hook in hooks.get_hooks("charter_page_context"):
            hook(page=self, request=request, context=context)
        return context


class CharterReportPage(Page):
    """The public charter report, "Hoe hielden wij ons aan onze beloften?": per norm its target,
    per period whether it was met, and the complaints and suggestions about it.

    The editor writes the introduction and publishes the page like any other; the figures come
    from ``cases`` through the ``charter_report_page_context`` hook (``cms`` knows nothing of
    cases), so the page always shows the report as it stands. Without a year it shows the last
    full calendar year.
    """

    intro = RichTextField(_("inleiding"), blank=True)
    year = models.PositiveSmallIntegerField(
        _("jaar"),
        null=True,
        blank=True,
        validators=[MinValueValidator(2000), MaxValueValidator(2100)],
        help_text=_("Leeg: het laatste volledige kalenderjaar."),
    )

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("year")]
    parent_page_types = ["cms.HomePage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("handvestrapportage")

    def report_year(self, today: datetime.date | None = None) -> int:
        return self.year or (today or timezone.localdate()).year - 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["report_year"] = self.report_year()
        context["complaint_url"] = complaint_form_url()
        # The figures are added by the app that has them (cases), as HTML blocks; cms knows none of them.
        context["charter_report_sections"] = []
        for hook in hooks.get_hooks("charter_report_page_context"):
            hook(page=self, request=request, context=context)
        return context
