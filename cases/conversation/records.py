"""What the conversation keeps about a person, for the records capability (``cases.records``):
blanked with the rest of a case's personal data when the case is destroyed or erased
(``case_wiping``), and listed in a citizen's access export (``case_access_data``).

The rows stay, without their words: the figures (waiting time, satisfaction scores, reopen
requests, ombudsman cases) count them and never held a name or a text.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import formats

from cases.models import Case, CitizenQuestion, ConsentRequest, OmbudsmanReferral, ReopenRequest, SatisfactionSurvey


def conversation_wipe(case_ids: Iterable[int]) -> int:
    """Blank the questions, answers, reasons and findings of these cases; returns the rows touched."""
    ids = list(case_ids)
    return (
        CitizenQuestion.objects.filter(case_id__in=ids).update(text="", answer_text="")
        + ConsentRequest.objects.filter(case_id__in=ids).update(reason="", note="")
        + SatisfactionSurvey.objects.filter(case_id__in=ids).update(reason="")
        + ReopenRequest.objects.filter(case_id__in=ids).update(explanation="")
        + OmbudsmanReferral.objects.filter(case_id__in=ids).update(findings="", measures="")
    )


def _day(moment) -> str:
    return formats.date_format(moment, "j F Y") if moment else ""


def conversation_access(case: Case) -> list[dict]:
    """The sections of an access export (AVG art. 15) for what the conversation holds about this case, in Dutch."""
    sections = []
    questions = [
        f"{_day(question.asked_at)} vroegen wij: {question.text}"
        + (f" — uw antwoord ({_day(question.answered_at)}): {question.answer_text or '(bijlage)'}" if question.answered_at else " — nog niet beantwoord")
        for question in CitizenQuestion.objects.filter(case=case).order_by("asked_at", "pk")
    ]
    if questions:
        sections.append({"title": "Vragen aan u en uw antwoorden", "items": questions})
    consents = [
        f"{_day(request.requested_at)}: meer tijd gevraagd tot {_day(request.proposed_due)} ({request.get_status_display()}). {request.reason}".strip()
        for request in ConsentRequest.objects.filter(case=case).order_by("requested_at", "pk")
    ]
    if consents:
        sections.append({"title": "Verzoeken om uw toestemming voor meer tijd", "items": consents})
    survey = SatisfactionSurvey.objects.filter(case=case, answered_at__isnull=False).first()
    if survey is not None:
        sections.append({"title": "Uw oordeel over de afhandeling", "items": [f"{_day(survey.answered_at)}: {survey.score} van 5. {survey.reason}".strip()]})
    reopens = [
        f"{_day(request.created_at)}: verzoek om heropening ({request.get_status_display()}). {request.explanation}".strip()
        for request in ReopenRequest.objects.filter(case=case).order_by("created_at", "pk")
    ]
    if reopens:
        sections.append({"title": "Verzoeken om heropening", "items": reopens})
    referral = OmbudsmanReferral.objects.filter(case=case).first()
    if referral is not None:
        items = [f"{_day(referral.submitted_on)}: voorgelegd aan {referral.get_ombudsman_display()}."]
        items += [f"Bevindingen ({_day(referral.findings_on)}): {referral.findings}"] if referral.findings else []
        items += [f"Maatregelen van de gemeente: {referral.measures}"] if referral.measures else []
        sections.append({"title": "De ombudsman", "items": items})
    return sections
