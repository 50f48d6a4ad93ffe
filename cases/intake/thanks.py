"""The thank-you page after the web form (the PRG target), and the signed cookie it is found by.

The page finds its submission (``cases.intake.web_submissions``) in a signed cookie, not the session:
a submission then costs no session row (one statement) and the citizen's browser holds only a signed
id. Its number, link and terms are the submission's, registered by the worker or not yet. It lasts until
the browser closes and at most two hours (the signature's age). The private link and the e-mail address
are shown on the first view only: on a shared computer the next person who opens the page finds the
number and the date, not the way into someone's complaint (the acknowledgement repeats number and link).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core import signing
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cases.models import Kind, WebSubmission
from cases.workflow.deadlines import case_deadlines

THANKS_COOKIE = "handvest_thanks"
# ".submission": a cookie of a release before, holding a registration's id, is not read as a submission's.
THANKS_SALT = "handvest.intake.thanks.submission"
THANKS_MAX_AGE = datetime.timedelta(hours=2)


def thanks_state(request) -> str | None:
    """The thank-you cookie's value ("<pk>" not yet shown, "<pk>:shown"), or None when there is none or it is forged or old."""
    try:
        return request.get_signed_cookie(THANKS_COOKIE, salt=THANKS_SALT, max_age=THANKS_MAX_AGE)
    except (KeyError, signing.BadSignature):
        return None


def thanks_cookie(response, value: str) -> None:
    # The form's path and below: the form's post sees whether this browser was shown the link already.
    response.set_signed_cookie(
        THANKS_COOKIE, value, salt=THANKS_SALT, path=reverse("intake:complaint_form"), secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax"
    )


@require_GET
@never_cache
def complaint_thanks(request):
    """After sending: the registration number, the date of receipt and the private link (PRG target)."""
    try:
        pk, _, shown = (thanks_state(request) or "").partition(":")
        submission = WebSubmission.objects.select_related("registration__case").get(pk=int(pk))
    except (ValueError, WebSubmission.DoesNotExist):
        return redirect("intake:complaint_form")  # none, forged, older than THANKS_MAX_AGE, or wiped
    context = {"received": _received(submission), "first_view": not shown}
    if not shown:
        context["private_path"] = private_path = reverse("cases:case_status", kwargs={"token": context["received"]["token"]})
        context["private_link"] = settings.BASE_URL.rstrip("/") + private_path
    response = render(request, "cases/intake/thanks.html", context)
    if not shown:  # from now on the page shows number and date only (for two hours at most)
        thanks_cookie(response, f"{submission.pk}:shown")
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _received(submission: WebSubmission) -> dict:
    """What the page says of a submission: from its case once the worker registered it, from what it holds before."""
    registration = submission.registration
    if registration is not None:
        # Its number is the submission's, unless the same words were registered before; a link renewed since is the one that works.
        case = getattr(registration, "case", None)
        number, received_on, email = registration.number, registration.received_on, registration.sender_email
        terms = {"acknowledgement_due": case.acknowledgement_due, "answer_due": case.answer_due} if case else case_deadlines(received_on=received_on)
        token = case.public_token if case else submission.token
    else:
        number, received_on, email = submission.number, timezone.localdate(submission.received_at), submission.payload["sender"]["email"]
        terms, token = case_deadlines(received_on=received_on), submission.token
    kind = Kind(submission.kind)
    return {"number": number, "received_on": received_on, "kind": kind.value, "kind_label": kind.label, "email": email, "token": token, **terms}
