"""Training and activating a model: the charter's active norms as labels, the corpus and the
officers' decisions as training data, and the guard that activates a new model only when it is
not worse on the held-out files.

``nlp.core`` is imported inside the functions: it loads spaCy (and, to train, scikit-learn), and
this module is imported by every process that runs Django, the web process too (issue 20: the web
process stays lean; training runs on the worker and in ``manage.py train_tagger``).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

from cases.models import TaggerModel
from cases.tagging.suggestions import training_examples
from cms.models import ServiceNorm

if TYPE_CHECKING:
    from nlp.core.corpus import Message
    from nlp.core.tagger import Tagger

logger = logging.getLogger(__name__)

# A new model is activated only when it is not worse than the active one on these held-out scores.
GUARDED_SCORES = ("norm_micro_f1", "kind_accuracy", "real_norm_micro_f1")
TOLERANCE = 0.005
# The best score an active model reached on the same held-out files, carried from model to model: each weekly
# retrain may be up to TOLERANCE below the one before, but not step by step below the best (no drift).
REFERENCE = "reference"


def active_labels() -> dict[str, list[str]]:
    """The published, active norms of the charter with their keywords: the tagger's label set."""
    return {norm.code: norm.keyword_list for norm in ServiceNorm.objects.published_active().order_by("code")}


def training_paths() -> list[Path]:
    return sorted(Path(settings.HANDVEST_CORPUS_DIR).glob("train-*.jsonl"))


def heldout_path() -> Path:
    return Path(settings.HANDVEST_CORPUS_DIR) / "heldout.jsonl"


def real_heldout_paths() -> list[Path]:
    """The real-style held-out files (``heldout-real*.jsonl``), scored together: the files of several
    writers (nlp/corpus/README.md lists them and their sizes) guard a retrained model better than any one file."""
    return sorted(Path(settings.HANDVEST_CORPUS_DIR).glob("heldout-real*.jsonl"))


def officer_messages() -> list[Message]:
    """Officers' decisions as training messages: real citizens' text, so of the real style."""
    # Imported here, not at the top: nlp.core loads spaCy (module docstring).
    from nlp.core.corpus import Message

    return [Message(text=e["text"], kind=e["kind"], norms=tuple(e["norms"]), style="real") for e in training_examples()]


def heldout_scores(tagger: Tagger) -> dict:
    """The model's scores on the held-out files (``real_`` before those of the real-style ones together):
    the guard compares them, and ``TaggerModel.scores`` keeps them."""
    # Imported here, not at the top: nlp.core loads spaCy (module docstring).
    from nlp.core.corpus import read_jsonl
    from nlp.core.evaluate import evaluate

    kept = {}
    if heldout_path().exists():
        scores = evaluate(tagger, read_jsonl(heldout_path()))
        kept = {key: scores[key] for key in ("norm_micro_f1", "norm_macro_f1", "kind_accuracy", "exact_match", "recall_at_3", "per_norm") if key in scores}
    if real_paths := real_heldout_paths():
        real = evaluate(tagger, [message for path in real_paths for message in read_jsonl(path)])
        kept.update({f"real_{key}": real[key] for key in ("norm_micro_f1", "norm_macro_f1", "kind_accuracy", "exact_match", "recall_at_3") if key in real})
    kept[HELDOUT_FILES] = heldout_fingerprint()
    return kept


# Which held-out files the scores were taken on: a model is only compared with another on the same files.
HELDOUT_FILES = "heldout_files"


def heldout_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in ([heldout_path()] if heldout_path().exists() else []) + real_heldout_paths():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _rescore_active(excluding: str, fingerprint: str) -> None:
    """The active model scored again when the held-out files (``fingerprint``: of the new model's scores) changed since
    its scores were taken (an upgrade shipped a new one): else a retrain would be judged on harder files than the model
    it must beat."""
    current = TaggerModel.objects.filter(active=True).exclude(version=excluding).first()
    if current is None or current.scores.get(HELDOUT_FILES) == fingerprint:
        return
    # Imported here, not at the top: nlp.core loads spaCy (module docstring).
    from nlp.core.tagger import Tagger

    try:
        tagger = Tagger.load(current.path)
    except Exception:
        logger.warning("active tagger %s does not load; compared on its stored scores", current.version[:12], exc_info=True)
        return
    scores = {**current.scores, **heldout_scores(tagger)}
    TaggerModel.objects.filter(pk=current.pk).update(scores=scores)
    logger.info("active tagger %s scored again on the held-out files of now (%s)", current.version[:12], fingerprint)


class NoNormsToTag(RuntimeError):
    """There is no published, active norm: the tagger has no labels to learn."""


NO_NORMS = "No published, active norms to tag with: load a charter first (manage.py load_charter FILE)."


def tagger_train(*, force: bool = False, progress=None) -> tuple[TaggerModel, bool, str]:
    """Train (or reuse) a model on corpus + officer decisions, score it on the held-out split, and
    activate it unless it scores worse than the active one (``force`` activates anyway).

    Returns (model, activated, reason).
    """
    labels = active_labels()
    if not labels:
        raise NoNormsToTag(NO_NORMS)
    extra = officer_messages()
    # Imported here, not at the top: nlp.core loads spaCy (module docstring).
    from nlp.core.store import ensure_model, model_path

    tagger = ensure_model(settings.HANDVEST_MODEL_DIR, training_paths(), labels, extra_messages=extra, progress=progress)
    kept = heldout_scores(tagger)
    # What training could not learn (a norm of this charter without examples in the corpus): said, not hidden.
    kept["warnings"] = list(tagger.report.get("warnings", []))
    model, _ = TaggerModel.objects.update_or_create(
        version=tagger.version,
        defaults={
            "path": str(model_path(settings.HANDVEST_MODEL_DIR, tagger.version)),
            "scores": kept,
            "examples": int(tagger.report.get("messages", 0)),
            "officer_examples": len(extra),
        },
    )
    _rescore_active(excluding=model.version, fingerprint=kept[HELDOUT_FILES])
    return tagger_activate(model, force=force, officer_examples=len(extra))


def guard_reference(current: TaggerModel | None, model: TaggerModel) -> dict[str, float]:
    """What ``model`` must not fall below (by more than TOLERANCE), per guarded score: the active model's score, or the
    best an earlier active model reached when that was higher and scored on the same held-out files."""
    if current is None:
        return {}
    reference = {key: current.scores[key] for key in GUARDED_SCORES if key in current.scores}
    carried = current.scores.get(REFERENCE) or {}
    if carried.get(HELDOUT_FILES) is not None and carried.get(HELDOUT_FILES) == model.scores.get(HELDOUT_FILES) == current.scores.get(HELDOUT_FILES):
        reference = {key: max(value, carried.get(key, value)) for key, value in reference.items()}
    return reference


def tagger_activate(model: TaggerModel, *, force: bool = False, officer_examples: int = 0) -> tuple[TaggerModel, bool, str]:
    """Make ``model`` the one active tagger unless it scores worse than the active one (``force``: anyway).

    Every model row is locked first, so two trainings finishing at once decide one after the other, the
    second against the first's model (locking only the active row would not do: a row another training is
    deactivating no longer matches when its lock is released). ``one_active_tagger`` is the database's guard.
    """
    with transaction.atomic():
        models = list(TaggerModel.objects.select_for_update().order_by("pk").only("pk", "version", "active", "scores"))
        current = next((row for row in models if row.active and row.pk != model.pk), None)
        reference = guard_reference(current, model)
        worse = [key for key in GUARDED_SCORES if key in reference and key in model.scores and model.scores[key] < reference[key] - TOLERANCE]
        if worse and not force:
            worse_text = ", ".join(f"{key} ({model.scores.get(key, 0):.3f} < {reference[key]:.3f})" for key in worse)
            reason = "not activated: worse than the active model (or the best active before it) on " + worse_text
            logger.warning("tagger %s %s", model.version[:12], reason)
            return model, False, reason
        # Forced: a person chose this model, and it is the new reference; else the best so far is carried on.
        carried = {} if force else {key: max(value, model.scores.get(key, value)) for key, value in reference.items()}
        scores = {**model.scores, REFERENCE: {**carried, HELDOUT_FILES: model.scores.get(HELDOUT_FILES)}}
        TaggerModel.objects.filter(active=True).exclude(pk=model.pk).update(active=False)
        TaggerModel.objects.filter(pk=model.pk).update(active=True, scores=scores)
        model.scores = scores
    model.active = True
    logger.info("tagger %s active (%d officer examples)", model.version[:12], officer_examples)
    return model, True, "activated" if not worse else "activated (forced) although worse on " + ", ".join(worse)
