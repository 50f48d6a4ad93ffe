"""The citizen's web form (*klachtenformulier*): a complaint or suggestion, with contact details and attachments.

Works without JavaScript; errors appear next to their fields and in a summary at the top.
Spam is kept out without third-party services: a honeypot field that people never see,
and a per-IP rate limit in Django's cache. A submission is known by its words, sender and day: a
double click, or Back and send again, returns the first registration. The acknowledgement e-mail is not sent here: the
correspondence receiver of ``case_registered`` sends it after commit.
"""

from __future__ import annotations

import logging
import re
import textwrap

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from cases import errors
from cases.intake.rate_limit import client_ip, rate_release, rate_reserve
from cases.intake.text_fields import TextBox
from cases.intake.thanks import complaint_thanks, thanks_cookie, thanks_state
from cases.intake.uploads import MAX_FILE_SIZE, MAX_FILES, MultipleFileField
from cases.intake.uploads import files_again as files_again_note  # _form_page's flag has the helper's name
from cases.intake.web_submissions import submission_hash, submission_store
from cases.models import Kind
from cases.workflow.deadlines import charter_terms
from cases.workflow.registration import Sender
from cms.kept import forget, kept
from cms.models import Channel, MunicipalitySettings, ServiceNorm

logger = logging.getLogger(__name__)

HONEYPOT_FIELD = "website"
DESCRIPTION_MAX_LENGTH = 10_000
# Larger bodies are refused before Django parses them; the files' own limits are checked per file.
MAX_REQUEST_BYTES = 2 * MAX_FILES * MAX_FILE_SIZE
PHONE_RE = re.compile(r"^\+?[0-9 ()\-.]{6,25}$")

KIND_REQUIRED = _("Kies of u een klacht of een verbetersuggestie doorgeeft.")
NAME_REQUIRED = _("Vul uw naam in.")
EMAIL_INVALID = _("Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl.")
PHONE_INVALID = _("Vul een geldig telefoonnummer in, zoals 0517 123456 of +31 517 123456.")
HINT_INVALID = _("Kies een onderwerp uit de lijst, of 'Weet ik niet'.")
DESCRIPTION_TOO_LONG = _("Uw beschrijving is te lang: ten hoogste %(limit_value)d tekens (nu %(show_value)d).")
RATE_LIMITED = _(
    "Vanaf deze computer of dit e-mailadres zijn in het afgelopen uur al veel meldingen verstuurd. Uw melding is nog niet verstuurd; "
    "wat u typte staat hieronder. Probeer het over een uur opnieuw, of bel ons op %(phone)s: dan nemen wij uw melding telefonisch op."
)
REQUEST_TOO_LARGE = _("Uw bestanden zijn samen te groot om te versturen. Stuur ten hoogste 5 bestanden van elk ten hoogste 10 MB mee.")
REGISTRATION_FAILED = _("Uw melding kon niet worden opgeslagen. Probeer het opnieuw.")


# --- the form ---------------------------------------------------------------------------------
# Every form page and every submission needs the charter's norms, and the charter changes a few times
# a year: each process keeps the list for a minute (``cms.kept``). A save of a norm empties it in the
# process that saved it (``forget_hint_choices``); a submission naming a norm this process does not know
# yet reads the charter again, so a norm published elsewhere is accepted at once.
HINT_CHOICES = "webform.hint_choices"


def hint_choices(*, fresh: bool = False) -> list:
    """'Waar gaat het over?': per channel of the published active norms, the channel itself and its norms."""
    return kept(HINT_CHOICES, _read_hint_choices, fresh=fresh)


def _read_hint_choices() -> list:
    choices: list = [("", _("Weet ik niet / sla over"))]
    norms = ServiceNorm.objects.published_active().order_by("sort_order", "code")
    by_channel: dict[str, list[ServiceNorm]] = {}
    for norm in norms:
        by_channel.setdefault(norm.channel, []).append(norm)
    for value, label in Channel.choices:
        if value not in by_channel:
            continue
        options = [(f"kanaal:{value}", format_lazy(_("{channel} in het algemeen"), channel=label))]
        # Cut between words: a screen reader reads "de juiste persoon o…" aloud as a broken word.
        options += [(f"norm:{norm.code}", textwrap.shorten(norm.promise, width=110, placeholder=" …")) for norm in by_channel[value]]
        choices.append((label, options))
    return choices


def forget_hint_choices(**kwargs) -> None:
    """A norm was saved (published, revised, retired): the next form reads the charter again."""
    forget(HINT_CHOICES)


class ComplaintForm(forms.Form):
    """The public form. ``clean()`` returns the data ``webform_register`` needs; the view handles spam checks."""

    kind = forms.ChoiceField(
        label=_("Wat wilt u doorgeven?"),
        choices=[(Kind.COMPLAINT, _("Een klacht")), (Kind.SUGGESTION, _("Een verbetersuggestie"))],
        widget=forms.RadioSelect,
        error_messages={"required": KIND_REQUIRED, "invalid_choice": KIND_REQUIRED},
    )
    description = TextBox(
        label=_("Beschrijf uw klacht of suggestie"),
        help_text=_("Wat is er gebeurd, wanneer en waar? Of: wat kan beter?"),
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": errors.EMPTY_TEXT, "max_length": DESCRIPTION_TOO_LONG},
    )
    hint = forms.ChoiceField(
        label=_("Waar gaat het over? (niet verplicht)"),
        help_text=_("Kies de belofte uit ons kwaliteitshandvest waar het om gaat, als u dat weet."),
        required=False,
        error_messages={"invalid_choice": HINT_INVALID},
    )
    name = forms.CharField(
        label=_("Uw naam"), max_length=200, error_messages={"required": NAME_REQUIRED}, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label=_("E-mailadres"),
        required=False,
        max_length=254,
        error_messages={"invalid": EMAIL_INVALID},
        help_text=_("Vul een e-mailadres of een postadres in, zodat wij u kunnen antwoorden."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    address = forms.CharField(
        label=_("Postadres (niet nodig als u een e-mailadres invult)"),
        help_text=_("Straat en huisnummer, postcode en plaats."),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )
    phone = forms.CharField(
        label=_("Telefoonnummer (niet verplicht)"),
        required=False,
        max_length=40,
        help_text=_("Dan kunnen wij u bellen als iets niet duidelijk is."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    attachments = MultipleFileField(
        label=_("Bijlagen (niet verplicht)"),
        required=False,
        help_text=_("Ten hoogste 5 bestanden van elk ten hoogste 10 MB: PDF, JPEG, PNG of Word (DOCX)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        hint = self.fields["hint"]
        hint.choices = hint_choices()
        if self.is_bound and not hint.valid_value(self.data.get("hint", "")):
            hint.choices = hint_choices(fresh=True)  # published since this process last read the charter
        self.fields["attachments"].widget.attrs["accept"] = ".pdf,.jpg,.jpeg,.png,.docx,application/pdf,image/jpeg,image/png"
        self._describe_fields()

    def _describe_fields(self) -> None:
        """Point every input at its hint and its error (aria-describedby), and mark invalid ones."""
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.RadioSelect | forms.HiddenInput):
                continue  # the radio group is described on its fieldset in the template
            attrs = field.widget.attrs
            described_by = [f"id_{name}_hint"] if field.help_text else []
            if self.is_bound and name in (self._errors or {}):
                described_by.append(f"id_{name}_error")
                attrs["aria-invalid"] = "true"
            if described_by:
                attrs["aria-describedby"] = " ".join(described_by)
            if field.required:
                attrs["aria-required"] = "true"

    def full_clean(self):
        super().full_clean()
        self._describe_fields()

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and (not PHONE_RE.match(phone) or sum(c.isdigit() for c in phone) < 6):
            raise ValidationError(PHONE_INVALID)
        return phone

    def clean_description(self) -> str:
        description = self.cleaned_data["description"].strip()
        if not description:
            raise ValidationError(errors.EMPTY_TEXT)
        return description

    def clean(self):
        cleaned = super().clean()
        if "email" in cleaned and "address" in cleaned and not cleaned["email"] and not cleaned["address"].strip():
            self.add_error("email", errors.NO_CONTACT)
        return cleaned

    def error_summary(self) -> list[tuple[str, str]]:
        """(anchor, message) for the summary at the top: each links to the field it is about."""
        summary = []
        for name, field_errors in self.errors.items():
            anchor = "" if name == "__all__" else (f"id_{name}_0" if name == "kind" else f"id_{name}")
            summary += [(anchor, message) for message in field_errors]
        return summary


# --- views ------------------------------------------------------------------------------------
TEMPLATE = "cases/intake/complaint_form.html"


def _form_page(request, form: ComplaintForm, *, status: int = 200, page_errors: list[str] = (), files_again: bool = False):
    files_note = files_again_note(form) if files_again else ""
    context = {"form": form, "page_errors": [str(e) for e in page_errors], "files_note": files_note, "terms": charter_terms()}
    response = render(request, TEMPLATE, context, status=status)
    response["X-Robots-Tag"] = "noindex"
    return response


class SkipFiles(FileUploadHandler):
    """Reads a multipart body's text fields and skips every file: a body over the limit still gives
    back what the citizen typed, and nothing of its files is kept in memory or on disk."""

    def new_file(self, *args, **kwargs):
        raise SkipFile

    def receive_data_chunk(self, raw_data, start):  # never called for a skipped file
        return None

    def file_complete(self, file_size):
        return None


def _typed_without_files(request) -> ComplaintForm:
    """What the citizen typed, from a body too large to take (its files skipped unread: ``SkipFiles``)."""
    try:
        return ComplaintForm(request.POST)
    except Exception:  # a body that is not what its headers say (cut off, lying about its length): an empty form
        logger.info("web form: the refused body could not be read back")
        return ComplaintForm()


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@csrf_exempt  # checked below (csrf_protect), after a body too large has its files set to be skipped
@require_http_methods(["GET", "POST"])
@never_cache
def complaint_form(request):
    """The form (GET) and its submission (POST, redirected to the thank-you page)."""
    if request.method == "POST" and _content_length(request) > MAX_REQUEST_BYTES:
        # Before the CSRF check reads the body: Django's pattern for changing a request's upload handlers.
        request.upload_handlers = [SkipFiles(request)]
        return _too_large(request)
    return _complaint_form(request)


@csrf_protect
def _too_large(request):
    logger.warning("web form refused: body of %s bytes", request.META.get("CONTENT_LENGTH"))
    return _form_page(request, _typed_without_files(request), status=413, page_errors=[REQUEST_TOO_LARGE], files_again=True)


@csrf_protect
def _complaint_form(request):
    if request.method == "GET":
        return _form_page(request, ComplaintForm())
    ip = client_ip(request)
    if request.POST.get(HONEYPOT_FIELD, "").strip():
        logger.warning("web form: honeypot filled; nothing registered")
        rate_reserve(ip)
        return render(request, "cases/intake/received_neutral.html")
    form = ComplaintForm(request.POST, request.FILES)
    if not form.is_valid():
        logger.info("web form returned with errors in %s", ", ".join(sorted(form.errors)))
        return _form_page(request, form, files_again=bool(request.FILES) and "attachments" not in form.errors)
    data = form.cleaned_data
    submission = submission_hash(kind=data["kind"], description=data["description"], sender=_sender(data))
    reserved = rate_reserve(ip, data["email"], submission=submission)
    if reserved is None:
        return _rate_limited_page(request)
    return _register(request, form, reserved)


def _rate_limited_page(request):
    logger.warning("web form refused: rate limit reached")
    form = ComplaintForm(request.POST)  # not validated again: only to show back what was typed
    phone = MunicipalitySettings.current().phone
    response = _form_page(request, form, status=429, page_errors=[RATE_LIMITED % {"phone": phone or "ons algemene nummer"}])
    response["Retry-After"] = str(settings.HANDVEST_FORM_RATE_WINDOW)
    return response


def _sender(data: dict) -> Sender:
    return Sender(name=data["name"], email=data["email"], phone=data["phone"], address=data["address"].strip())


def _register(request, form: ComplaintForm, reserved: list[str]):
    data = form.cleaned_data
    sender = _sender(data)
    try:
        submission, created = submission_store(
            kind=data["kind"], description=data["description"], sender=sender, hint=data["hint"], uploads=data["attachments"]
        )
    except ValidationError as exc:
        rate_release(reserved)
        logger.warning("web form: registration refused: %s", exc)
        return _form_page(request, form, page_errors=[REGISTRATION_FAILED], files_again=bool(request.FILES))
    pk = str(submission.pk)
    state = pk
    if created:
        logger.info("web form stored as %s", submission.number)
    else:
        logger.info("web form submitted twice; kept %s", submission.number)
        rate_release(reserved)  # the same form again (a double click, Back and send): not a second submission
        # The private link is shown once: only to the browser that still holds it unseen, never because
        # the same words were sent again (the next person at the computer, or someone at the same address).
        state = pk if thanks_state(request) == pk else f"{pk}:shown"
    response = redirect("intake:complaint_thanks")
    thanks_cookie(response, state)
    return response


app_name = "intake"
urlpatterns = [
    path("melding/", complaint_form, name="complaint_form"),
    path("melding/ontvangen/", complaint_thanks, name="complaint_thanks"),
]
