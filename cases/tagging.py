"""The bridge between the cases and the tagger (``nlp.core``, which knows no Django).

It feeds the tagger the charter's active norms (labels and keywords) and the officers'
decisions, records model versions and activates a new one only when it is not worse, tags a
case and stores the suggested norms with scores and reasons, and records what the officer
confirms or rejects. Confirmed and rejected tags are training data (``training_examples``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cases import dispatch, errors
from cases.models import Case, CaseEvent, CaseNorm, EventKind, Kind, TaggerModel, TagSource, TagStatus
from cases.permissions import HANDLE_CASE, require
from cases.workflow.transitions import locked_case
from cms.models import ServiceNorm
from nlp.core.corpus import Message, read_jsonl
from nlp.core.evaluate import evaluate
from nlp.core.store import ensure_model, model_path
from nlp.core.tagger import CODE_VERSION, Tagger

logger = logging.getLogger(__name__)


# --- officers' decisions and the tagger's suggestions ------------------------------------------
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


def _decide(*, case_id: int, code: str, status: str, actor, expected_state: str | None = None) -> CaseNorm:
    norm = _norm(code)
    require(actor, HANDLE_CASE, message=errors.NO_PERMISSION)
    with transaction.atomic():
        case = locked_case(case_id, expected_state)
        tag, created = CaseNorm.objects.get_or_create(case=case, norm=norm, defaults={"source": TagSource.OFFICER})
        if not created and tag.status == status:
            return tag
        tag.status = status
        tag.decided_by = actor
        tag.decided_at = timezone.now()
        tag.save(update_fields=["status", "decided_by", "decided_at"])
        CaseEvent.objects.create(case=case, actor=actor, kind=EventKind.TAG, name=status, note=code)
    return tag


def tag_confirm(*, case_id: int, code: str, actor, expected_state: str | None = None) -> CaseNorm:
    """The officer confirms a norm (a suggested one, or one they add)."""
    return _decide(case_id=case_id, code=code, status=TagStatus.CONFIRMED, actor=actor, expected_state=expected_state)


def tag_reject(*, case_id: int, code: str, actor, expected_state: str | None = None) -> CaseNorm:
    """The officer rejects a suggested norm; kept as a negative training example."""
    return _decide(case_id=case_id, code=code, status=TagStatus.REJECTED, actor=actor, expected_state=expected_state)


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


# --- the model ----------------------------------------------------------------------------------
# A new model is activated only when it is not worse than the active one on these held-out scores.
GUARDED_SCORES = ("norm_micro_f1", "kind_accuracy")
TOLERANCE = 0.005


def active_labels() -> dict[str, list[str]]:
    """The published, active norms of the charter with their keywords: the tagger's label set."""
    return {norm.code: norm.keyword_list for norm in ServiceNorm.objects.published_active().order_by("code")}


def training_paths() -> list[Path]:
    return sorted(Path(settings.HANDVEST_CORPUS_DIR).glob("train-*.jsonl"))


def heldout_path() -> Path:
    return Path(settings.HANDVEST_CORPUS_DIR) / "heldout.jsonl"


def officer_messages() -> list[Message]:
    return [Message(text=e["text"], kind=e["kind"], norms=tuple(e["norms"])) for e in training_examples()]


class NoNormsToTag(RuntimeError):
    """There is no published, active norm: the tagger has no labels to learn."""


NO_NORMS = "No published, active norms to tag with: load a charter first (manage.py load_charter FILE)."


@lru_cache(maxsize=2)
def _load(path: str) -> Tagger:
    return Tagger.load(path)


def tagger_train(*, force: bool = False, progress=None) -> tuple[TaggerModel, bool, str]:
    """Train (or reuse) a model on corpus + officer decisions, score it on the held-out split, and
    activate it unless it scores worse than the active one (``force`` activates anyway).

    Returns (model, activated, reason).
    """
    labels = active_labels()
    if not labels:
        raise NoNormsToTag(NO_NORMS)
    extra = officer_messages()
    tagger = ensure_model(settings.HANDVEST_MODEL_DIR, training_paths(), labels, extra_messages=extra, progress=progress)
    scores = evaluate(tagger, read_jsonl(heldout_path())) if heldout_path().exists() else {}
    model, _ = TaggerModel.objects.update_or_create(
        version=tagger.version,
        defaults={
            "path": str(model_path(settings.HANDVEST_MODEL_DIR, tagger.version)),
            "scores": {key: scores[key] for key in ("norm_micro_f1", "norm_macro_f1", "kind_accuracy", "exact_match", "per_norm") if key in scores},
            "examples": int(tagger.report.get("messages", 0)),
            "officer_examples": len(extra),
        },
    )
    current = TaggerModel.objects.filter(active=True).exclude(pk=model.pk).first()
    worse = [key for key in GUARDED_SCORES if current is not None and key in current.scores and model.scores.get(key, 0.0) < current.scores[key] - TOLERANCE]
    if worse and not force:
        reason = "not activated: worse than the active model on " + ", ".join(
            f"{key} ({model.scores.get(key, 0):.3f} < {current.scores[key]:.3f})" for key in worse
        )
        logger.warning("tagger %s %s", model.version[:12], reason)
        return model, False, reason
    with transaction.atomic():
        TaggerModel.objects.filter(active=True).exclude(pk=model.pk).update(active=False)
        model.active = True
        model.save(update_fields=["active"])
    logger.info("tagger %s active (%d officer examples)", model.version[:12], len(extra))
    return model, True, "activated" if not worse else "activated (forced) although worse on " + ", ".join(worse)


def tagger_active() -> Tagger:
    """The active tagger, trained and activated first when there is none (``make run`` does this up front)."""
    model = TaggerModel.objects.filter(active=True).first()
    if model is None or not Path(model.path).exists():
        model, _, _ = tagger_train(force=True)
    tagger = _load(model.path)
    if not tagger.is_current:
        # Trained by older feature code: its weights do not fit today's features, so it would
        # tag wrongly rather than fail. Train a current one (the cache makes this once).
        logger.warning("active tagger %s is of code version %s, not %s: training a current one", model.version[:12], tagger.code_version, CODE_VERSION)
        model, _, _ = tagger_train(force=True)
        tagger = _load(model.path)
    return tagger


def case_tag_later(*, case_id: int, replace: bool = False) -> None:
    """Have a Celery task tag the case after commit, when automatic tagging is on
    (``HANDVEST_TAG_ON_REGISTRATION``): for a new case, and again when its text was corrected."""
    if settings.HANDVEST_TAG_ON_REGISTRATION:
        dispatch.enqueue_on_commit(dispatch.TAG_CASE, case_id, replace=replace)


def case_tag(*, case_id: int, replace: bool = False) -> list:
    """Tag a case with the active tagger and store the suggested norms with scores and reasons;
    with ``replace`` (the text changed) earlier suggestions the tagger no longer makes are dropped."""
    case = Case.objects.select_related("registration").get(pk=case_id)
    text = "\n".join(part for part in (case.registration.subject, case.registration.text) if part)
    try:
        tagger = tagger_active()
    except NoNormsToTag:
        logger.warning("case %s not tagged: %s", case, NO_NORMS)
        return []
    result = tagger.tag(text, explain=True)
    return tags_store_suggestions(
        case_id=case.pk, scores=result.norm_scores, suggested=result.norms, model_version=result.version, explanations=result.explain, replace=replace
    )


def kind_classify(text: str) -> tuple[str, float]:
    """The tagger's kind (complaint / suggestion / other) and its score; used by the e-mail intake."""
    result = tagger_active().tag(text, explain=False)
    return result.kind, result.kind_scores.get(result.kind, 0.0)
