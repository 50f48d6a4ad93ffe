"""Train a tagger from annotated messages and a label set.

1. Norm codes that are not labels (a retired norm) are dropped from the messages; a message
   keeps its kind and its other norms.
2. A validation part is carved out of the training messages by a hash of each text.
3. A pipeline is trained on the rest; its scores on the validation part choose one threshold
   per norm and give the report's validation scores.
4. With ``refit_on_all`` the pipeline is trained again, the same way, on all training messages
   and keeps the chosen thresholds.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import spacy
from spacy.language import Language
from spacy.training import Example
from thinc.api import Adam

from .config import TaggerConfig
from .corpus import KINDS, Message, corpus_digest, label_counts, restrict_to_labels, split_validation
from .labels import canonical_labels
from .metrics import choose_thresholds, kind_scores, norm_scores
from .pipeline import CLASSIFIER_PIPES, KIND_PIPE, NORMS_PIPE, build_pipeline
from .tagger import Tagger

# Bump when the feature or model code changes in a way that old cached models do not reflect.
CODE_VERSION = "1"


@dataclass(frozen=True)
class TrainingProgress:
    """Passed to the progress callback after every epoch."""

    stage: str  # "validation" (training part only) or "final" (all training messages)
    epoch: int
    epochs: int
    loss: float


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
    fit(nlp, fit_part, config, progress=progress, stage="validation")
    kind_probs, norm_probs = predict_scores(nlp, [m.text for m in validation])
    codes = list(nlp.get_pipe(NORMS_PIPE).labels)
    gold = np.array([[code in m.norms for code in codes] for m in validation], dtype=bool)
    threshold_array, global_threshold = choose_thresholds(norm_probs, gold, prior_weight=config.threshold_prior_weight)
    thresholds = {code: round(float(t), 4) for code, t in zip(codes, threshold_array, strict=True)}
    kinds = list(nlp.get_pipe(KIND_PIPE).labels)
    validation_scores = {
        **norm_scores([m.norms for m in validation], [[c for c, p, t in zip(codes, row, threshold_array, strict=True) if p >= t] for row in norm_probs], codes),
        **kind_scores([m.kind for m in validation], [kinds[i] for i in kind_probs.argmax(axis=1)]),
    }
    if config.refit_on_all and separate_validation:
        nlp = build_pipeline(labels, config)
        fit(nlp, messages, config, progress=progress, stage="final")

    report = {
        "version": version,
        "spacy": spacy.__version__,
        "messages": len(messages),
        "fit_messages": len(fit_part),
        "validation_messages": len(validation),
        "kinds": {kind: sum(m.kind == kind for m in messages) for kind in KINDS},
        "label_counts": counts,
        "dropped_codes": dict(dropped),
        "warnings": warnings,
        "global_threshold": global_threshold,
        "validation": validation_scores,
        "training_seconds": round(time.perf_counter() - started, 2),
    }
    return Tagger(nlp, thresholds, version=version, config=config.to_dict(), report=report)


def fit(nlp: Language, messages: Sequence[Message], config: TaggerConfig, *, progress: ProgressCallback | None = None, stage: str = "final") -> None:
    """Train the two classifiers of a freshly built pipeline on the messages."""
    kind_pipe = nlp.get_pipe(KIND_PIPE)
    norms_pipe = nlp.get_pipe(NORMS_PIPE)
    codes = list(norms_pipe.labels)
    # The lemmatizer and the features run once; every epoch reuses the featurised docs.
    docs = list(nlp.pipe((m.text for m in messages), disable=list(CLASSIFIER_PIPES), batch_size=256))
    kind_examples, norm_examples = [], []
    for doc, message in zip(docs, messages, strict=True):
        kind_examples.append(Example.from_dict(doc, {"cats": {kind: float(kind == message.kind) for kind in KINDS}}))
        norm_examples.append(Example.from_dict(doc, {"cats": {code: float(code in message.norms) for code in codes}}))
    # The classifiers' initialisation reads the reference docs, which must carry the features.
    kind_pipe.initialize(lambda: [_with_features(eg) for eg in kind_examples[:10]], nlp=nlp, labels=KINDS)
    norms_pipe.initialize(lambda: [_with_features(eg) for eg in norm_examples[:10]], nlp=nlp, labels=codes)
    optimizer = _optimizer(config, config.l2)
    kind_optimizer = _optimizer(config, config.kind_l2)
    rng = random.Random(config.seed)
    order = list(range(len(messages)))
    for epoch in range(1, config.epochs + 1):
        rng.shuffle(order)
        losses: dict[str, float] = {}
        for start in range(0, len(order), config.batch_size):
            batch = order[start : start + config.batch_size]
            kind_pipe.update([kind_examples[i] for i in batch], sgd=kind_optimizer, losses=losses)
            norms_pipe.update([norm_examples[i] for i in batch], sgd=optimizer, losses=losses)
        if progress:
            progress(TrainingProgress(stage=stage, epoch=epoch, epochs=config.epochs, loss=sum(losses.values())))


def _optimizer(config: TaggerConfig, l2: float) -> Adam:
    # An L2 penalty on the gradient, not weight decay: Adam gives rare features (a street name,
    # a typo) as large steps as common ones, and only the penalty keeps them from memorising.
    return Adam(learn_rate=config.learn_rate, L2=l2, L2_is_weight_decay=False, grad_clip=config.grad_clip, use_averages=False)


def _with_features(example: Example) -> Example:
    reference = example.predicted.copy()
    reference.cats = dict(example.reference.cats)
    return Example(example.predicted, reference)


def predict_scores(nlp: Language, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(kind probabilities, norm scores) as arrays, rows in the order of ``texts``."""
    kind_rows, norm_rows = [], []
    for doc in nlp.pipe(texts, batch_size=256):
        kind_rows.append([doc.cats[label] for label in nlp.get_pipe(KIND_PIPE).labels])
        norm_rows.append([doc.cats[label] for label in nlp.get_pipe(NORMS_PIPE).labels])
    n_norms = len(nlp.get_pipe(NORMS_PIPE).labels)
    return np.array(kind_rows, dtype="float32").reshape(-1, len(KINDS)), np.array(norm_rows, dtype="float32").reshape(-1, n_norms)
