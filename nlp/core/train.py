"""Train a tagger from annotated messages and a label set.

1. Norm codes that are not labels (a retired norm) are dropped from the messages; a message
   keeps its kind and its other norms.
2. Validation scores: with ``calibration_folds`` (the default, 5) the messages fall in that many
   parts by a hash of each text, and each part is scored by a pipeline trained on the other parts, so
   every training message has a score from a model that never saw it. Without (0), a validation part
   is carved out by a hash of each text and a pipeline trained on the rest scores it.
3. Those scores fit a calibration per norm (Platt scaling, real-style messages weighing more), then
   choose one threshold per norm on the calibrated scores, then fit the decision over each message's
   best-scored norms (``nlp.core.decision``), and give the report's validation scores.
4. The pipeline that tags is trained on all training messages (without ``calibration_folds``: only with
   ``refit_on_all``, else it is the one trained on the rest); the calibration is folded into its
   weights and the chosen thresholds are kept.

Only training needs scikit-learn; tagging (``nlp.core.tagger``) does not import it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import spacy
from spacy.language import Language
from spacy.training import Example

from .calibration import Calibration, fit_calibration
from .config import TaggerConfig
from .corpus import KINDS, Fold, Message, corpus_digest, label_counts, random_folds, restrict_to_labels, split_validation
from .decision import MIN_MESSAGES, fit_decision
from .labels import canonical_labels
from .linear import set_layer
from .metrics import choose_thresholds, kind_scores, norm_scores
from .pipeline import FEATURES_PIPE, GATE_LABEL, GATE_PIPE, KIND_PIPE, NORMS_PIPE, build_pipeline
from .tagger import CODE_VERSION, Tagger, TaggingRules, counted_as_other


@dataclass(frozen=True)
class TrainingProgress:
    """Passed to the progress callback after each classifier (kind, then one per norm) is fitted."""

    stage: str  # "validation" (training part only), "validation 2/5" (one of the calibration parts) or "final" (all training messages)
    step: int
    steps: int
    label: str
    # How many times this training fits the pipeline in all (``train`` counts them before the first): a bar
    # over the whole training has ``steps × rounds`` steps.
    rounds: int = 1


ProgressCallback = Callable[[TrainingProgress], None]


def model_version(messages: Sequence[Message], labels: Mapping[str, Sequence[str]], config: TaggerConfig | None = None) -> str:
    """A short hash of the corpus contents, the labels and their keywords, the configuration and
    the spaCy version: the same inputs always name the same model."""
    config = config or TaggerConfig()
    parts = {
        "corpus": corpus_digest(messages),
        "labels": canonical_labels(labels),
        "config": config.to_dict(),
        "spacy": spacy.__version__,
        "code": CODE_VERSION,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def train(
    messages: Sequence[Message],
    labels: Mapping[str, Sequence[str]],
    *,
    config: TaggerConfig | None = None,
    progress: ProgressCallback | None = None,
) -> Tagger:
    """Train a tagger; its ``report`` says what it was trained on and how it scored on validation."""
    started = time.perf_counter()
    config = config or TaggerConfig()
    labels = canonical_labels(labels)
    version = model_version(messages, labels, config)
    messages, dropped = restrict_to_labels(messages, labels)
    counts = label_counts(messages, labels)
    warnings = [f"{code}: {count} training messages (fewer than {config.min_examples})" for code, count in counts.items() if count < config.min_examples]
    if dropped:
        warnings.append(f"norm codes that are no label were dropped: {', '.join(f'{code} ({n}×)' for code, n in sorted(dropped.items()))}")

    fit_part, validation = split_validation(messages, config.validation_share)
    separate_validation = bool(validation and fit_part)
    if not separate_validation:
        fit_part, validation = list(messages), list(messages)
        warnings.append("too few messages for a validation split: thresholds were chosen on the training messages themselves")
    nlp = build_pipeline(labels, config)
    cross_fitted = config.calibration_folds >= 2 and separate_validation
    parts = _calibration_parts(messages, config.calibration_folds) if cross_fitted else []
    # Every fit of this training: one per calibration part and the model that tags; else one on the training part,
    # and the refit on all messages when a validation part was set apart.
    rounds = len(parts) + 1 if cross_fitted else (2 if config.refit_on_all and separate_validation else 1)
    if progress:
        progress = _counted(progress, rounds)
    if cross_fitted:
        validation, kind_probs, logits, gates = _cross_fitted_scores(parts, labels, config, progress)
        fit_part = list(messages)
        fit(nlp, messages, config, progress=progress, stage="final")
    else:
        fit(nlp, fit_part, config, progress=progress, stage="validation")
    if not nlp.get_pipe(FEATURES_PIPE).known_keys:
        warnings.append(f"no word or character n-gram occurs in {config.min_df} or more training messages: the model knows no features")
    codes = list(nlp.get_pipe(NORMS_PIPE).labels)
    kinds = list(nlp.get_pipe(KIND_PIPE).labels)
    if not cross_fitted:
        kind_probs, logits, gates = _probe(nlp).validation_scores([m.text for m in validation])
    gold = np.array([[code in m.norms for code in codes] for m in validation], dtype=bool)
    weights = np.array([config.calibration_real_weight if m.style == "real" else 1.0 for m in validation])
    calibration = fit_calibration(logits, gold, weights, prior=config.calibration_prior) if config.calibrate else Calibration.identity(len(codes))
    probabilities = calibration.probabilities(logits)
    threshold_array, global_threshold = choose_thresholds(probabilities, gold, prior_weight=config.threshold_prior_weight, weights=weights)
    thresholds = {code: round(float(t), 4) for code, t in zip(codes, threshold_array, strict=True)}
    threshold_array = np.array([thresholds[code] for code in codes])  # as saved: the decision is fitted on what tagging uses
    # Fitted on every validation message, also those the gate's floor or the rule for "other" clear when
    # tagging: fitted on the others only, the same cross-validation scored 0.889 against 0.896.
    decision = fit_decision(probabilities, threshold_array, gates, gold, weights) if config.learned_decision else None
    # The kind classifier's guess stands for the kind, as when tagging a message whose kind nobody decided.
    other = counted_as_other(kind_probs, kinds)
    chosen = TaggingRules.from_config(config.to_dict()).choose(probabilities, threshold_array, decision, gates, other)
    if config.learned_decision and decision is None:
        warnings.append(f"no learned decision ({len(validation)} validation messages, {MIN_MESSAGES} needed, or nothing to learn): thresholds and rules decide")
    validation_scores = {
        **norm_scores([m.norms for m in validation], [[c for c, keep in zip(codes, row, strict=True) if keep] for row in chosen], codes),
        **kind_scores([m.kind for m in validation], [kinds[i] for i in kind_probs.argmax(axis=1)]),
    }
    if config.refit_on_all and separate_validation and not cross_fitted:
        nlp = build_pipeline(labels, config)
        fit(nlp, messages, config, progress=progress, stage="final")
    norms_model = nlp.get_pipe(NORMS_PIPE).model
    calibrated_weights, calibrated_bias = calibration.fold(norms_model.get_param("W"), norms_model.get_param("b"))
    set_layer(norms_model, calibrated_weights, calibrated_bias)

    report = {
        "version": version,
        "spacy": spacy.__version__,
        "messages": len(messages),
        "real_style_messages": sum(m.style == "real" for m in messages),
        "fit_messages": len(fit_part),
        "validation_messages": len(validation),
        "fits": rounds,
        "kinds": {kind: sum(m.kind == kind for m in messages) for kind in KINDS},
        "label_counts": counts,
        "dropped_codes": dict(dropped),
        "warnings": warnings,
        "global_threshold": global_threshold,
        "calibration": calibration.to_dict(codes),
        "decision": decision.to_dict() if decision else None,
        "validation": validation_scores,
        "training_seconds": round(time.perf_counter() - started, 2),
    }
    return Tagger(nlp, thresholds, version=version, config=config.to_dict(), report=report, decision=decision)


def _calibration_parts(messages: Sequence[Message], folds: int) -> list[tuple[int, Fold]]:
    """The ``folds`` parts the messages fall in by a hash of their text, numbered from 0, without a part that
    leaves nothing to score or nothing to train on (a small corpus): those are not fitted."""
    return [(part, fold) for part, fold in enumerate(random_folds(messages, folds)) if fold.test and fold.training]


def _counted(progress: ProgressCallback, rounds: int) -> ProgressCallback:
    def report(step: TrainingProgress) -> None:
        progress(replace(step, rounds=rounds))

    return report


def _probe(nlp: Language) -> Tagger:
    """A tagger of a fitted pipeline, for its raw scores (its thresholds are not used)."""
    return Tagger(nlp, dict.fromkeys(nlp.get_pipe(NORMS_PIPE).labels, 0.5), version="probe")


def _cross_fitted_scores(
    parts: Sequence[tuple[int, Fold]], labels: Mapping[str, Sequence[str]], config: TaggerConfig, progress: ProgressCallback | None
) -> tuple[list[Message], np.ndarray, np.ndarray, np.ndarray | None]:
    """Every training message scored by a model that did not train on it: the messages fall in
    ``calibration_folds`` parts by a hash of their text (``_calibration_parts``), and a model trained on the
    other parts scores each part. Returns (the messages in scoring order, kind probabilities, norm logits, the norm gate's
    probabilities or None without a gate).

    Why: the calibration and the thresholds then rest on all training messages instead of one held-apart
    share, several times as many real-style messages among them; the cost is one training per part."""
    folds = config.calibration_folds
    scored: list[Message] = []
    kinds, logits, gates = [], [], []
    for part, fold in parts:
        test, rest = fold.test, fold.training
        nlp = build_pipeline(labels, config)
        fit(nlp, rest, config, progress=progress, stage=f"validation {part + 1}/{folds}")
        part_kinds, part_logits, part_gates = _probe(nlp).validation_scores([m.text for m in test])
        scored.extend(test)
        kinds.append(part_kinds)
        logits.append(part_logits)
        gates.append(part_gates)
    return scored, np.vstack(kinds), np.vstack(logits), (None if gates[0] is None else np.concatenate(gates))


def fit(nlp: Language, messages: Sequence[Message], config: TaggerConfig, *, progress: ProgressCallback | None = None, stage: str = "final") -> None:
    """Train the two classifiers of a freshly built pipeline on the messages.

    Both are linear over the messages' TF-IDF features. Their weights are fitted by
    scikit-learn's logistic regression (an exact convex solver: no epochs, learning rate or seed
    to tune) and set on the spaCy components, which then score new messages, sentence pooling
    included, without scikit-learn.
    """
    kind_pipe = nlp.get_pipe(KIND_PIPE)
    norms_pipe = nlp.get_pipe(NORMS_PIPE)
    codes = list(norms_pipe.labels)
    extractor = nlp.get_pipe(FEATURES_PIPE)
    docs = [nlp.make_doc(m.text) for m in messages]
    extractor.fit(docs, config.min_df)
    sample = [Example.from_dict(nlp.make_doc("x"), {"cats": {}})]
    kind_pipe.initialize(lambda: sample, nlp=nlp, labels=KINDS)
    norms_pipe.initialize(lambda: sample, nlp=nlp, labels=codes)
    # One row per message: its whole-message features (the sentences only count when tagging).
    matrix = extractor.featurize(docs, sentences=False).X
    extractor.read_misspellings()  # the training rows keep their words as written; what is tagged next is read
    sample_weight = np.array([config.real_weight if m.style == "real" else 1.0 for m in messages])
    steps = len(codes) + 1
    kind_targets = np.array([KINDS.index(m.kind) for m in messages])
    weights, bias = _fit_logistic(matrix, kind_targets, len(KINDS), C=config.kind_C, balanced=False, sample_weight=sample_weight)
    set_layer(kind_pipe.model, weights, bias)
    if progress:
        progress(TrainingProgress(stage=stage, step=1, steps=steps, label="kind"))
    norm_weights = np.zeros((matrix.shape[1], len(codes)), dtype="float32")
    norm_bias = np.zeros(len(codes), dtype="float32")
    for j, code in enumerate(codes):
        targets = np.array([code in m.norms for m in messages], dtype=int)
        column, intercept = _fit_logistic(matrix, targets, 2, C=config.C, balanced=config.balance_norms, sample_weight=sample_weight)
        norm_weights[:, j] = column[:, 1] - column[:, 0]
        norm_bias[j] = intercept[1] - intercept[0]
        if progress:
            progress(TrainingProgress(stage=stage, step=j + 2, steps=steps, label=code))
    set_layer(norms_pipe.model, norm_weights, norm_bias)
    if GATE_PIPE in nlp.pipe_names:
        gate_pipe = nlp.get_pipe(GATE_PIPE)
        gate_pipe.initialize(lambda: sample, nlp=nlp, labels=[GATE_LABEL])
        targets = np.array([bool(m.norms) for m in messages], dtype=int)
        column, intercept = _fit_logistic(matrix, targets, 2, C=config.C, balanced=True, sample_weight=sample_weight)
        set_layer(gate_pipe.model, (column[:, 1] - column[:, 0])[:, None], np.array([intercept[1] - intercept[0]], dtype="float32"))


# A class without any training message can never be predicted: its logit stays this far below.
_ABSENT = -20.0


def _fit_logistic(matrix, targets: np.ndarray, n_classes: int, *, C: float, balanced: bool, sample_weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(weights of shape (columns, n_classes), bias of n_classes) whose softmax is a logistic
    regression's probability; a class absent from ``targets`` gets zero weights and a very low
    bias, and when only one class occurs every message gets it."""
    weights = np.zeros((matrix.shape[1], n_classes), dtype="float32")
    bias = np.full(n_classes, _ABSENT, dtype="float32")
    present = np.unique(targets)
    if len(present) < 2:
        if len(present):
            bias[present[0]] = 0.0
        return weights, bias
    # Imported here: tagging never needs scikit-learn (``import nlp.core.tagger`` stays light).
    import scipy.sparse
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=3000, class_weight="balanced" if balanced else None)
    # Without any feature column (a corpus too small for min_df) only the intercepts are learned.
    model.fit(matrix if matrix.shape[1] else scipy.sparse.csr_matrix((matrix.shape[0], 1)), targets, sample_weight=sample_weight)
    coef, intercept = model.coef_[:, : matrix.shape[1]], model.intercept_
    if len(present) == 2:  # scikit-learn keeps one column for two classes: the second's logit
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.concatenate([-intercept / 2, intercept / 2])
    weights[:, present] = coef.T
    bias[present] = intercept
    return weights, bias
