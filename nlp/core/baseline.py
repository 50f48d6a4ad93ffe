"""The baseline the tagger must beat: TF-IDF word uni- and bigrams with logistic regression.

Trained the same way as the tagger: on the training part, thresholds per norm chosen on the
same validation part, then fitted again on all training messages (scikit-learn, one-vs-rest).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline

from .config import TaggerConfig
from .corpus import KINDS, Message, restrict_to_labels, split_validation
from .labels import canonical_labels
from .metrics import choose_thresholds
from .tagger import TagResult


class BaselineTagger:
    """TF-IDF + logistic regression, with the tagger's ``tag_many`` interface for ``evaluate``."""

    version = "baseline-tfidf-logreg"

    def __init__(self, labels: Sequence[str]) -> None:
        self.labels = list(labels)
        self.thresholds = np.full(len(self.labels), 0.5)
        self._kind = None
        self._norms = None

    def fit(self, messages: Sequence[Message]) -> BaselineTagger:
        texts = [m.text for m in messages]
        self._kind = make_pipeline(_vectorizer(), LogisticRegression(max_iter=2000))
        self._kind.fit(texts, [m.kind for m in messages])
        gold = np.array([[code in m.norms for code in self.labels] for m in messages], dtype=int)
        # A norm without a positive example gets a constant classifier (scikit-learn warns).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._norms = make_pipeline(_vectorizer(), OneVsRestClassifier(LogisticRegression(max_iter=2000)))
            self._norms.fit(texts, gold)
        return self

    def norm_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self._norms.predict_proba(list(texts)), dtype="float32")

    def tag_many(self, texts: Iterable[str], *, explain: bool = False) -> Iterator[TagResult]:
        texts = list(texts)
        if not texts:
            return
        kind_probs = self._kind.predict_proba(texts)
        kind_labels = list(self._kind.classes_)
        norm_probs = self.norm_probabilities(texts)
        for kinds_row, norms_row in zip(kind_probs, norm_probs, strict=True):
            kind_scores = {kind: float(kinds_row[kind_labels.index(kind)]) if kind in kind_labels else 0.0 for kind in KINDS}
            chosen = [i for i in np.argsort(-norms_row, kind="stable") if norms_row[i] >= self.thresholds[i]]
            yield TagResult(
                kind=max(kind_scores, key=kind_scores.__getitem__),
                kind_scores=kind_scores,
                norm_scores={code: float(p) for code, p in zip(self.labels, norms_row, strict=True)},
                norms=[self.labels[i] for i in chosen],
                version=self.version,
            )


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode", lowercase=True, min_df=1)


def train_baseline(messages: Sequence[Message], labels: Mapping[str, Sequence[str]], *, config: TaggerConfig | None = None) -> BaselineTagger:
    """Fit on the training part, choose thresholds on the validation part, refit on all of it."""
    config = config or TaggerConfig()
    codes = list(canonical_labels(labels))
    messages, _ = restrict_to_labels(messages, codes)
    fit_part, validation = split_validation(messages, config.validation_share)
    model = BaselineTagger(codes).fit(fit_part)
    gold = np.array([[code in m.norms for code in codes] for m in validation], dtype=bool)
    thresholds, _ = choose_thresholds(model.norm_probabilities([m.text for m in validation]), gold, prior_weight=config.threshold_prior_weight)
    if config.refit_on_all:
        model = BaselineTagger(codes).fit(messages)
    model.thresholds = thresholds
    return model
