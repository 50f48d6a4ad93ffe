"""What the officer typed in a refused form on the case page, kept for the page it goes back to.

A refused action goes back to the case page (a redirect, so a reload posts nothing twice); what was
typed in its form comes with it, through the session, so a long reason or report is not lost.
"""

from __future__ import annotations

DRAFT_SESSION_KEY = "handvest_case_draft"
# Per action (of the case page's actions and of its conversation's; their names do not overlap), where its form
# is in the case page's context: a dotted path, and for a step the list of step forms, of which the draft's
# step ("name") is the one.
DRAFT_FORMS = {
    "transition": ("transition_forms", "other_endings"),
    "extend": ("extend_form",),
    "waive_hearing": ("waive_form",),
    "hearing_report": ("hearing_report_form",),
    "note": ("note_form",),
    "callback": ("callback_form",),
    "merge": ("merge_form",),
    "ask": ("conversation.ask_form",),
    "record": ("conversation.record_form",),
    "consent_request": ("conversation.consent_form",),
    "consent_record": ("conversation.consent_record_form",),
    "reopen": ("conversation.reopen_form",),
    "ombudsman": ("conversation.ombudsman_form",),
    "findings": ("conversation.findings_form",),
}


def draft_keep(request, *, case_id: int, action: str) -> None:
    if action in DRAFT_FORMS:
        data = {key: value for key, value in request.POST.items() if key not in ("csrfmiddlewaretoken", "expected_state", "seen", "seen_officer")}
        request.session[DRAFT_SESSION_KEY] = {"case": case_id, "action": action, "data": data}


def _draft_form(context: dict, place: str, data: dict):
    """The form at ``place`` in the page's context, or None when the page no longer offers it."""
    found = context
    for key in place.split("."):
        found = found.get(key) if isinstance(found, dict) else None
    if isinstance(found, list):
        return next((form for form in found if getattr(form, "transition", None) == data.get("name")), None)
    return found


def draft_restore(request, *, case_id: int, context: dict) -> None:
    """Fill the form the refused action came from with what was typed (once; the state is the current one)."""
    draft = request.session.get(DRAFT_SESSION_KEY)
    if not draft or draft.get("case") != case_id:
        return  # another case's page: the draft waits for its own
    del request.session[DRAFT_SESSION_KEY]
    data = draft.get("data", {})
    for place in DRAFT_FORMS.get(draft.get("action"), ()):
        form = _draft_form(context, place, data)
        if form is not None:
            form.initial = {**form.initial, **data}
            return
