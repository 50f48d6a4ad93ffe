"""Pages for citizens: the private page of their case."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cases.models import Case, CaseEvent, EventKind

DEADLINE_TEXT = {"acknowledgement": "Ontvangstbevestiging uiterlijk", "answer": "Antwoord uiterlijk"}


@require_GET
@never_cache
def case_status(request, token: str):
    """The citizen's private link. Unknown and revoked tokens get the same plain 404."""
    case = Case.objects.select_related("registration").filter(public_token=token, public_token_revoked=False).first()
    if case is None:
        raise Http404
    letters = CaseEvent.objects.filter(case=case, kind=EventKind.MESSAGE_OUT, internal=False).order_by("at")
    deadline = case.next_deadline()
    response = render(
        request,
        "cases/case_status.html",
        {
            "case": case,
            "registration": case.registration,
            "state_text": case.public_state_text(),
            "deadline": (DEADLINE_TEXT[deadline[0]], deadline[1]) if deadline else None,
            "letters": letters,
        },
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
