"""The officers' decisions and the tagger's suggestions on a case: storing the suggested norms with
their calibrated scores and reasons, the uncertain ones (among the best-scored, not suggested: "onzeker") for the
officer to consider, confirming and rejecting, and the decided cases as training data.

Nothing here imports the tagger (``nlp.core``): the web process confirms and rejects tags, and it
never loads spaCy (issue 20).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from cases import errors
from cases.errors import CaseConflict
from cases.models import Case, CaseEvent, CaseNorm, EventKind, Kind, TagSource, TagStatus
from cases.permissions import HANDLE_CASE, require
from cases.workflow.transitions import locked_case
from cms.models import ServiceNorm

logger = logging.getLogger(__name__)


def _norm(code: str) -> ServiceNorm:
    norm = ServiceNorm.objects.filter(code=code).first()
    if norm is None:
        logger.warning("unknown norm code %r", code)
        raise ValidationError({"norm": errors.UNKNOWN_NORM % {"code": code}})
    return norm


def tags_store_suggestions(
    *,
    case_id: int,
    scores: Mapping[str, float],
    suggested: Iterable[str],
    model_version: str,
    explanations: Mapping[str, list[str]] | None = None,
    replace: bool = False,
    uncertain: Iterable[str] = (),
) -> list[CaseNorm]:
    """Store the tagger's suggested norms of a case (idempotent: officer decisions are never overwritten).

    With ``replace`` the tagger's open suggestions that it no longer makes are removed (the case's
    text was corrected); confirmed, rejected and officer-added tags stay. ``uncertain`` norms
    (among the best-scored, but not suggested by the tagger's decision) are no tags: they are recorded with their
    calibrated score on the "suggested" event, and ``tag_candidates`` offers them to the officer.
    """
    explanations = explanations or {}
    suggested = list(suggested)
    uncertain = [code for code in uncertain if code not in suggested]
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        if replace:
            _withdraw_stale(case, keep=suggested, model_version=model_version)
        # Only the promises in force: a model trained before a norm was retired, or before a newer charter version
        # left it out, still knows it, but a case that arrives now cannot concern it.
        in_force = ServiceNorm.objects.published_active()
        norms = {n.code: n for n in in_force.filter(code__in=suggested)}
        if uncertain:
            held = set(in_force.filter(code__in=uncertain).values_list("code", flat=True))
            uncertain = [code for code in uncertain if code in held]
        stored = []
        for code in suggested:
            if code not in norms:
                logger.warning("tagger suggested norm %s for %s, which is not in force (unknown or retired); ignored", code, case)
                continue
            fields = {"score": scores.get(code), "model_version": model_version, "explanation": explanations.get(code, [])}
            tag, created = CaseNorm.objects.get_or_create(case=case, norm=norms[code], defaults=fields)
            if not created and tag.status == TagStatus.SUGGESTED and tag.source == TagSource.TAGGER:
                tag.score, tag.model_version, tag.explanation = fields["score"], fields["model_version"], fields["explanation"]
                tag.save(update_fields=["score", "model_version", "explanation"])
            stored.append(tag)
        candidates = [{"code": code, "score": scores.get(code), "explanation": list(explanations.get(code, []))} for code in uncertain]
        # A re-tagging that finds nothing says so too: the latest event is what the officer is offered (``tag_candidates``).
        if stored or candidates or replace:
            note = _suggested_note(stored, candidates) or str(NOTHING_NOTE)
            CaseEvent.objects.create(case=case, kind=EventKind.TAG, name="suggested", note=note, data={"model_version": model_version, "uncertain": candidates})
    return stored


def _withdraw_stale(case: Case, *, keep: list[str], model_version: str) -> None:
    """Remove the tagger's open suggestions it no longer makes, with a "withdrawn" event."""
    stale = CaseNorm.objects.filter(case=case, status=TagStatus.SUGGESTED, source=TagSource.TAGGER).exclude(norm__code__in=keep)
    dropped = sorted(stale.values_list("norm__code", flat=True))
    if dropped:
        stale.delete()
        CaseEvent.objects.create(case=case, kind=EventKind.TAG, name="withdrawn", note=", ".join(dropped), data={"model_version": model_version})


def _suggested_note(stored: list[CaseNorm], candidates: list[dict]) -> str:
    """The timeline's note: the suggested tags with their scores, then the uncertain ones."""
    note = ", ".join(f"{t.norm.code} ({t.score:.2f})" if t.score is not None else t.norm.code for t in stored)
    if candidates:
        listed = ", ".join(f"{c['code']} ({c['score']:.2f})" if c["score"] is not None else c["code"] for c in candidates)
        note = "; ".join(part for part in (note, str(UNCERTAIN_NOTE) % {"codes": listed}) if part)
    return note


# How the uncertain suggestions are listed on the timeline's "suggested" event.
UNCERTAIN_NOTE = gettext_lazy("onzeker: %(codes)s")
NOTHING_NOTE = gettext_lazy("geen norm gevonden")


@dataclass(frozen=True)
class TagCandidate:
    """A norm the tagger ranked among its best for a case but did not suggest ("onzeker"):
    not a tag, one click (``tag_confirm``) from becoming one."""

    code: str
    promise: str
    score: float | None
    explanation: list[str]
    uncertain: bool = True


def tag_candidates(*, case_id: int) -> list[TagCandidate]:
    """The uncertain suggestions of the case's latest tagging that have no tag yet, best first.

    The workspace shows them under the tags, marked "onzeker" with their calibrated score.
    """
    event = CaseEvent.objects.filter(case_id=case_id, kind=EventKind.TAG, name="suggested").order_by("-at", "-pk").first()
    listed = (event.data or {}).get("uncertain", []) if event else []
    if not listed:
        return []
    tagged = set(CaseNorm.objects.filter(case_id=case_id).values_list("norm__code", flat=True))
    norms = {norm.code: norm for norm in ServiceNorm.objects.published_active().filter(code__in=[c["code"] for c in listed])}
    found = [
        TagCandidate(code=c["code"], promise=norms[c["code"]].promise, score=c.get("score"), explanation=list(c.get("explanation") or []))
        for c in listed
        if c["code"] in norms and c["code"] not in tagged
    ]
    return sorted(found, key=lambda c: -(c.score or 0.0))


def _decide(*, case_id: int, code: str, status: str, actor, expected_state: str | None = None, seen_status: str | None = None) -> CaseNorm:
    norm = _norm(code)
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    with transaction.atomic():
        case = locked_case(case_id, expected_state)
        # Confirming one of the tagger's uncertain suggestions keeps its score: the tagger proposed it.
        candidate = next((c for c in tag_candidates(case_id=case.pk) if c.code == code), None)
        defaults = {"source": TagSource.OFFICER}
        if candidate is not None:
            latest = CaseEvent.objects.filter(case=case, kind=EventKind.TAG, name="suggested").order_by("-at", "-pk").first()
            defaults = {
                "source": TagSource.TAGGER,
                "score": candidate.score,
                "explanation": candidate.explanation,
                "model_version": (latest.data or {}).get("model_version", "") if latest else "",
            }
        in_force = ServiceNorm.objects.published_active().filter(pk=norm.pk).exists()
        if status == TagStatus.CONFIRMED and not in_force and not CaseNorm.objects.filter(case=case, norm=norm).exists():
            # A norm no longer in force (retired, or left out of the charter version in force) is no new tag: it would
            # go into the training data and the figures as if it still held.
            logger.warning("case %s: confirming retired norm %s refused", case, code)
            raise ValidationError({"norm": errors.RETIRED_NORM % {"code": code}})
        tag, created = CaseNorm.objects.get_or_create(case=case, norm=norm, defaults=defaults)
        if not created and tag.status == status:
            return tag
        if not created and seen_status is not None and tag.status != seen_status:
            # A colleague decided this norm after the page was shown: the officer is told, not overruled in silence.
            logger.info("case %s: tag %s decided meanwhile (%s, the page showed %s)", case, code, tag.status, seen_status)
            raise CaseConflict(errors.TAG_DECIDED_MEANWHILE % {"code": code, "status": tag.get_status_display()})
        tag.status = status
        tag.decided_by = actor
        tag.decided_at = timezone.now()
        tag.save(update_fields=["status", "decided_by", "decided_at"])
        CaseEvent.objects.create(case=case, actor=actor, kind=EventKind.TAG, name=status, note=code)
    return tag


def tag_confirm(*, case_id: int, code: str, actor, expected_state: str | None = None, seen_status: str | None = None) -> CaseNorm:
    """The officer confirms a norm (a suggested one, or one they add); ``seen_status``: the tag's status the page showed."""
    return _decide(case_id=case_id, code=code, status=TagStatus.CONFIRMED, actor=actor, expected_state=expected_state, seen_status=seen_status)


def tag_reject(*, case_id: int, code: str, actor, expected_state: str | None = None, seen_status: str | None = None) -> CaseNorm:
    """The officer rejects a suggested norm; kept as a negative training example."""
    return _decide(case_id=case_id, code=code, status=TagStatus.REJECTED, actor=actor, expected_state=expected_state, seen_status=seen_status)


def training_examples() -> list[dict]:
    """Officer-decided cases in the corpus format: {"text", "kind", "norms"} (confirmed norms only).

    A case counts once any of its tags was decided by an officer; its text is the registration's.
    """
    decided = CaseNorm.objects.exclude(status=TagStatus.SUGGESTED).values_list("case_id", flat=True).distinct()
    examples = []
    for case in Case.objects.filter(pk__in=decided).select_related("registration").prefetch_related("norm_tags__norm"):
        text = "\n".join(part for part in (case.registration.subject, case.registration.text) if part).strip()
        if not text:
            continue
        norms = sorted(t.norm.code for t in case.norm_tags.all() if t.status == TagStatus.CONFIRMED)
        examples.append({"text": text, "kind": case.kind if case.kind in (Kind.COMPLAINT, Kind.SUGGESTION) else Kind.OTHER, "norms": norms})
    return examples
