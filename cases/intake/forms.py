"""Django forms for the officers' intake of letters and of phone and counter contacts.

The admin screens that show them are built elsewhere (Wagtail views); these forms hold the
fields, their Dutch labels and errors, and a ``register(actor=...)`` method that calls the
service and turns its refusals into errors on the right field, so a view stays a few lines:

    form = LetterForm(request.POST, request.FILES)
    if form.is_valid() and (result := form.register(actor=request.user)):
        ...  # show result.registration.number and result.extracted.problem
"""

from __future__ import annotations

import logging
import uuid

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import errors
from cases.intake.letters import LETTER_NO_SCAN, LetterRegistration, letter_register
from cases.intake.oral import oral_intake
from cases.intake.uploads import ScanField
from cases.models import IntakeChannel, Kind, Registration
from cases.workflow.deadlines import charter_terms
from cases.workflow.registration import Sender

logger = logging.getLogger(__name__)


class _ServiceForm(forms.Form):
    """Maps the field names of a service's ValidationError onto this form's fields."""

    service_fields: dict[str, str | None] = {}

    def _apply_service_error(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for key, messages in exc.error_dict.items():
            field = self.service_fields.get(key, key)
            self.add_error(field if field in self.fields else None, messages)

    def _call(self, service, **kwargs):
        try:
            return service(**kwargs)
        except ValidationError as exc:
            self._apply_service_error(exc)
        except PermissionDenied as exc:
            self.add_error(None, str(exc))
        return None


class LetterForm(_ServiceForm):
    """The mailroom registers a scanned letter (*poststuk*): scan, sender, date of receipt."""

    service_fields = {"scan_file": "scan", "received_on": "received_on"}

    scan = ScanField(label=_("Scan van de brief"), help_text=_("PDF, JPEG of PNG, ten hoogste 10 MB."), error_messages={"required": LETTER_NO_SCAN})
    received_on = forms.DateField(
        label=_("Datum van ontvangst"),
        help_text=_("De dag dat de brief binnenkwam; mag in het verleden liggen, niet in de toekomst."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Vul de datum van ontvangst in."), "invalid": _("Vul een geldige datum in, zoals 02-03-2026.")},
    )
    kind = forms.ChoiceField(
        label=_("Soort"),
        choices=[(Kind.OTHER, _("Weet ik niet: naar de triagelijst")), (Kind.COMPLAINT, _("Klacht")), (Kind.SUGGESTION, _("Verbetersuggestie"))],
        initial=Kind.OTHER,
    )
    sender_name = forms.CharField(label=_("Naam afzender"), max_length=200, required=False)
    sender_address = forms.CharField(label=_("Adres afzender"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    sender_email = forms.EmailField(label=_("E-mailadres afzender (als de brief het noemt)"), required=False)
    subject = forms.CharField(label=_("Onderwerp"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("received_on", timezone.localdate())

    def clean_received_on(self):
        received_on = self.cleaned_data["received_on"]
        if received_on > timezone.localdate():
            raise ValidationError(errors.RECEIVED_IN_FUTURE)
        return received_on

    def register(self, *, actor) -> LetterRegistration | None:
        """Register the letter; None (with the errors on the form) when the service refused."""
        data = self.cleaned_data
        sender = Sender(name=data["sender_name"], email=data["sender_email"], address=data["sender_address"].strip())
        return self._call(
            letter_register, scan_file=data["scan"], sender=sender, received_on=data["received_on"], actor=actor, kind=data["kind"], subject=data["subject"]
        )


class LetterTextForm(forms.Form):
    """The officer corrects the OCR'd text of a letter (``cases.intake.letters.letter_correct_text``)."""

    text = forms.CharField(label=_("Tekst van de brief"), widget=forms.Textarea(attrs={"rows": 16}))
    seen = forms.CharField(required=False, widget=forms.HiddenInput)  # the text the page showed (``seen_fingerprint``)


class OralIntakeForm(_ServiceForm):
    """A complaint or suggestion taken by phone or at the counter, possibly resolved at once (Awb 9:5)."""

    service_fields = {"sender": None}

    channel = forms.ChoiceField(
        label=_("Kanaal"), choices=[(IntakeChannel.PHONE, _("Telefoon")), (IntakeChannel.COUNTER, _("Balie"))], widget=forms.RadioSelect
    )
    kind = forms.ChoiceField(label=_("Soort"), choices=[(Kind.COMPLAINT, _("Klacht")), (Kind.SUGGESTION, _("Verbetersuggestie"))], widget=forms.RadioSelect)
    text = forms.CharField(label=_("Wat zei de inwoner?"), widget=forms.Textarea(attrs={"rows": 8}), error_messages={"required": errors.EMPTY_TEXT})
    sender_name = forms.CharField(label=_("Naam"), max_length=200, required=False)
    sender_email = forms.EmailField(label=_("E-mailadres"), required=False)
    sender_phone = forms.CharField(label=_("Telefoonnummer"), max_length=40, required=False)
    sender_address = forms.CharField(label=_("Postadres"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    callback_requested = forms.BooleanField(label=_("Wil teruggebeld worden"), required=False)
    resolved_at_once = forms.BooleanField(label=_("Direct naar tevredenheid opgelost (Awb 9:5)"), required=False)
    resolution_note = forms.CharField(label=_("Hoe is het opgelost?"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("form_token", uuid.uuid4().hex)
        # The charter's call-back term (TEL-TERUGBELLEN), not a fixed one.
        self.fields["callback_requested"].label = _("Wil teruggebeld worden (binnen %(term)s)") % {"term": charter_terms().callback.text}

    def register(self, *, actor) -> Registration | None:
        """Register (and close when resolved at once); None with the errors on the form when refused."""
        data = self.cleaned_data
        sender = Sender(name=data["sender_name"], email=data["sender_email"], phone=data["sender_phone"].strip(), address=data["sender_address"].strip())
        return self._call(
            oral_intake,
            channel=data["channel"],
            kind=data["kind"],
            text=data["text"],
            sender=sender,
            resolved_at_once=data["resolved_at_once"],
            callback_requested=data["callback_requested"],
            resolution_note=data["resolution_note"],
            actor=actor,
            idempotency_key=data["form_token"] or None,
        )
