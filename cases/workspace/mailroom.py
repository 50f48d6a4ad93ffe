"""The mailroom (*postkamer*) in the Wagtail admin: register a scanned letter, print the PDF letters.

The charter promises that all incoming post is registered the same working day
(POST-REGISTRATIE). The mailroom uploads the scan; ``letter_register`` reads its text (text layer
or OCR) and registers it once. The next page shows that text to check against the paper; with
``cases.correct_letter_text`` the mailroom corrects it there while the case is as registered,
the quality officers at any time.

Letters to citizens without an e-mail address are PDF letters; they wait in the print queue
until the mailroom has printed and posted them, and marks them so.
"""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.correspondence.post import IN_THE_MAILROOM, NOTHING_CHOSEN, letters_mark_posted, outgoing_mark_printed
from cases.intake.forms import LetterForm, LetterTextForm
from cases.intake.letters import (
    LETTER_CORRECT_NO_PERMISSION,
    LETTER_CORRECT_TOO_LATE,
    letter_correct_text,
    letter_may_correct,
    letter_scans,
)
from cases.models import UNPROCESSED_OUTCOMES, InboundMessage, IntakeChannel, OutboxStatus, OutgoingMessage, Registration
from cases.permissions import CORRECT_LETTER_TEXT
from cases.records.read_log import record_read
from cases.workflow.transitions import seen_fingerprint
from cases.workspace.actions import run_action
from cases.workspace.files import private_file_response
from cases.workspace.roles import forbidden, uses_mailroom

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
DONE_REGISTERED = _("Brief geregistreerd als %(number)s. Controleer hieronder de tekst.")
ALREADY_REGISTERED = _("Deze scan is al geregistreerd als %(number)s; er is niets veranderd.")
DONE_CORRECTED = _("De tekst van %(number)s is opgeslagen.")
DONE_PRINTED = _("%(letter)s voor %(number)s staat als geprint. Zet hem op gepost zodra hij op de post is.")
DONE_POSTED_ONE = _("1 brief staat als gepost op %(date)s; de inwoner ziet hem nu op de eigen pagina.")
DONE_POSTED_MANY = _("%(count)s brieven staan als gepost op %(date)s; de inwoners zien ze nu op hun pagina.")
# A second clerk's queue may be older than the first clerk's click: say which letters went already.
ALREADY_POSTED = _("Al eerder op gepost gezet (door een collega?): %(numbers)s.")
WITHHELD = _("Niet meer versturen, uit de wachtrij gehaald (zaak al beantwoord of samengevoegd): %(numbers)s. Gooi deze brieven weg.")


def _crumbs(label):
    return [{"url": reverse("wagtailadmin_home"), "label": _("Start")}, {"url": "", "label": label}]


def _todays_letters():
    return Registration.objects.filter(channel=IntakeChannel.LETTER, registered_at__date=timezone.localdate()).order_by("-registered_at")[:20]


@require_http_methods(["GET", "POST"])
@uses_mailroom
def register_letter(request):
    """Brief registreren: upload the scan with sender and date of receipt."""
    form = LetterForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        result = form.register(actor=request.user) if form.is_valid() else None
        if result is not None:
            number = result.registration.number
            messages.success(request, (DONE_REGISTERED if result.created else ALREADY_REGISTERED) % {"number": number})
            if result.extracted is not None and result.extracted.problem:
                messages.warning(request, result.extracted.problem)
            return redirect("handvest_mailroom:letter", result.registration.pk)
        logger.info("letter form returned with errors in %s", ", ".join(sorted(form.errors)))
    return render(
        request,
        "cases/admin/workspace/mailroom_register.html",
        {
            "header_title": _("Brief registreren"),
            "header_icon": "mail",
            "breadcrumbs_items": _crumbs(_("Brief registreren")),
            "form": form,
            "today": _todays_letters(),
        },
    )


def _letter_or_404(pk: int) -> Registration:
    return get_object_or_404(Registration.objects.select_related("case"), pk=pk, channel=IntakeChannel.LETTER)


def _text_form(registration: Registration, data=None) -> LetterTextForm:
    return LetterTextForm(data, initial={"text": registration.text, "seen": seen_fingerprint(registration.text)})


@require_http_methods(["GET", "POST"])
@uses_mailroom
def letter_check(request, pk: int):
    """The registered letter with the text read from the scan, to check and correct: the mailroom
    while the case is still as registered, officers always."""
    registration = _letter_or_404(pk)
    form = _text_form(registration, request.POST or None) if letter_may_correct(registration, request.user) else None
    unsaved, status = "", 200
    if request.method == "POST":
        if form is None:
            logger.warning("letter text correction of %s refused for %s", registration.number, request.user.get_username())
            if not request.user.has_perm(CORRECT_LETTER_TEXT):
                return forbidden(request, "", message=LETTER_CORRECT_NO_PERMISSION)
            # Handling began while the clerk typed: say so on the letter's page and hand back what was typed, to pass on.
            messages.error(request, LETTER_CORRECT_TOO_LATE % {"number": registration.number})
            unsaved, status = request.POST.get("text", ""), 403
        elif form.is_valid():

            def correct() -> str:
                seen = form.cleaned_data["seen"] or None  # a page without it (an old tab) is not refused for that
                letter_correct_text(registration_id=registration.pk, text=form.cleaned_data["text"], actor=request.user, seen=seen)
                return DONE_CORRECTED % {"number": registration.number}

            if run_action(request, correct, what=f"letter text correction of {registration.number}"):
                return redirect("handvest_mailroom:letter", registration.pk)
            registration.refresh_from_db(fields=["text"])
            if form.cleaned_data["seen"] and form.cleaned_data["seen"] != seen_fingerprint(registration.text):
                # A colleague corrected it meanwhile: the form shows their text, and what was typed here stands beside it.
                unsaved, status, form = form.cleaned_data["text"], 409, _text_form(registration)
    scans = letter_scans().filter(registration=registration).order_by("pk")
    record_read(request, registration, registration, activity="postregistratie")
    return render(
        request,
        "cases/admin/workspace/mailroom_letter.html",
        {
            "header_title": registration.number,
            "header_icon": "mail",
            "breadcrumbs_items": [
                {"url": reverse("wagtailadmin_home"), "label": _("Start")},
                {"url": reverse("handvest_mailroom:register"), "label": _("Brief registreren")},
                {"url": "", "label": registration.number},
            ],
            "registration": registration,
            "scans": scans,
            "form": form,
            "too_late": form is None and request.user.has_perm(CORRECT_LETTER_TEXT),
            "unsaved": unsaved,
            "case": getattr(registration, "case", None),
        },
        status=status,
    )


@require_GET
@uses_mailroom
def letter_scan(request, pk: int):
    """The scan of a letter, for the mailroom that registered it."""
    attachment = get_object_or_404(letter_scans().select_related("registration"), pk=pk)
    logger.info("letter scan %s opened by %s", attachment.pk, request.user.get_username())
    record_read(request, attachment, attachment.registration, activity="postregistratie")
    return private_file_response(attachment.file, filename=attachment.filename, content_type=attachment.content_type, inline=True)


class PostedForm(forms.Form):
    """The letters of a batch that went in the post, and the day they did."""

    # Any letter, not only those still in the mailroom: one posted meanwhile is named, not refused as an unknown id.
    letters = forms.ModelMultipleChoiceField(queryset=OutgoingMessage.objects.select_related("case__registration"), required=False)
    posted_on = forms.DateField(label=_("Gepost op"), input_formats=["%Y-%m-%d", "%d-%m-%Y"])


@require_GET
@uses_mailroom
def print_queue(request):
    """Printwachtrij: PDF letters to print and to post, oldest first; and the ones posted today."""
    waiting = OutgoingMessage.objects.filter(status__in=IN_THE_MAILROOM).select_related("case__registration").order_by("created_at", "pk")
    page = Paginator(waiting, PAGE_SIZE).get_page(request.GET.get("p"))
    posted = OutgoingMessage.objects.filter(status=OutboxStatus.POSTED, posted_at__date=timezone.localdate())
    posted_today = posted.select_related("case__registration").order_by("-posted_at")
    return render(
        request,
        "cases/admin/workspace/print_queue.html",
        {
            "header_title": _("Printwachtrij"),
            "header_icon": "doc-full-inverse",
            "breadcrumbs_items": _crumbs(_("Printwachtrij")),
            "page_obj": page,
            "posted_today": posted_today,
            "today": timezone.localdate(),
        },
    )


@require_POST
@uses_mailroom
def mark_printed(request, pk: int):
    """The letter was printed; it waits to be posted."""
    letter = get_object_or_404(OutgoingMessage.objects.select_related("case__registration"), pk=pk)
    run_action(request, lambda: _mark_printed(letter, request.user), what=f"mark printed of letter {letter.pk}")
    return redirect("handvest_mailroom:print_queue")


def _mark_printed(letter: OutgoingMessage, actor) -> str:
    outgoing_mark_printed(outgoing_id=letter.pk, actor=actor)
    return DONE_PRINTED % {"letter": letter.get_kind_display().capitalize(), "number": letter.case.registration.number}


@require_POST
@uses_mailroom
def mark_posted(request):
    """A batch of printed letters went in the post on the given day: now they have left."""
    form = PostedForm(request.POST)

    def post() -> str:
        if not form.is_valid():
            raise ValidationError(form.errors.get("posted_on") or form.errors.get("letters") or NOTHING_CHOSEN)
        chosen = [letter.pk for letter in form.cleaned_data["letters"]]
        # Which were posted already is decided under the lock: two clerks' overlapping batches both go through.
        posting = letters_mark_posted(outgoing_ids=chosen, posted_on=form.cleaned_data["posted_on"], actor=request.user)
        gone = ", ".join(sorted(letter.case.registration.number for letter in posting.already))
        withheld = ", ".join(sorted(letter.case.registration.number for letter in posting.withheld))
        kept_home = f" {WITHHELD % {'numbers': withheld}}" if withheld else ""
        letters = posting.posted
        if not letters:  # all posted by a colleague meanwhile, or no longer to go
            raise ValidationError(f"{ALREADY_POSTED % {'numbers': gone}}{kept_home}".strip() if gone else kept_home.strip())
        date = f"{form.cleaned_data['posted_on']:%d-%m-%Y}"
        done = DONE_POSTED_ONE % {"date": date} if len(letters) == 1 else DONE_POSTED_MANY % {"count": len(letters), "date": date}
        return (f"{done} {ALREADY_POSTED % {'numbers': gone}}" if gone else str(done)) + kept_home

    run_action(request, post, what="mark posted of a batch of letters")
    return redirect("handvest_mailroom:print_queue")


@require_GET
@uses_mailroom
def quarantine(request):
    """Quarantaine: e-mail that came in but could not be processed safely, newest first, with the original."""
    waiting = InboundMessage.objects.filter(outcome__in=UNPROCESSED_OUTCOMES, handled=False).order_by("-received_at", "-pk")
    page = Paginator(waiting, PAGE_SIZE).get_page(request.GET.get("p"))
    return render(
        request,
        "cases/admin/workspace/quarantine.html",
        {"header_title": _("Quarantaine"), "header_icon": "warning", "breadcrumbs_items": _crumbs(_("Quarantaine")), "page_obj": page},
    )


@require_GET
@uses_mailroom
def quarantine_original(request, pk: int):
    """The original of a message in quarantine (.eml), for the mailroom; processed mail is the officers' only."""
    message = get_object_or_404(InboundMessage, pk=pk, outcome__in=UNPROCESSED_OUTCOMES, handled=False)
    logger.info("original of inbound message %s (in quarantine) downloaded by %s", message.pk, request.user.get_username())
    record_read(request, message, email=message.from_address, activity="postregistratie")
    return private_file_response(message.raw, filename=f"bericht-{message.pk}.eml", content_type="message/rfc822")


urlpatterns = [
    path("brief/", register_letter, name="register"),
    path("brief/<int:pk>/", letter_check, name="letter"),
    path("scan/<int:pk>/", letter_scan, name="scan"),
    path("printen/", print_queue, name="print_queue"),
    path("printen/<int:pk>/geprint/", mark_printed, name="mark_printed"),
    path("printen/gepost/", mark_posted, name="mark_posted"),
    path("quarantaine/", quarantine, name="quarantine"),
    path("quarantaine/<int:pk>/origineel/", quarantine_original, name="quarantine_original"),
]
