"""Sparse features for the tagger: lemmas, lemma bigrams, character n-grams and charter keywords.

The ``handvest_features`` pipeline component runs after the lookup lemmatizer and stores a
:class:`DocFeatures` on each doc: the features of the whole message and of each of its
sentences. The two text classifiers use the ``handvest.FeatureTextCat.v1`` architecture, a
hashed linear model (``nlp.core.linear``) over those features, so they are computed once.

Why these features: the corpus is small and the messages nobody here has seen are informal,
misspelt, or long and formal. Lemmas fold inflection (``gebeld`` → ``bellen``), character
n-grams inside words survive typos (``telefonich``, ``afspaak``) and compounds
(``baliemedewerker``), and the charter's keywords carry what a norm promises even where the
corpus has no example.

Why sentences: a letter about three norms usually spends a sentence or two on each. The norm
classifier scores the whole message and each sentence; a norm's score is the mean of the
message's score and the higher of that and the best sentence's, so one sentence about waiting on
the phone still counts in a long letter about something else (``_pooled_linear``). Trained on whole messages only: trained
on sentences, the model pinned norms on stray sentences (a greeting, a street name) and
generalised far worse.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from spacy.attrs import ORTH
from spacy.lang.nl.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.strings import hash_string
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model, chain

from .linear import hashed_linear, key_weights, no_gradient, stack_rows

FEATURES_KEY = "handvest_features"
IDF_FILE = "idf.npz"

# Features are grouped so that each group is normalised on its own: a long formal letter then
# weighs about as much as a one-line web-form message, and the many character n-grams do not
# drown the lemmas.
GROUPS = ("lemma", "bigram", "char", "keyword")
_GROUP_IDS = np.array([0, 1, 2, 3])
SENTENCE_ENDS = frozenset({".", "!", "?", ";", "…"})
_SPACE, _BREAK, _PUNCT, _BREAK_AFTER = 1, 2, 4, 8

_MAX_CACHE = 200_000
_EMPTY_KEYS = np.empty(0, dtype="uint64")
_EMPTY_VALUES = np.empty(0, dtype="float32")


def fold(text: str) -> str:
    """Lowercase and strip accents (``één`` → ``een``), as citizens type them either way."""
    text = text.lower()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _hash_all(strings: Iterable[str]) -> np.ndarray:
    return np.fromiter((hash_string(s) for s in strings), dtype="uint64")


@dataclass(frozen=True)
class Unit:
    """A stretch of the message that owns some features: a word, a word pair or a matched keyword."""

    text: str
    keys: np.ndarray
    start: int


@dataclass(frozen=True)
class DocFeatures:
    """The hashed features of one message.

    ``keys``/``values`` are the whole message's. When it has more than one sentence, the same keys
    grouped by sentence, with values normalised per sentence, are in ``sentence_keys``/
    ``sentence_values`` (``sentence_lengths`` keys per sentence, token spans in ``sentence_spans``).
    """

    keys: np.ndarray
    values: np.ndarray
    sentence_keys: np.ndarray
    sentence_values: np.ndarray
    sentence_lengths: np.ndarray
    sentence_spans: tuple[tuple[int, int], ...]

    def rows(self, sentences: bool) -> list[tuple[np.ndarray, np.ndarray]]:
        """(keys, values) of the whole message, then (with ``sentences``) of each sentence."""
        rows = [(self.keys, self.values)]
        if sentences and len(self.sentence_lengths):
            bounds = np.cumsum(self.sentence_lengths)[:-1]
            rows.extend(zip(np.split(self.sentence_keys, bounds), np.split(self.sentence_values, bounds), strict=True))
        return rows


@dataclass(frozen=True)
class KeywordMatch:
    code: str
    keyword: str
    start: int
    end: int


class FeatureExtractor:
    """Turns a lemmatised doc into :class:`DocFeatures`; a pipeline component."""

    def __init__(
        self,
        nlp: Language,
        name: str,
        *,
        keywords: Mapping[str, Sequence[str]],
        char_ngrams: Sequence[int],
        bigrams: bool,
        sentences: bool,
        group_weights: Mapping[str, float],
        char_all_tokens: bool = True,
    ) -> None:
        self.nlp = nlp
        self.name = name
        self.keywords = {code: list(words) for code, words in keywords.items()}
        self.char_ngrams = (int(char_ngrams[0]), int(char_ngrams[1]))
        self.bigrams = bool(bigrams)
        self.sentences = bool(sentences)
        self.group_weights = {group: float(group_weights.get(group, 1.0)) for group in GROUPS}
        self._weights = np.array([self.group_weights[group] for group in GROUPS], dtype="float32")
        self.char_all_tokens = bool(char_all_tokens)
        # Inverse document frequencies of the keys seen in at least ``min_df`` training messages,
        # sorted by key; None until ``fit_idf`` (then every key counts with weight 1).
        self._idf_keys: np.ndarray | None = None
        self._idf_values: np.ndarray | None = None
        self._patterns: dict[str, list[tuple[tuple[str, ...], str, str]]] | None = None
        self._token_cache: dict[int, tuple[str, int, np.ndarray, int]] = {}
        self._bigram_cache: dict[tuple[str, str], int] = {}

    # -- keywords --------------------------------------------------------------------------------

    def _lemma_of(self, word: str) -> str:
        table = self.nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup", {}) if "lemmatizer" in self.nlp.pipe_names else {}
        lowered = word.lower()
        return fold(table.get(lowered, lowered))

    def _compile_keywords(self) -> dict[str, list[tuple[tuple[str, ...], str, str]]]:
        """Index each keyword by its first lemma; compiled lazily, once the lemma table is loaded."""
        patterns: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
        for code, words in self.keywords.items():
            for keyword in words:
                lemmas = tuple(self._lemma_of(token.text) for token in self.nlp.make_doc(keyword) if not token.is_space)
                if lemmas:
                    patterns.setdefault(lemmas[0], []).append((lemmas, code, fold(keyword)))
        return patterns

    def match_keywords(self, doc: Doc, lemmas: Sequence[str] | None = None) -> list[KeywordMatch]:
        """The charter keywords that occur in the doc, compared lemma by lemma."""
        if self._patterns is None:
            self._patterns = self._compile_keywords()
        if lemmas is None:
            lemmas = [self._token_info(orth, doc, i)[0] for i, orth in enumerate(doc.to_array(ORTH).tolist())]
        matches = []
        for start, lemma in enumerate(lemmas):
            for pattern, code, keyword in self._patterns.get(lemma, ()):
                end = start + len(pattern)
                if tuple(lemmas[start:end]) == pattern:
                    matches.append(KeywordMatch(code, keyword, start, end))
        return matches

    # -- features ----------------------------------------------------------------------------------

    def _token_info(self, orth: int, doc: Doc, i: int) -> tuple[str, int, np.ndarray, int]:
        """(folded lemma, lemma key, char n-gram keys, flags) of a token, cached by its text.

        The lookup lemma and the flags depend on the text alone, so the cache is exact.
        """
        info = self._token_cache.get(orth)
        if info is not None:
            return info
        token = doc[i]
        text = token.text
        lemma = fold(token.lemma_ or text)
        lower = fold(text)
        char_keys = _EMPTY_KEYS
        if lower.isalnum() if self.char_all_tokens else lower.isalpha() and len(lower) > 2 and lower not in STOP_WORDS:
            low, high = self.char_ngrams
            padded = f"<{lower}>"
            grams = {padded[k : k + n] for n in range(low, high + 1) for k in range(len(padded) - n + 1)}
            char_keys = _hash_all(f"C:{gram}" for gram in sorted(grams))
        flags = 0
        if token.is_space:
            flags |= _SPACE | (_BREAK if "\n" in text else 0)
        elif token.is_punct and text not in ("?", "!"):
            flags |= _PUNCT
        if text in SENTENCE_ENDS:
            flags |= _BREAK_AFTER
        if len(self._token_cache) > _MAX_CACHE:
            self._token_cache.clear()
        info = (lemma, hash_string(f"L:{lemma}"), char_keys, flags)
        self._token_cache[orth] = info
        return info

    def _bigram_key(self, first: str, second: str) -> int:
        pair = (first, second)
        key = self._bigram_cache.get(pair)
        if key is None:
            if len(self._bigram_cache) > _MAX_CACHE:
                self._bigram_cache.clear()
            key = self._bigram_cache[pair] = hash_string(f"B:{first}|{second}")
        return key

    def featurize(self, doc: Doc) -> DocFeatures:
        """The features of the whole doc and of each sentence, in one pass over the tokens."""
        group_keys: tuple[list[int], list[int], list[int]] = ([], [], [])  # lemma, bigram, keyword
        group_sentence: tuple[list[int], list[int], list[int]] = ([], [], [])
        char_arrays: list[np.ndarray] = []
        char_sentence: list[int] = []
        lemmas: list[str] = []
        starts = [0]
        sentence = 0
        has_words = False
        previous = ""
        token_cache = self._token_cache
        bigram_cache = self._bigram_cache
        for i, orth in enumerate(doc.to_array(ORTH).tolist()):
            lemma, lemma_key, char_keys, flags = token_cache.get(orth) or self._token_info(orth, doc, i)
            if flags & _SPACE:
                lemmas.append("")
                previous = ""
                if flags & _BREAK and has_words:
                    starts.append(i + 1)
                    sentence += 1
                    has_words = False
                continue
            lemmas.append(lemma)
            group_keys[0].append(lemma_key)
            group_sentence[0].append(sentence)
            has_words = True
            if len(char_keys):
                char_arrays.append(char_keys)
                char_sentence.append(sentence)
            if flags & _PUNCT:
                previous = ""
            else:
                if self.bigrams and previous:
                    group_keys[1].append(bigram_cache.get((previous, lemma)) or self._bigram_key(previous, lemma))
                    group_sentence[1].append(sentence)
                previous = lemma
            if flags & _BREAK_AFTER:
                starts.append(i + 1)
                sentence += 1
                has_words = False
        if not has_words and len(starts) > 1:
            starts.pop()
        for match in self.match_keywords(doc, lemmas):
            for key in self._keyword_keys(match):
                group_keys[2].append(key)
                group_sentence[2].append(bisect_right(starts, match.start) - 1)
        char_lengths = [len(array) for array in char_arrays]
        keys = np.concatenate(
            [
                np.array(group_keys[0], dtype="uint64"),
                np.array(group_keys[1], dtype="uint64"),
                np.concatenate(char_arrays) if char_arrays else _EMPTY_KEYS,
                np.array(group_keys[2], dtype="uint64"),
            ]
        )
        groups = np.repeat(_GROUP_IDS, [len(group_keys[0]), len(group_keys[1]), sum(char_lengths), len(group_keys[2])])
        whole_keys, values, _ = self._weigh(keys, groups, np.zeros(len(keys), dtype=np.int64), 1)
        n_sentences = len(starts)
        if not self.sentences or n_sentences < 2:
            return DocFeatures(whole_keys, values, _EMPTY_KEYS, _EMPTY_VALUES, np.empty(0, dtype="int32"), ())
        sentences = np.concatenate(
            [
                np.array(group_sentence[0], dtype=np.int64),
                np.array(group_sentence[1], dtype=np.int64),
                np.repeat(np.array(char_sentence, dtype=np.int64), char_lengths),
                np.array(group_sentence[2], dtype=np.int64),
            ]
        )
        sentence_keys, sentence_values, rows = self._weigh(keys, groups, sentences, n_sentences)
        spans = tuple(zip(starts, [*starts[1:], len(doc)], strict=True))
        lengths = np.bincount(rows, minlength=n_sentences).astype("int32")
        return DocFeatures(whole_keys, values, sentence_keys, sentence_values, lengths, spans)

    def _weigh(self, keys: np.ndarray, groups: np.ndarray, rows: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """TF-IDF per row (the message, or each sentence) and feature group: each distinct key once,
        with ``(1 + log count) * idf``, keys unseen in training dropped, each group of each row
        scaled to unit length and then by the group's weight. Returns (keys, values, rows), sorted
        by row.

        Why TF-IDF and not raw counts: a word in every message ("gemeente", "ik") says nothing
        about a norm, and the unit length per group makes a long formal letter weigh like a
        one-line web-form message and keeps the many character n-grams from drowning the lemmas.
        """
        if not len(keys):
            return _EMPTY_KEYS, _EMPTY_VALUES, np.empty(0, dtype=np.int64)
        order = np.lexsort((keys, rows))
        keys, groups, rows = keys[order], groups[order], rows[order]
        first = np.empty(len(keys), dtype=bool)
        first[0] = True
        first[1:] = (keys[1:] != keys[:-1]) | (rows[1:] != rows[:-1])
        starts = np.flatnonzero(first)
        counts = np.diff(np.append(starts, len(keys)))
        keys, groups, rows = keys[starts], groups[starts], rows[starts]
        values = 1.0 + np.log(counts)
        if self._idf_keys is not None:
            if not len(self._idf_keys):  # no key reached min_df in training: nothing is known
                return _EMPTY_KEYS, _EMPTY_VALUES, np.empty(0, dtype=np.int64)
            position = np.minimum(np.searchsorted(self._idf_keys, keys), len(self._idf_keys) - 1)
            known = self._idf_keys[position] == keys
            keys, groups, rows, values = keys[known], groups[known], rows[known], values[known] * self._idf_values[position[known]]
        cells = rows * len(GROUPS) + groups
        lengths = np.sqrt(np.bincount(cells, weights=values * values, minlength=n_rows * len(GROUPS)))
        values = (values / np.maximum(lengths[cells], 1e-12) * self._weights[groups]).astype("float32")
        return keys, values, rows

    @property
    def known_keys(self) -> int:
        """How many keys the idf table knows (0 before ``fit_idf``)."""
        return 0 if self._idf_keys is None else len(self._idf_keys)

    def fit_idf(self, docs: Sequence[Doc], min_df: int) -> None:
        """Learn the inverse document frequencies from training docs (featurised without them);
        keys in fewer than ``min_df`` docs are dropped: a street name or a one-off typo would
        only let the classifier memorise its message. Featurise the docs again afterwards."""
        self._idf_keys = self._idf_values = None
        keys, counts = np.unique(np.concatenate([features_of(doc).keys for doc in docs] or [_EMPTY_KEYS]), return_counts=True)
        keep = counts >= min_df
        self._idf_keys = keys[keep]
        # scikit-learn's smooth idf: ln((1 + n) / (1 + df)) + 1.
        self._idf_values = (np.log((1 + len(docs)) / (1 + counts[keep])) + 1).astype("float32")

    def to_disk(self, path, exclude=()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self._idf_keys is not None:
            np.savez(path / IDF_FILE, keys=self._idf_keys, values=self._idf_values)

    def from_disk(self, path, exclude=()) -> FeatureExtractor:
        file = Path(path) / IDF_FILE
        if file.exists():
            with np.load(file) as data:
                self._idf_keys, self._idf_values = data["keys"], data["values"]
        return self

    def _keyword_keys(self, match: KeywordMatch) -> tuple[int, int]:
        return hash_string(f"K:{match.code}"), hash_string(f"KW:{match.keyword}")

    def units(self, doc: Doc) -> list[Unit]:
        """Which words own which features, for explanations (slower than ``featurize``)."""
        units: list[Unit] = []
        previous: tuple[str, str] | None = None
        lemmas: list[str] = []
        for i, orth in enumerate(doc.to_array(ORTH).tolist()):
            lemma, lemma_key, char_keys, flags = self._token_info(orth, doc, i)
            text = doc[i].text
            if flags & _SPACE:
                lemmas.append("")
                previous = None
                continue
            lemmas.append(lemma)
            units.append(Unit(text, np.array([lemma_key, *char_keys.tolist()], dtype="uint64"), i))
            if flags & _PUNCT:
                previous = None
                continue
            if self.bigrams and previous is not None:
                units.append(Unit(f"{previous[1]} {text}", np.array([self._bigram_key(previous[0], lemma)], dtype="uint64"), i - 1))
            previous = (lemma, text)
        for match in self.match_keywords(doc, lemmas):
            units.append(Unit(doc[match.start : match.end].text, np.array(self._keyword_keys(match), dtype="uint64"), match.start))
        return units

    def __call__(self, doc: Doc) -> Doc:
        doc.user_data[FEATURES_KEY] = self.featurize(doc)
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterable[Doc]:
        for doc in docs:
            yield self(doc)


@Language.factory(
    "handvest_features",
    default_config={
        "keywords": {},
        "char_ngrams": [3, 5],
        "bigrams": True,
        "sentences": True,
        "group_weights": {"lemma": 1.0, "bigram": 1.0, "char": 1.0, "keyword": 1.0},
        "char_all_tokens": True,
    },
)
def make_feature_extractor(nlp, name, keywords, char_ngrams, bigrams, sentences, group_weights, char_all_tokens):
    options = {"char_ngrams": char_ngrams, "bigrams": bigrams, "sentences": sentences, "group_weights": group_weights, "char_all_tokens": char_all_tokens}
    return FeatureExtractor(nlp, name, keywords=keywords, **options)


# -- the classifier architecture ----------------------------------------------------------------


def features_of(doc: Doc) -> DocFeatures:
    features = doc.user_data.get(FEATURES_KEY)
    if features is None:
        raise ValueError("Doc has no tagger features: run it through the whole pipeline (handvest_features) first.")
    return features


def _output(exclusive: bool) -> Model:
    """Softmax (kind) or sigmoid (norms) over the linear scores."""

    def forward(model: Model, X, is_train: bool):
        Y = model.ops.softmax(X, inplace=False) if exclusive else model.ops.sigmoid(X, inplace=False)
        return Y, no_gradient

    return Model("handvest_softmax" if exclusive else "handvest_sigmoid", forward)


def _pooled_linear(sparse_linear: Model, sentence_weight: float) -> Model:
    """Score the whole message and each of its sentences with ``sparse_linear``; a label's score is
    ``(1 - w) * message + w * max(message, best sentence)`` with ``w = sentence_weight``."""

    def forward(model: Model, docs: list[Doc], is_train: bool):
        # The hot path of tagging: each doc's sentence rows are already contiguous arrays, so they
        # are appended whole rather than split into rows (``DocFeatures.rows``) and joined again.
        row_counts, keys, values, lengths = [], [], [], []
        for doc in docs:
            features = features_of(doc)
            keys.append(features.keys)
            values.append(features.values)
            lengths.append(np.array([len(features.keys)], dtype="int32"))
            row_counts.append(1)
            if sentence_weight > 0 and len(features.sentence_lengths):
                keys.append(features.sentence_keys)
                values.append(features.sentence_values)
                lengths.append(features.sentence_lengths)
                row_counts[-1] += len(features.sentence_lengths)
        inputs = (
            np.concatenate(keys) if keys else _EMPTY_KEYS,
            np.concatenate(values) if values else _EMPTY_VALUES,
            np.concatenate(lengths) if lengths else np.empty(0, dtype="int32"),
        )
        scores, _ = sparse_linear(inputs, is_train)
        if max(row_counts, default=1) == 1:
            return scores, no_gradient
        offsets = np.concatenate([[0], np.cumsum(row_counts)[:-1]]).astype(int)
        whole = scores[offsets]
        # Written as whole + w * (best - whole), not (1 - w) * whole + w * best: a message whose
        # best row is itself then scores exactly as it does alone, in any batch.
        return whole + sentence_weight * (np.maximum.reduceat(scores, offsets, axis=0) - whole), no_gradient

    def init(model: Model, X=None, Y=None):
        if Y is not None and not sparse_linear.has_dim("nO"):
            sparse_linear.set_dim("nO", Y.shape[1])
        sparse_linear.initialize()
        model.set_dim("nO", sparse_linear.get_dim("nO"))

    return Model("handvest_pooled_linear", forward, init=init, layers=[sparse_linear], dims={"nO": None})


@registry.architectures("handvest.FeatureTextCat.v1")
def build_feature_text_classifier(
    exclusive_classes: bool, length: int = 2**17, sentence_weight: float = 0.0, pool_in_training: bool = False, nO: int | None = None
) -> Model:
    """A hashed linear classifier over :class:`DocFeatures`: softmax for kind, sigmoid for norms.

    With ``sentence_weight`` > 0 the best-scoring sentence counts beside the whole message (see
    ``_pooled_linear``). Its weights are fitted by ``train.fit``, on whole messages only.
    ``pool_in_training`` is ignored: it is accepted so that models saved by code version 1 still
    load (and are then found out of date, see ``Tagger.is_current``).
    """
    length = 2 ** (length - 1).bit_length()
    sparse_linear = hashed_linear(nO=nO, length=length)
    model = chain(_pooled_linear(sparse_linear, sentence_weight), _output(exclusive_classes))
    if nO is not None:
        model.set_dim("nO", nO)
    model.set_ref("output_layer", sparse_linear)
    model.attrs["multi_label"] = not exclusive_classes
    model.attrs["sentence_weight"] = sentence_weight
    return model


def row_weights(model: Model, keys: np.ndarray) -> np.ndarray:
    """The weight of each key for each label (shape ``(len(keys), n_labels)``), bias left out."""
    return key_weights(model.get_ref("output_layer"), keys)


def row_scores(model: Model, rows: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """The linear score of each row for each label (before the sigmoid)."""
    return model.get_ref("output_layer").predict(stack_rows(rows))
