"""A trained tagger: tag a message with its kind and the norms it concerns, and say why.

On disk a model is a folder with the spaCy pipeline (``pipeline/``) and ``tagger.json``
(version, per-norm thresholds, configuration and the training report).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import spacy
from spacy.lang.nl.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.tokens import Doc

from .features import FEATURES_KEY, Unit, fold, row_scores, row_weights
from .pipeline import KIND_PIPE, NORMS_PIPE

# Bump when the feature or model code changes in a way that models trained before do not
# reflect. It is part of every model version, and saved with the model: a model whose code
# version differs is not used as is (``is_current``), as its weights fit other features.
CODE_VERSION = "2"
META_FILE = "tagger.json"
PIPELINE_DIR = "pipeline"
EXPLAIN_WORDS = 5
# The tokenizer is spaCy's Dutch default, never changed here: ``spacy.load`` builds it anyway, and
# reading its ~9,000 special cases back from disk would double the load time.
NOT_SAVED = ["tokenizer"]


@dataclass(frozen=True)
class TagResult:
    """What the tagger says about one message.

    ``norm_scores`` has a score for every label; ``norms`` lists the suggested ones (score at or
    above the norm's threshold), best first; ``explain`` gives, per suggested norm, the words of
    the message that weighed most for it.
    """

    kind: str
    kind_scores: dict[str, float]
    norm_scores: dict[str, float]
    norms: list[str]
    explain: dict[str, list[str]] = field(default_factory=dict)
    version: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


class Tagger:
    """A spaCy pipeline with per-norm thresholds and a version."""

    def __init__(
        self,
        nlp: Language,
        thresholds: Mapping[str, float],
        *,
        version: str,
        config: dict | None = None,
        report: dict | None = None,
        code_version: str = CODE_VERSION,
    ):
        self.nlp = nlp
        self.labels: list[str] = list(nlp.get_pipe(NORMS_PIPE).labels)
        self.kinds: list[str] = list(nlp.get_pipe(KIND_PIPE).labels)
        missing = set(self.labels) - set(thresholds)
        if missing:
            raise ValueError(f"No threshold for {', '.join(sorted(missing))}.")
        self.thresholds = {code: float(thresholds[code]) for code in self.labels}
        self._threshold_array = np.array([self.thresholds[code] for code in self.labels], dtype="float32")
        self.version = version
        self.config = config or {}
        self.report = report or {}
        self.code_version = code_version

    @property
    def is_current(self) -> bool:
        """Whether this model was trained by the feature and model code that is running now."""
        return self.code_version == CODE_VERSION

    # -- persistence -------------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.nlp.to_disk(path / PIPELINE_DIR, exclude=NOT_SAVED)
        meta = {"version": self.version, "code_version": self.code_version, "thresholds": self.thresholds, "config": self.config, "report": self.report}
        (path / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Tagger:
        path = Path(path)
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        nlp = spacy.load(path / PIPELINE_DIR, exclude=NOT_SAVED)
        # Models saved before the code version was recorded are of code version 1.
        code_version = meta.get("code_version", "1")
        return cls(nlp, meta["thresholds"], version=meta["version"], config=meta.get("config"), report=meta.get("report"), code_version=code_version)

    # -- tagging -----------------------------------------------------------------------------------

    def tag(self, text: str, *, explain: bool = True) -> TagResult:
        """Tag one message; with ``explain`` the words that weighed most for each suggested norm."""
        return next(self.tag_many([text], explain=explain))

    def tag_many(self, texts: Iterable[str], *, explain: bool = False, batch_size: int = 256) -> Iterator[TagResult]:
        """Tag messages in batches through ``nlp.pipe`` (much faster than one by one)."""
        for doc in self.nlp.pipe(texts, batch_size=batch_size):
            yield self._result(doc, explain=explain)

    def _result(self, doc: Doc, *, explain: bool) -> TagResult:
        cats = doc.cats
        kind_scores = {kind: float(cats[kind]) for kind in self.kinds}
        norm_scores = {code: float(cats[code]) for code in self.labels}
        scores = np.fromiter(norm_scores.values(), dtype="float32", count=len(self.labels))
        chosen = np.flatnonzero(scores >= self._threshold_array)
        suggested = [self.labels[i] for i in chosen[np.argsort(-scores[chosen], kind="stable")]]
        reasons = self.explain(doc, suggested) if explain and suggested else {}
        return TagResult(
            kind=max(kind_scores, key=kind_scores.__getitem__),
            kind_scores=kind_scores,
            norm_scores=norm_scores,
            norms=suggested,
            explain=reasons,
            version=self.version,
        )

    # -- why a tag ---------------------------------------------------------------------------------

    def explain(self, doc: Doc | str, codes: Iterable[str], top: int = EXPLAIN_WORDS) -> dict[str, list[str]]:
        """For each code, the words, word pairs and matched keywords that pushed its score up most.

        A norm's score is linear in the features of the whole message and of its best sentence
        (``features._pooled_linear``), so each feature's weight times its value is its share of
        the score; a feature shared by several words is split between them.
        """
        if isinstance(doc, str):
            doc = self.nlp(doc)
        codes = [code for code in codes if code in self.labels]
        features = doc.user_data.get(FEATURES_KEY)
        if features is None or not codes or len(features.keys) == 0:
            return {code: [] for code in codes}
        model = self.nlp.get_pipe(NORMS_PIPE).model
        sentence_weight = float(model.attrs.get("sentence_weight", 0.0))
        rows = features.rows(sentence_weight > 0)
        best_rows = row_scores(model, rows).argmax(axis=0)
        weights = [row_weights(model, keys) for keys, _ in rows]
        all_units = self.nlp.get_pipe("handvest_features").units(doc)
        explanation = {}
        for code in codes:
            column = self.labels.index(code)
            best = int(best_rows[column])
            parts = [(0, 1.0 - sentence_weight), (best, sentence_weight)] if len(rows) > 1 else [(0, 1.0)]
            totals: dict[str, float] = {}
            for row, share in parts:
                if share <= 0:
                    continue
                if row == 0:
                    units = all_units
                else:
                    start, end = features.sentence_spans[row - 1]
                    units = [unit for unit in all_units if start <= unit.start < end]
                keys, values = rows[row]
                for word, amount in _word_contributions(units, keys, values * share, weights[row][:, column]).items():
                    totals[word] = totals.get(word, 0.0) + amount
            ranked = sorted((item for item in totals.items() if item[1] > 0), key=lambda item: -item[1])
            explanation[code] = [word for word, _ in ranked[:top]]
        return explanation


def _word_contributions(units: Sequence[Unit], keys: np.ndarray, values: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    """Each shown word's share of a linear score; a key owned by several units is split between them."""
    position = {int(key): i for i, key in enumerate(keys)}
    owners: Counter = Counter()
    unit_rows = []
    for unit in units:
        rows = [position[int(key)] for key in unit.keys if int(key) in position]
        owners.update(rows)
        unit_rows.append(rows)
    shares = np.array([1.0 / owners.get(i, 1) for i in range(len(keys))], dtype="float32")
    contribution = weights * values * shares
    totals: dict[str, float] = {}
    for unit, rows in zip(units, unit_rows, strict=True):
        shown = fold(unit.text).strip()
        if rows and _worth_showing(shown):
            totals[shown] = totals.get(shown, 0.0) + float(contribution[rows].sum())
    return totals


def _worth_showing(text: str) -> bool:
    words = text.split()
    if not words or not any(ch.isalnum() for ch in text):
        return False
    return not all(word in STOP_WORDS or len(word) < 2 for word in words)
