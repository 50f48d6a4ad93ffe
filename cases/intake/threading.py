"""What a message answers: one of our letters, an earlier mail of the same thread, or a case
named by its registration number in the subject. A case merged into another leads to that one.

A case whose personal data was destroyed or erased (``CaseRecord.wiped``) is answered by nothing: mail
that names it is a new matter, registered as one, so nothing personal is written back into a wiped case
where no destruction list or erasure would ever find it again."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cases.intake.parsing.rules import MailFacts
from cases.models import UNPROCESSED_OUTCOMES, Case, CaseRecord, InboundMessage, OutgoingMessage, Registration, TriageState
from cases.workflow.handling import follow_merges
from cases.workflow.registration import message_key

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThreadTarget:
    """The registration (and its case, when it has one) a message belongs to, and how that was found."""

    registration: Registration
    case: Case | None
    how: str


def outgoing_for(message_ids: list[str]) -> OutgoingMessage | None:
    """The letter we sent that one of these Message-IDs names (nearest first)."""
    if not message_ids:
        return None
    candidates = set(message_ids) | {mid.strip("<>") for mid in message_ids}
    found = {out.message_id: out for out in OutgoingMessage.objects.filter(message_id__in=candidates).select_related("case__registration")}
    for mid in message_ids:
        out = found.get(mid) or found.get(mid.strip("<>"))
        if out is not None:
            return out
    return None


def _target_of(registration: Registration, how: str) -> ThreadTarget:
    case = getattr(registration, "case", None)
    if case is None:
        return ThreadTarget(registration, None, how)
    case = follow_merges(case)
    return ThreadTarget(case.registration, case, how)


def _earlier_mail(ids: list[str]) -> InboundMessage | None:
    if not ids:
        return None
    return (
        InboundMessage.objects.filter(message_key__in=[message_key(mid) for mid in ids], registration__isnull=False)
        .exclude(outcome__in=UNPROCESSED_OUTCOMES)
        .select_related("registration")
        .order_by("-received_at")
        .first()
    )


def find_thread(facts: MailFacts) -> ThreadTarget | None:
    """What this message answers (In-Reply-To/References first, then a number in the subject), or None;
    None too for a case whose personal data is gone."""
    target = _thread_of(facts)
    if target is not None and target.case is not None and case_is_wiped(target.case):
        logger.info("mail names %s, whose personal data was destroyed or erased: a new matter", target.registration.number)
        return None
    if target is not None and target.case is None and target.registration.triage_state in (TriageState.FORWARDED, TriageState.DONE):
        # Other mail that was dealt with is nobody's list any more: a follow-up joining it would be read by nobody.
        logger.info("mail follows up %s, which triage dealt with: registered as new mail", target.registration.number)
        return None
    return target


def case_is_wiped(case: Case) -> bool:
    return CaseRecord.objects.filter(case=case).wiped().exists()


def _thread_of(facts: MailFacts) -> ThreadTarget | None:
    outgoing = outgoing_for(facts.thread_ids)
    if outgoing is not None:
        case = follow_merges(outgoing.case)
        return ThreadTarget(case.registration, case, f"antwoord op onze brief {outgoing.message_id}")
    earlier = _earlier_mail(facts.thread_ids)
    if earlier is not None:
        registration = earlier.registration
        case = getattr(registration, "case", None)
        return ThreadTarget(registration, follow_merges(case) if case else None, f"vervolg op e-mail {earlier.message_id}")
    by_number = {r.number: r for r in Registration.objects.filter(number__in=facts.registration_numbers)} if facts.registration_numbers else {}
    for number in facts.registration_numbers:
        if number in by_number:
            return _target_of(by_number[number], f"registratienummer {number} in het onderwerp")
    return None
