"""Forms of the officers' workspace: the inbox filters and the case's actions.

Forms only check and convert input; the services decide. Every action
form carries ``expected_state``, the state the officer saw, so a stale page cannot overwrite a
colleague's step (the services compare it under a row lock).
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from cases import errors
from cases.models import CaseState, ComplaintOutcome, DeclineGround, HearingWaiverGround, IntakeChannel, Kind, SuggestionOutcome
from cases.permissions import HANDLE_CASE
from cases.workflow.transitions import FINAL_OUTCOMES
from cms.models import ServiceNorm

DATE_FORMATS = ["%Y-%m-%d", "%d-%m-%Y"]
PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25

STATE_OPEN = ""
STATE_ALL = "all"
STATE_MERGED = "merged"
DEADLINE_OVERDUE = "overdue"
DEADLINE_SOON = "soon"
ASSIGNED_ME = "me"
ASSIGNED_NOBODY = "nobody"
SORT_DEADLINE = "deadline"
SORT_NEWEST = "newest"
SORT_NUMBER = "number"

TRANSITION_LABELS = {
    "acknowledge": _("Ontvangst bevestigen"),
    "resolve_informally": _("Indiener is tevreden: afsluiten (Awb 9:5)"),
    "forward": _("Doorzenden (Awb 2:3)"),
    "decline": _("Niet behandelen (Awb 9:8)"),
    "start_treatment": _("In behandeling nemen"),
    "schedule_hearing": _("Hoorzitting plannen"),
    "explain": _("Uitleg gegeven"),
    "answer": _("Antwoord versturen"),
    "close": _("Afsluiten met oordeel"),
    "consider": _("In overweging nemen"),
    "respond": _("Reageren op de suggestie"),
    "close_suggestion": _("Afsluiten"),
    "withdraw": _("Ingetrokken door indiener"),
}
TRANSITION_HELP = {
    "acknowledge": _("De indiener krijgt de ontvangstbevestiging met datum van ontvangst en registratienummer."),
    "resolve_informally": _("De indiener is tevreden, bijvoorbeeld na de uitleg: de zaak sluit zonder antwoordbrief (Awb 9:5)."),
    "forward": _("De klacht hoort bij een ander bestuursorgaan; de indiener krijgt bericht."),
    "decline": _("Schriftelijk, met een grond uit Awb 9:8; de zaak sluit."),
    "start_treatment": _("Wijs een behandelaar aan; de beklaagde wordt ingelicht (Awb 9:9)."),
    "schedule_hearing": _("De indiener wordt gehoord (Awb 9:10)."),
    "explain": _("Mondelinge of schriftelijke uitleg is gegeven (handvest)."),
    "answer": _("Schriftelijk antwoord met bevindingen, oordeel en ombudsman (Awb 9:12)."),
    "close": _("Leg het oordeel vast: gegrond, deels gegrond, ongegrond of geen oordeel."),
    "consider": _("Wijs een behandelaar aan die de suggestie bekijkt."),
    "respond": _("Wat gebeurt er met de suggestie?"),
    "close_suggestion": _("De reactie is verstuurd; de zaak sluit."),
    "withdraw": _("De indiener trekt de klacht of suggestie in; de zaak sluit."),
}
# Steps the law wants in writing: the answer (Awb 9:12), not handling a complaint (9:8 lid 3) and forwarding it,
# with notice to the complainant (2:3). The case page offers them only with their letter.
STEPS_IN_WRITING = ("answer", "decline", "forward")
# Steps that end the case get a visual warning and a confirmation in the browser.
CLOSING_TRANSITIONS = {"resolve_informally", "forward", "decline", "close", "close_suggestion", "withdraw"}
# Ways to end a case besides the usual road; the case page folds them away so the next step stands out.
OTHER_ENDINGS = ("resolve_informally", "forward", "decline", "withdraw")
# After an explanation or a hearing the complainant is satisfied (close, Awb 9:5) or not (hear, or answer): both roads shown.
SATISFIED_IS_A_NEXT_STEP = (CaseState.EXPLAINED, CaseState.HEARING)
SHORT_LABELS = {
    "resolve_informally": _("opgelost (Awb 9:5)"),
    "forward": _("doorzenden (Awb 2:3)"),
    "decline": _("niet behandelen (Awb 9:8)"),
    "withdraw": _("ingetrokken"),
}


def officers():
    """Active users who may handle cases: superusers and holders of ``HANDLE_CASE`` (through a group or directly)."""
    app_label, codename = HANDLE_CASE.split(".")
    permission = Permission.objects.filter(codename=codename, content_type__app_label=app_label).values("pk")
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__permissions__in=permission) | Q(user_permissions__in=permission))
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


class OfficerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class CaseFilterForm(forms.Form):
    """The inbox's filters, from the query string; invalid values fall back to 'all'."""

    q = forms.CharField(
        label=_("Zoeken"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("Nummer, onderwerp, tekst of afzender"), "type": "search"}),
    )
    state = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[(STATE_OPEN, _("Alle open zaken")), *CaseState.choices, (STATE_MERGED, _("samengevoegd")), (STATE_ALL, _("Alle zaken"))],
    )
    kind = forms.ChoiceField(
        label=_("Soort"), required=False, choices=[("", _("Klachten en suggesties")), (Kind.COMPLAINT, _("klacht")), (Kind.SUGGESTION, _("suggestie"))]
    )
    channel = forms.ChoiceField(label=_("Kanaal"), required=False, choices=[("", _("Alle kanalen")), *IntakeChannel.choices])
    norm = forms.ChoiceField(label=_("Norm"), required=False)
    deadline = forms.ChoiceField(
        label=_("Termijn"),
        required=False,
        choices=[("", _("Alle termijnen")), (DEADLINE_OVERDUE, _("te laat")), (DEADLINE_SOON, _("binnenkort (5 werkdagen)"))],
    )
    assigned = forms.ChoiceField(
        label=_("Behandelaar"), required=False, choices=[("", _("Iedereen")), (ASSIGNED_ME, _("aan mij toegewezen")), (ASSIGNED_NOBODY, _("niet toegewezen"))]
    )
    sort = forms.ChoiceField(
        label=_("Sorteren"),
        required=False,
        choices=[(SORT_DEADLINE, _("eerstvolgende termijn")), (SORT_NEWEST, _("nieuwste eerst")), (SORT_NUMBER, _("registratienummer"))],
    )
    per_page = forms.TypedChoiceField(
        label=_("Per pagina"), required=False, coerce=int, choices=[(n, str(n)) for n in PAGE_SIZES], empty_value=DEFAULT_PAGE_SIZE, initial=DEFAULT_PAGE_SIZE
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        codes = ServiceNorm.objects.order_by("code").values_list("code", flat=True)
        self.fields["norm"].choices = [("", _("Alle normen")), *((code, code) for code in codes)]

    def controls(self) -> list[dict]:
        """The filter fields as plain HTML, built here rather than by Django's widget templates.

        Rendering a select through the widget templates costs a template per option; the inbox
        renders nine of them on every page, so this keeps the page inside its time budget.
        """
        controls = []
        for bound in self:
            value = bound.value()
            value = "" if value is None else str(value)
            attrs = {"name": bound.html_name, "id": bound.id_for_label}
            if isinstance(bound.field, forms.ChoiceField):
                options = format_html_join(
                    "",
                    '<option value="{}"{}>{}</option>',
                    ((str(key), mark_safe(" selected") if str(key) == value else "", label) for key, label in bound.field.choices),
                )
                html = format_html('<select name="{}" id="{}">{}</select>', attrs["name"], attrs["id"], options)
            else:
                placeholder = bound.field.widget.attrs.get("placeholder", "")
                html = format_html(
                    '<input type="search" name="{}" id="{}" value="{}" placeholder="{}" maxlength="200">', attrs["name"], attrs["id"], value, placeholder
                )
            controls.append({"name": bound.name, "label": bound.label, "id": bound.id_for_label, "html": html})
        return controls

    def filters(self) -> dict:
        """The valid filters (an invalid one is dropped, not an error: it came from a URL)."""
        self.is_valid()
        values = {name: self.cleaned_data.get(name) for name in self.fields if name not in self.errors}
        values["per_page"] = values.get("per_page") or DEFAULT_PAGE_SIZE
        values["sort"] = values.get("sort") or SORT_DEADLINE
        values["q"] = (values.get("q") or "").strip()
        return values


class ActionForm(forms.Form):
    """A form on the case page. Each kind of form gets its own element ids, since several share the page."""

    key = "action"
    expected_state = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{kwargs.pop('key', None) or self.key}_%s")
        super().__init__(*args, **kwargs)


class TransitionForm(ActionForm):
    """One step of the workflow; only the fields that step needs are present."""

    name = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("Toelichting (intern)"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, transition: str, **kwargs):
        super().__init__(*args, key=transition, **kwargs)
        self.transition = transition
        self.fields["name"].initial = transition
        if transition in ("start_treatment", "consider"):
            self.fields["officer"] = OfficerChoiceField(label=_("Behandelaar"), queryset=officers(), empty_label=None)
        elif transition == "schedule_hearing":
            self.fields["on"] = forms.DateField(
                label=_("Datum hoorzitting"), input_formats=DATE_FORMATS, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
            )
        elif transition == "close":
            self.fields["outcome"] = forms.ChoiceField(label=_("Oordeel"), choices=[(c.value, c.label) for c in ComplaintOutcome if c in FINAL_OUTCOMES])
        elif transition == "respond":
            self.fields["outcome"] = forms.ChoiceField(label=_("Wat gebeurt ermee"), choices=SuggestionOutcome.choices)
        elif transition == "decline":
            self.fields["ground"] = forms.ChoiceField(label=_("Grond"), choices=DeclineGround.choices)
        elif transition == "forward":
            self.fields["to"] = forms.CharField(label=_("Doorzenden aan"), max_length=200, help_text=_("Het bestuursorgaan waar de klacht bij hoort."))

    @property
    def label(self):
        return TRANSITION_LABELS.get(self.transition, self.transition)

    @property
    def short_label(self):
        return SHORT_LABELS.get(self.transition, self.label)

    @property
    def help(self):
        return TRANSITION_HELP.get(self.transition, "")

    @property
    def closes(self) -> bool:
        return self.transition in CLOSING_TRANSITIONS

    @property
    def has_parameters(self) -> bool:
        return any(name not in ("expected_state", "name", "note") for name in self.fields)

    def params(self) -> dict:
        return {key: value for key, value in self.cleaned_data.items() if key not in ("expected_state", "name", "note")}


class ExtendForm(ActionForm):
    key = "extend"
    new_due = forms.DateField(label=_("Nieuwe termijn"), input_formats=DATE_FORMATS, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    reason = forms.CharField(
        label=_("Waarom duurt het langer?"), help_text=_("Dit staat in de tussentijdse mededeling aan de indiener."), widget=forms.Textarea(attrs={"rows": 2})
    )


class CallbackForm(ActionForm):
    key = "callback"
    reached = forms.TypedChoiceField(
        label=_("Is de indiener bereikt?"),
        choices=[("yes", _("Ja, gesproken")), ("no", _("Nee, niet bereikt (de termijn blijft staan)"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Kies of de indiener bereikt is."), "invalid_choice": _("Kies of de indiener bereikt is.")},
    )
    note = forms.CharField(
        label=_("Wat is besproken?"), required=False, help_text=_("Alleen voor medewerkers; komt op de tijdlijn."), widget=forms.Textarea(attrs={"rows": 2})
    )


class WaiveHearingForm(ActionForm):
    key = "waive"
    ground = forms.ChoiceField(
        label=_("Grond"),
        choices=[("", _("— kies een grond —")), *HearingWaiverGround.choices],
        error_messages={"required": errors.HEARING_NEEDS_GROUND, "invalid_choice": errors.HEARING_NEEDS_GROUND},
    )
    reason = forms.CharField(
        label=_("Waarom geen hoorzitting?"),
        help_text=_("Waarom de grond hier geldt, bijvoorbeeld wanneer de indiener zei niet gehoord te willen worden."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class HearingReportForm(ActionForm):
    key = "hearing_report"
    seen = forms.CharField(widget=forms.HiddenInput, required=False)  # the report this page showed (report_fingerprint)
    report = forms.CharField(
        label=_("Verslag van het horen"),
        help_text=_(
            "Wie er waren, wat de indiener vertelde en wat de medewerker zei (Awb 9:10 lid 3). "
            "Komt in het dossier; de indiener ziet het niet op de eigen pagina."
        ),
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": errors.HEARING_REPORT_EMPTY},
    )
    complained_about = forms.CharField(
        label=_("Over de gedraging van"),
        required=False,
        max_length=200,
        help_text=_("Naam of functie van de medewerker om wie het gaat; die wordt ook gehoord (Awb 9:10 lid 1)."),
    )


class AssignForm(ActionForm):
    key = "assign"
    officer = OfficerChoiceField(label=_("Behandelaar"), queryset=None, required=False, empty_label=_("— niemand —"))
    seen_officer = forms.CharField(widget=forms.HiddenInput, required=False)  # the handler this page showed ("" nobody)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = officers()


class NoteForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_note_%s")
        super().__init__(*args, **kwargs)

    text = forms.CharField(
        label=_("Interne notitie"), help_text=_("Alleen voor medewerkers; de indiener ziet dit nooit."), widget=forms.Textarea(attrs={"rows": 3})
    )


class TagForm(ActionForm):
    key = "tag"
    code = forms.CharField(max_length=40, widget=forms.HiddenInput)
    seen_status = forms.CharField(max_length=12, required=False, widget=forms.HiddenInput)  # the tag as the page showed it


class AddNormForm(ActionForm):
    key = "addnorm"
    code = forms.ChoiceField(label=_("Norm toevoegen"))

    def __init__(self, *args, exclude: set[str] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        norms = ServiceNorm.objects.published_active().order_by("code").values_list("code", "promise")
        self.fields["code"].choices = [("", _("— kies een norm —"))] + [(code, f"{code}: {promise[:70]}") for code, promise in norms if code not in exclude]


class MergeForm(ActionForm):
    key = "merge"
    into = forms.CharField(
        label=_("Samenvoegen met zaak"),
        max_length=24,
        help_text=_("Registratienummer van de zaak die de zaak behandelt, bijv. HLG-2026-000042. Alleen bij een dubbele melding van dezelfde indiener."),
    )
    note = forms.CharField(label=_("Toelichting"), required=False, max_length=500)


class PrivateLinkForm(forms.Form):
    """A new private link for the citizen; ``seen`` is the fingerprint of the link on the page (a double click renews once)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_link_%s")
        super().__init__(*args, **kwargs)

    seen = forms.CharField(widget=forms.HiddenInput, max_length=16)
    reason = forms.CharField(
        label=_("Waarom een nieuwe link?"),
        max_length=300,
        help_text=_("Bijvoorbeeld: de indiener stuurde de link door. Komt op de tijdlijn; de indiener ziet het niet."),
    )
