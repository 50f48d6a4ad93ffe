"""Norm tags on cases: the tagger's suggestions, and the officer's confirmations and corrections.

Confirmed and rejected tags are training data for the next tagger (``training_examples``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cases import errors
from cases.models import Case, CaseEvent, CaseNorm, EventKind, Kind, TagSource, TagStatus
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
) -> list[CaseNorm]:
    """Store the tagger's suggested norms of a case (idempotent: officer decisions are never overwritten).

    With ``replace`` the tagger's open suggestions that it no longer makes are removed (the case's
    text was corrected); confirmed, rejected and officer-added tags stay.
    """
    explanations = explanations or {}
    suggested = list(suggested)
    stored = []
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        if replace:
            stale = CaseNorm.objects.filter(case=case, status=TagStatus.SUGGESTED, source=TagSource.TAGGER).exclude(norm__code__in=suggested)
            dropped = sorted(stale.values_list("norm__code", flat=True))
            if dropped:
                stale.delete()
                CaseEvent.objects.create(case=case, kind=EventKind.TAG, name="withdrawn", note=", ".join(dropped), data={"model_version": model_version})
        norms = {n.code: n for n in ServiceNorm.objects.filter(code__in=list(suggested))}
        for code in suggested:
            norm = norms.get(code)
            if norm is None:
                logger.warning("tagger suggested unknown norm %s for %s; ignored", code, case)
                continue
            tag, created = CaseNorm.objects.get_or_create(
                case=case,
                norm=norm,
                defaults={"score": scores.get(code), "model_version": model_version, "explanation": explanations.get(code, [])},
            )
            if not created and tag.status == TagStatus.SUGGESTED and tag.source == TagSource.TAGGER:
                tag.score, tag.model_version, tag.explanation = scores.get(code), model_version, explanations.get(code, [])
                tag.save(update_fields=["score", "model_version", "explanation"])
            stored.append(tag)
        if stored:
            CaseEvent.objects.create(
                case=case,
                kind=EventKind.TAG,
                name="suggested",
                note=", ".join(f"{t.norm.code} ({t.score:.2f})" if t.score is not None else t.norm.code for t in stored),
                data={"model_version": model_version},
            )
    return stored


def _decide(*, case_id: int, code: str, status: str, actor) -> CaseNorm:
    norm = _norm(code)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        tag, created = CaseNorm.objects.get_or_create(case=case, norm=norm, defaults={"source": TagSource.OFFICER})
        if not created and tag.status == status:
            return tag
        tag.status = status
        tag.decided_by = actor
        tag.decided_at = timezone.now()
        tag.save(update_fields=["status", "decided_by", "decided_at"])
        CaseEvent.objects.create(case=case, actor=actor, kind=EventKind.TAG, name=status, note=code)
    return tag


def tag_confirm(*, case_id: int, code: str, actor) -> CaseNorm:
    """The officer confirms a norm (a suggested one, or one they add)."""
    return _decide(case_id=case_id, code=code, status=TagStatus.CONFIRMED, actor=actor)


def tag_reject(*, case_id: int, code: str, actor) -> CaseNorm:
    """The officer rejects a suggested norm; kept as a negative training example."""
    return _decide(case_id=case_id, code=code, status=TagStatus.REJECTED, actor=actor)


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
