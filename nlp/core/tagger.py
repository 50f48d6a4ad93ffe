"""A trained tagger: tag messages with their kind and the norms they concern, and say why.

On disk a model is a folder with the spaCy pipeline (``pipeline/``) and ``tagger.json``
(version, per-norm thresholds, configuration and the training report).

Tagging runs spaCy's tokenizer and then scores a whole batch at once: the features component
weighs the batch (``FeatureExtractor.featurize``) and one matrix product gives every label's
linear score. ``nlp(text)`` gives the same scores in ``doc.cats``, one message at a time. Nothing
here imports scikit-learn.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
import spacy
from spacy.language import Language
from spacy.tokens import Doc

from .decision import Decision
from .features import Batch, best_sentence_rows, pool
from .lemmas import LEMMAS_FILE
from .linear import layer_weights
from .pipeline import FEATURES_PIPE, GATE_PIPE, KIND_PIPE, NORMS_PIPE

# Bump when the feature or model code changes in a way that models trained before do not
# reflect. It is part of every model version, and saved with the model: a model whose code
# version differs is not used as is (``is_current``), as its weights fit other features.
CODE_VERSION = "3"
META_FILE = "tagger.json"
PIPELINE_DIR = "pipeline"
EXPLAIN_WORDS = 5
# The officer sees this many of the best-scored norms; those below their threshold are uncertain,
# shown only from this calibrated score on.
TOP_SUGGESTIONS = 3
UNCERTAIN_FLOOR = 0.1
# The tokenizer is spaCy's Dutch default, never changed here: ``spacy.load`` builds it anyway, and
# reading its ~9,000 special cases back from disk would double the load time.
NOT_SAVED = ["tokenizer"]


@dataclass(frozen=True)
class TaggingRules:
    """Which norms are suggested, from the calibrated scores (``TaggerConfig``). Tagging and the
    training report's validation figures both decide by ``choose``, so the report measures what
    tagging does. A model saved without these keys in its config tags as before."""

    relative_floor: float = 0.0
    other_has_no_norms: bool = False
    gate_floor: float = 0.0
    gate_top: float = 2.0

    @classmethod
    def from_config(cls, config: Mapping) -> TaggingRules:
        return cls(
            relative_floor=float(config.get("relative_floor", 0.0)),
            other_has_no_norms=bool(config.get("other_has_no_norms")),
            gate_floor=float(config.get("norm_gate_floor", 0.0)),
            gate_top=float(config.get("norm_gate_top", 2.0)),
        )

    def choose(
        self,
        probabilities: np.ndarray,
        thresholds: np.ndarray,
        decision: Decision | None,
        gate: np.ndarray | None,
        other: np.ndarray,
        order: np.ndarray | None = None,
    ) -> np.ndarray:
        """A boolean (messages x norms) array of the suggested norms. With a learned decision, it decides
        over the best-scored norms (and has the gate's score among its inputs); without one, a norm needs
        its threshold and ``relative_floor`` times the best such score. Then no norm for a message of kind
        "other" (``other``: per message) when ``other_has_no_norms``, and none below the gate's floor (they
        stay *uncertain*). Without a decision, last, a message the gate deems surely about a norm
        (``gate_top``) with none suggested, not of kind "other", gets its best-scored norm."""
        if decision is not None:
            confident = decision.choose(probabilities, thresholds, gate, order)
        else:
            confident = probabilities >= thresholds
            if self.relative_floor > 0:
                best = np.where(confident, probabilities, 0.0).max(axis=1, keepdims=True)
                confident &= probabilities >= self.relative_floor * best
        if self.other_has_no_norms:
            confident[other] = False
        if gate is not None:
            confident[gate < self.gate_floor] = False
            if decision is None:
                add = (gate >= self.gate_top) & ~confident.any(axis=1) & ~other
                if add.any():
                    rows = np.flatnonzero(add)
                    confident[rows, probabilities[rows].argmax(axis=1)] = True
        return confident


def counted_as_other(kind_probs: np.ndarray, kinds: Sequence[str], decided: Sequence[str | None] | None = None) -> np.ndarray:
    """Per message, whether ``TaggingRules`` treats it as kind "other": its decided kind where a person or
    the intake decided it (``decided``: per message, or None), else the kind classifier's guess."""
    guess = kind_probs.argmax(axis=1) == kinds.index("other") if "other" in kinds else np.zeros(len(kind_probs), dtype=bool)
    if decided is None:
        return guess
    return np.array([bool(g) if known is None else known == "other" for g, known in zip(guess.tolist(), decided, strict=True)], dtype=bool)


@dataclass(frozen=True)
class TagResult:
    """What the tagger says about one message.

    ``norm_scores`` has a calibrated score (a probability) for every label; ``norms`` lists the
    suggested ones (score at or above the norm's threshold), best first; ``uncertain`` the other
    norms among the ``TOP_SUGGESTIONS`` best that still score at least ``UNCERTAIN_FLOOR``, best
    first, for the officer to consider; ``explain`` gives, per suggested or uncertain norm (when
    asked), the words of the message that weighed most for it.
    """

    kind: str
    kind_scores: dict[str, float]
    norm_scores: dict[str, float]
    norms: list[str]
    explain: dict[str, list[str]] = field(default_factory=dict)
    version: str = ""
    uncertain: list[str] = field(default_factory=list)

    def ranked(self, k: int | None = None) -> list[str]:
        """The norm codes by score, best first (the first ``k``)."""
        return sorted(self.norm_scores, key=lambda code: -self.norm_scores[code])[:k]

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
        decision: Decision | None = None,
    ):
        self.nlp = nlp
        self.labels: list[str] = list(nlp.get_pipe(NORMS_PIPE).labels)
        self.kinds: list[str] = list(nlp.get_pipe(KIND_PIPE).labels)
        missing = set(self.labels) - set(thresholds)
        if missing:
            raise ValueError(f"No threshold for {', '.join(sorted(missing))}.")
        self.thresholds = {code: float(thresholds[code]) for code in self.labels}
        self._threshold_array = np.array([self.thresholds[code] for code in self.labels], dtype="float64")
        self.version = version
        self.config = config or {}
        self.report = report or {}
        self.code_version = code_version
        self._extractor = nlp.get_pipe(FEATURES_PIPE)
        norms_model = nlp.get_pipe(NORMS_PIPE).model
        self._sentence_weight = float(norms_model.attrs.get("sentence_weight", 0.0))
        self._weights: np.ndarray | None = None
        self._bias: np.ndarray | None = None
        self._gate = GATE_PIPE in nlp.pipe_names
        # The learned decision over the best-scored norms (``nlp.core.decision``); without one (a model
        # saved before it, or too small a corpus to fit it) thresholds and the rules decide.
        self.decision = decision
        self.rules = TaggingRules.from_config(self.config)

    @property
    def is_current(self) -> bool:
        """Whether this model was trained by the feature and model code that is running now."""
        return self.code_version == CODE_VERSION

    # -- persistence -------------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        # The lemmatizer's table is saved by the features, compact (``lemmas``), and a loaded model reads only that.
        self.nlp.to_disk(path / PIPELINE_DIR, exclude=[*NOT_SAVED, "lemmatizer"])
        meta = {"version": self.version, "code_version": self.code_version, "thresholds": self.thresholds, "config": self.config, "report": self.report}
        if self.decision is not None:
            meta["decision"] = self.decision.to_dict()
        (path / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        return path

    @classmethod
    def read_meta(cls, path: str | Path) -> dict:
        """The saved model's ``tagger.json`` (version, code version, thresholds, report)."""
        return json.loads((Path(path) / META_FILE).read_text(encoding="utf-8"))

    @classmethod
    def load(cls, path: str | Path) -> Tagger:
        path = Path(path)
        meta = cls.read_meta(path)
        # The features keep their own compact lemma table (``lemmas``); a model saved before they did
        # still needs the lemmatizer's.
        compact = (path / PIPELINE_DIR / FEATURES_PIPE / LEMMAS_FILE).exists()
        nlp = spacy.load(path / PIPELINE_DIR, exclude=[*NOT_SAVED, *(["lemmatizer"] if compact else [])])
        # Models saved before the code version was recorded are of code version 1.
        code_version = meta.get("code_version", "1")
        return cls(
            nlp,
            meta["thresholds"],
            version=meta["version"],
            config=meta.get("config"),
            report=meta.get("report"),
            code_version=code_version,
            decision=Decision.from_dict(meta.get("decision")),
        )

    # -- scores ------------------------------------------------------------------------------------

    def _layers(self) -> tuple[np.ndarray, np.ndarray]:
        """The kind and norm classifiers' weights side by side: one matrix product scores both."""
        if self._weights is None:
            layers = [layer_weights(self.nlp.get_pipe(name).model) for name in (KIND_PIPE, NORMS_PIPE, *([GATE_PIPE] if self._gate else []))]
            self._weights = np.ascontiguousarray(np.hstack([w for w, _ in layers]), dtype="float32")
            self._bias = np.concatenate([b for _, b in layers]).astype("float64")
        return self._weights, self._bias

    def _score(self, docs: Sequence[Doc], *, units: bool = False) -> tuple[Batch, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """(features, every row's linear norm scores, kind probabilities, pooled norm logits, the norm
        gate's probability per message or None) of a batch."""
        batch = self._extractor.featurize(docs, units=units)
        weights, bias = self._layers()
        scores = np.asarray(batch.X @ weights, dtype="float64") + bias
        n_kinds, n_norms = len(self.kinds), len(self.labels)
        kind_logits = scores[: batch.n_docs, :n_kinds]
        shifted = np.exp(kind_logits - kind_logits.max(axis=1, keepdims=True))
        kind_probs = shifted / shifted.sum(axis=1, keepdims=True)
        norm_scores = scores[:, n_kinds : n_kinds + n_norms]
        norm_logits = pool(batch, norm_scores, self._sentence_weight)
        # The gate was trained on whole messages: their rows only, no sentence pooling.
        gate_probs = 1.0 / (1.0 + np.exp(-np.clip(scores[: batch.n_docs, -1], -40, 40))) if self._gate else None
        return batch, norm_scores, kind_probs, norm_logits, gate_probs

    def raw_scores(self, texts: Iterable[str], *, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """(kind probabilities, norm linear scores before the sigmoid) as arrays, rows in text order."""
        kinds, norms, _ = self.validation_scores(texts, batch_size=batch_size)
        return kinds, norms

    def validation_scores(self, texts: Iterable[str], *, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``raw_scores`` and the norm gate's probability per text (None without a gate)."""
        kinds, norms, gates = [], [], []
        for docs in _batches(self.nlp.tokenizer.pipe(texts, batch_size=batch_size), batch_size):
            _, _, kind_probs, norm_logits, gate_probs = self._score(docs)
            kinds.append(kind_probs)
            norms.append(norm_logits)
            gates.append(gate_probs)
        if not kinds:
            return np.empty((0, len(self.kinds))), np.empty((0, len(self.labels))), (np.empty(0) if self._gate else None)
        return np.vstack(kinds), np.vstack(norms), (np.concatenate(gates) if self._gate else None)

    # -- tagging -----------------------------------------------------------------------------------

    def tag(self, text: str, *, explain: bool = True, kind: str | None = None) -> TagResult:
        """Tag one message; with ``explain`` the words that weighed most for each shown norm.
        ``kind``: the message's kind when a person or the intake decided it (a case is a complaint or a
        suggestion); the rule for 'other' then follows it instead of the kind classifier's guess."""
        return next(self.pipe([text], explain=explain, kinds=[kind]))

    def pipe(self, texts: Iterable[str], *, explain: bool = False, batch_size: int = 256, kinds: Sequence[str | None] | None = None) -> Iterator[TagResult]:
        """Tag messages in batches; each result is exactly what ``tag`` gives for that text alone.
        ``kinds``: per text, its decided kind or None (see ``tag``)."""
        offset = 0
        for docs in _batches(self.nlp.tokenizer.pipe(texts, batch_size=batch_size), batch_size):
            batch, row_scores, kind_probs, norm_logits, gate_probs = self._score(docs, units=explain)
            probabilities = 1.0 / (1.0 + np.exp(-np.clip(norm_logits, -40, 40)))
            order = np.argsort(-probabilities, axis=1, kind="stable")
            kind_best = kind_probs.argmax(axis=1)
            other = counted_as_other(kind_probs, self.kinds, None if kinds is None else kinds[offset : offset + len(docs)])
            confident = self.rules.choose(probabilities, self._threshold_array, self.decision, gate_probs, other, order)
            offset += len(docs)
            kind_best = kind_best.tolist()
            kind_rows = kind_probs.tolist()
            norm_rows = probabilities.tolist()
            labels, kind_names = self.labels, self.kinds
            for i in range(len(docs)):
                ranked = order[i].tolist()
                row = norm_rows[i]
                suggested = [labels[j] for j in ranked if confident[i, j]]
                uncertain = [labels[j] for j in ranked[:TOP_SUGGESTIONS] if not confident[i, j] and row[j] >= UNCERTAIN_FLOOR]
                reasons = self._explain_row(batch, row_scores, i, suggested + uncertain) if explain and (suggested or uncertain) else {}
                yield TagResult(
                    kind=kind_names[kind_best[i]],
                    kind_scores=dict(zip(kind_names, kind_rows[i], strict=True)),
                    norm_scores=dict(zip(labels, row, strict=True)),
                    norms=suggested,
                    explain=reasons,
                    version=self.version,
                    uncertain=uncertain,
                )

    def tag_many(self, texts: Iterable[str], *, explain: bool = False, batch_size: int = 256) -> Iterator[TagResult]:
        """The same as ``pipe`` (its older name)."""
        return self.pipe(texts, explain=explain, batch_size=batch_size)

    # -- why a tag ---------------------------------------------------------------------------------

    def explain(self, doc: Doc | str, codes: Iterable[str], top: int = EXPLAIN_WORDS) -> dict[str, list[str]]:
        """For each code, the words, word pairs, matched keywords and cue words that pushed its score up most."""
        if isinstance(doc, str):
            doc = self.nlp.make_doc(doc)
        batch, row_scores, _, _, _ = self._score([doc], units=True)
        return self._explain_row(batch, row_scores, 0, list(codes), top)

    def _explain_row(self, batch: Batch, row_scores: np.ndarray, i: int, codes: Sequence[str], top: int = EXPLAIN_WORDS) -> dict[str, list[str]]:
        """A norm's score is linear in the features of the whole message and, when it lifted the
        score, of its best sentence (``features.pool``), so each feature's value times its weight
        is its share of the score; a feature owned by several words is split between them."""
        codes = [code for code in codes if code in self.labels]
        X, units = batch.X, batch.units
        if not codes or units is None or X.indptr[i] == X.indptr[i + 1]:
            return {code: [] for code in codes}
        weights, _ = self._layers()
        n_kinds = len(self.kinds)
        best_rows, lifted = best_sentence_rows(batch, row_scores, i)
        lo, hi = units.doc_ptr[i], units.doc_ptr[i + 1]
        entry_start, entry_col, entry_name = units.start[lo:hi], units.col[lo:hi], units.name[lo:hi]
        spans = dict(zip(batch.doc_rows(i)[1:], batch.sentence_spans[batch.sentence_doc == i].tolist(), strict=True))
        w = self._sentence_weight
        matches: dict[int, tuple] = {}

        def row_match(row: int) -> tuple:
            """The row's columns and values, and the named entries that own one: (entry, position), and owners per column."""
            if row not in matches:
                a, b = X.indptr[row], X.indptr[row + 1]
                columns, values = X.indices[a:b], X.data[a:b]
                order = np.argsort(columns)
                columns, values = columns[order], values[order]
                position = np.minimum(np.searchsorted(columns, entry_col), len(columns) - 1)
                hit = columns[position] == entry_col
                if row != i:
                    start, end = spans[row]
                    hit &= (entry_start >= start) & (entry_start < end)
                entries = np.flatnonzero(hit)
                owners = np.bincount(position[entries], minlength=len(columns))
                named = entries[entry_name[entries] >= 0]
                matches[row] = (columns, values / np.maximum(owners, 1), entry_name[named], position[named])
            return matches[row]

        explanation = {}
        for code in codes:
            j = self.labels.index(code)
            parts = [(i, 1.0 - w), (int(best_rows[j]), w)] if lifted[j] and w > 0 else [(i, 1.0)]
            totals: dict[int, float] = {}
            for row, share in parts:
                columns, shared_values, names, positions = row_match(row)
                contribution = shared_values * weights[columns, n_kinds + j] * share
                found, inverse = np.unique(names, return_inverse=True)
                sums = np.bincount(inverse, weights=contribution[positions], minlength=len(found))
                for name, amount in zip(found.tolist(), sums.tolist(), strict=True):
                    totals[name] = totals.get(name, 0.0) + amount
            ranked = sorted((item for item in totals.items() if item[1] > 0), key=lambda item: -item[1])
            explanation[code] = [units.names[name] for name, _ in ranked[:top]]
        return explanation


def _batches(docs: Iterable[Doc], size: int) -> Iterator[list[Doc]]:
    iterator = iter(docs)
    while batch := list(islice(iterator, size)):
        yield batch
