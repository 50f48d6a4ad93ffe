"""Sparse TF-IDF features for the tagger, computed for a whole batch of messages at once.

Feature groups, each scaled to unit length per row (a message, or one of its sentences) and then
by the group's weight, so a long formal letter weighs about as much as a one-line web-form message
and the many character n-grams do not drown the lemmas:

- ``lemma``: the lookup lemma of every word (``gebeld`` → ``bellen``); when tagging, a word with one
  typing error that is no Dutch word is first read as the training messages' word (``gebelt`` → ``gebeld``,
  ``nlp.core.spelling``);
- ``bigram``: pairs of adjacent lemmas, not across punctuation or line breaks;
- ``char``: character n-grams inside every word, which survive typos (``telefonich``) and
  compounds (``baliemedewerker``);
- ``keyword``: the charter's keywords of each norm, matched lemma by lemma;
- ``cue``: where it happened and what went wrong, per sentence (``nlp.core.cues``).

Each feature is a column of a fixed vocabulary learned from the training messages
(:meth:`FeatureExtractor.fit`): keys seen in fewer than ``min_df`` messages are dropped, and each
kept key has its inverse document frequency. A value is ``(1 + log count) × idf``.

Why sentences: a letter about three norms usually spends a sentence or two on each. Besides the
whole message, each sentence of a message with two or more is a row of its own; the norm
classifier pools the whole message's score with the best sentence's (``pooled_scores``).

Why batches: the per-word work (lemma, n-grams, cues) is cached per vocabulary entry, and the
weighing of a batch is a handful of sparse-matrix operations instead of a sort per message.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse
from spacy.attrs import ORTH
from spacy.lang.nl.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.strings import hash_string
from spacy.tokens import Doc

from .cues import CHANNEL_MASK, CHANNELS, PROBLEMS, cue_ids, cue_names, word_cues
from .lemmas import LemmaTable
from .spelling import Speller, dutch_words

FEATURES_KEY = "handvest_features"
VOCAB_FILE = "columns.npz"

GROUPS = ("lemma", "bigram", "char", "keyword", "cue")
LEMMA, BIGRAM, CHAR, KEYWORD, CUE = range(len(GROUPS))
SENTENCE_ENDS = frozenset({".", "!", "?", ";", "…"})
_SPACE, _BREAK, _PUNCT, _BREAK_AFTER = 1, 2, 4, 8

_MAX_CACHE = 200_000
_EMPTY_INT = np.empty(0, dtype=np.int64)


def fold(text: str) -> str:
    """Lowercase and strip accents (``één`` → ``een``), as citizens type them either way."""
    text = text.lower()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _hash(text: str) -> int:
    return hash_string(text)


@dataclass(frozen=True)
class Word:
    """What the features need of one vocabulary entry; depends on its text alone, so it is cached."""

    text: str
    lemma: str
    lemma_key: int
    gram_keys: np.ndarray  # uint64, distinct
    flags: int
    cues: int


@dataclass(frozen=True)
class Units:
    """Which words own which feature columns in a batch, for explanations. Entries are grouped by
    message (``doc_ptr[i]:doc_ptr[i + 1]`` are message ``i``'s): the word or words starting at
    token ``start`` own column ``col`` and are shown as ``names[name]`` (-1: not worth showing)."""

    doc_ptr: np.ndarray
    start: np.ndarray
    col: np.ndarray
    name: np.ndarray
    names: list[str]


@dataclass(frozen=True)
class KeywordMatch:
    code: str
    keyword: str
    start: int
    end: int


@dataclass
class Batch:
    """The features of a batch of messages.

    ``X`` has one row per message (rows ``0 .. n_docs - 1``, in order), then one row per sentence
    of each message that has two or more (``sentence_doc`` says whose, grouped by message in
    order; ``sentence_spans`` are their token spans within that message).
    """

    X: scipy.sparse.csr_matrix
    n_docs: int
    sentence_doc: np.ndarray
    sentence_spans: np.ndarray  # (n_sentences, 2) token start, end
    units: Units | None = None

    def doc_rows(self, i: int) -> list[int]:
        """The rows of message ``i``: its whole-message row, then its sentences' rows."""
        return [i, *(self.n_docs + np.flatnonzero(self.sentence_doc == i)).tolist()]


class FeatureExtractor:
    """Turns docs into :class:`Batch` features; a pipeline component that also owns the vocabulary."""

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
        cues: bool = True,
        sentence_max_tokens: int = 0,
        spelling: bool = False,
    ) -> None:
        self.nlp = nlp
        self.name = name
        self.keywords = {code: list(words) for code, words in keywords.items()}
        self.char_ngrams = (int(char_ngrams[0]), int(char_ngrams[1]))
        self.bigrams = bool(bigrams)
        self.sentences = bool(sentences)
        self.group_weights = {group: float(group_weights.get(group, 1.0)) for group in GROUPS}
        self.cues = bool(cues)
        self.sentence_max_tokens = int(sentence_max_tokens)
        # The speller (``nlp.core.spelling``): the training messages' word forms, set by ``fit``; None without.
        # It reads misspelt words only once ``read_misspellings`` (or loading) switched it on: the training
        # messages are featurized as written.
        self.spelling = bool(spelling)
        self._speller: Speller | None = None
        self._reading = False
        self._cue_keys = np.array([_hash(f"Q:{name}") for name in cue_names()], dtype="uint64")
        # The vocabulary: one column per kept key (sorted by key), its group and idf; None until fit.
        self.keys: np.ndarray | None = None
        self.groups: np.ndarray | None = None
        self.idf: np.ndarray | None = None
        self._bigram_codes = _EMPTY_INT
        self._bigram_cols = _EMPTY_INT
        # The lemma table, compact (``lemmas``): taken from the lemmatizer when training, saved with
        # the features, so a loaded model leaves the lemmatizer and its 66 MiB dict out.
        self._lemmas: LemmaTable | None = None
        self._reset_caches()

    # -- caches ------------------------------------------------------------------------------------

    def _reset_caches(self) -> None:
        self._words: dict[int, Word] = {}
        self._patterns: dict[str, list[tuple[tuple[str, ...], str, str]]] | None = None
        # Per vocabulary entry, resolved against the columns: a dense index and its attributes.
        self._index: dict[int, int] = {}
        self._flags = np.zeros(0, dtype=np.int64)
        self._cue_bits = np.zeros(0, dtype=np.int64)
        self._lemma_col = np.zeros(0, dtype=np.int64)
        self._lemma_id = np.zeros(0, dtype=np.int64)
        self._lemma_ids: dict[str, int] = {"": 0}
        self._lemma_strings: list[str] = [""]
        self._unit_ptr = np.zeros(1, dtype=np.int64)
        self._unit_cols = _EMPTY_INT
        self._col_of: dict[int, int] | None = None
        self._table: Mapping[str, str] | None = None
        self._single: dict[str, list[int]] | None = None
        self._cue_cols: np.ndarray | None = None
        self._pairs: np.ndarray | None = None
        self._column_arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        # Names shown in explanations: the folded forms worth showing, by index.
        self._names: list[str] = []
        self._name_ids: dict[str, int] = {}
        self._name_of_text: dict[str, int] = {}
        self._word_name = _EMPTY_INT
        self._pair_names: dict[tuple[int, int], int] = {}
        self._texts: list[str] = []

    @property
    def n_columns(self) -> int:
        return 0 if self.keys is None else len(self.keys)

    @property
    def known_keys(self) -> int:
        """How many columns the vocabulary has (0 before ``fit``)."""
        return self.n_columns

    def _lemma_table(self) -> LemmaTable | Mapping[str, str]:
        if self._table is None:
            if self._lemmas is None and "lemmatizer" in self.nlp.pipe_names:
                self._lemmas = LemmaTable.from_table(self.nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup", {}))
            self._table = self._lemmas if self._lemmas is not None else {}
        return self._table

    def word(self, orth: int) -> Word:
        """The cached :class:`Word` of a vocabulary entry (by its ORTH id)."""
        word = self._words.get(orth)
        if word is not None:
            return word
        text = self.nlp.vocab.strings[orth]
        lowered = text.lower()
        folded = fold(text)
        table = self._lemma_table()
        # As spaCy's Dutch lookup lemmatizer: the lowercased text looked up in its table.
        found = table.get(lowered)
        if found is None and self._reading:
            # A word no lemma table knows, one typing error from a form the training messages use: read as that form.
            corrected = self._speller.correct(folded)
            if corrected is not None:
                folded = corrected
                found = table.get(corrected, corrected)
        lemma = fold(lowered if found is None else found)
        flags = 0
        if text.isspace():
            flags |= _SPACE | (_BREAK if "\n" in text else 0)
        elif _is_punct(text) and text not in ("?", "!"):
            flags |= _PUNCT
        if text in SENTENCE_ENDS:
            flags |= _BREAK_AFTER
        gram_keys = np.empty(0, dtype="uint64")
        if not flags & _SPACE and folded.isalnum():
            low, high = self.char_ngrams
            padded = f"<{folded}>"
            grams = {padded[k : k + n] for n in range(low, high + 1) for k in range(len(padded) - n + 1)}
            gram_keys = np.fromiter((_hash(f"C:{gram}") for gram in sorted(grams)), dtype="uint64", count=len(grams))
        cues = 0 if flags & _SPACE or not self.cues else word_cues(folded)
        word = Word(text, lemma, _hash(f"L:{lemma}"), gram_keys, flags, cues)
        if len(self._words) > _MAX_CACHE:
            self._words.clear()  # only this cache: the resolved entries keep what they took from it
        self._words[orth] = word
        return word

    def _column_lookup(self) -> dict[int, int]:
        if self._col_of is None:
            self._col_of = {} if self.keys is None else dict(zip(self.keys.tolist(), range(len(self.keys)), strict=True))
        return self._col_of

    def _resolve(self, orths: np.ndarray) -> np.ndarray:
        """Dense indices of these vocabulary entries, adding the new ones to the resolved cache.

        Each entry's *unit* is the set of columns it adds wherever it occurs: its lemma, its
        character n-grams and the one-word charter keywords it matches.
        """
        index = self._index
        new = [orth for orth in orths.tolist() if orth not in index]
        if new:
            if len(index) + len(new) > _MAX_CACHE:
                self._reset_caches()
                return self._resolve(orths)
            col_of = self._column_lookup()
            single = self._single_word_keywords()
            flags, cues, lemma_cols, lemma_ids, lengths, cols = [], [], [], [], [], []
            for orth in new:
                index[orth] = len(index)
                word = self.word(orth)
                self._texts.append(word.text)
                flags.append(word.flags)
                cues.append(word.cues)
                unit = []
                lemma_col = -1
                if not word.flags & _SPACE:
                    lemma_col = col_of.get(word.lemma_key, -1)
                    if lemma_col >= 0:
                        unit.append(lemma_col)
                    unit.extend(col for col in map(col_of.get, word.gram_keys.tolist()) if col is not None)
                    unit.extend(col for col in map(col_of.get, single.get(word.lemma, ())) if col is not None)
                lemma_ids.append(self._lemma_index("" if word.flags & _SPACE else word.lemma))
                lemma_cols.append(lemma_col)
                lengths.append(len(unit))
                cols.extend(unit)
            self._flags = np.concatenate([self._flags, np.array(flags, dtype=np.int64)])
            self._cue_bits = np.concatenate([self._cue_bits, np.array(cues, dtype=np.int64)])
            self._lemma_col = np.concatenate([self._lemma_col, np.array(lemma_cols, dtype=np.int64)])
            self._lemma_id = np.concatenate([self._lemma_id, np.array(lemma_ids, dtype=np.int64)])
            self._unit_ptr = np.concatenate([self._unit_ptr, self._unit_ptr[-1] + np.cumsum(lengths, dtype=np.int64)])
            self._unit_cols = np.concatenate([self._unit_cols, np.array(cols, dtype=np.int64)])
        return np.fromiter(map(index.__getitem__, orths.tolist()), dtype=np.int64, count=len(orths))

    def _lemma_index(self, lemma: str) -> int:
        found = self._lemma_ids.get(lemma)
        if found is None:
            found = self._lemma_ids[lemma] = len(self._lemma_strings)
            self._lemma_strings.append(lemma)
        return found

    def _single_word_keywords(self) -> dict[str, list[int]]:
        """Keys of the one-lemma keywords, by lemma: they are part of a word's unit."""
        if self._single is None:
            single: dict[str, list[int]] = {}
            for lemma, patterns in self._keyword_patterns().items():
                for pattern, code, keyword in patterns:
                    if len(pattern) == 1:
                        single.setdefault(lemma, []).extend(self._keyword_keys(KeywordMatch(code, keyword, 0, 1)))
            self._single = single
        return self._single

    def _pair_codes(self) -> np.ndarray:
        """The (first, second) lemma ids of the keywords of two or more lemmas, as sorted codes."""
        if self._pairs is None:
            codes = {
                self._lemma_index(pattern[0]) << 32 | self._lemma_index(pattern[1])
                for patterns in self._keyword_patterns().values()
                for pattern, _, _ in patterns
                if len(pattern) > 1
            }
            self._pairs = np.array(sorted(codes), dtype=np.int64)
        return self._pairs

    # -- keywords ----------------------------------------------------------------------------------

    def _keyword_patterns(self) -> dict[str, list[tuple[tuple[str, ...], str, str]]]:
        """Each keyword by its first lemma; compiled lazily, once the lemma table is loaded."""
        if self._patterns is None:
            table = self._lemma_table()
            patterns: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
            for code, words in self.keywords.items():
                for keyword in words:
                    lemmas = tuple(fold(table.get(t.text.lower(), t.text.lower())) for t in self.nlp.make_doc(keyword) if not t.is_space)
                    if lemmas:
                        patterns.setdefault(lemmas[0], []).append((lemmas, code, fold(keyword)))
            self._patterns = patterns
        return self._patterns

    def match_keywords(self, lemmas: Sequence[str], positions: Iterable[int] | None = None) -> list[KeywordMatch]:
        """The charter keywords that start at ``positions`` (default: anywhere), lemma by lemma."""
        patterns = self._keyword_patterns()
        matches = []
        for start in range(len(lemmas)) if positions is None else positions:
            for pattern, code, keyword in patterns.get(lemmas[start], ()):
                end = start + len(pattern)
                if tuple(lemmas[start:end]) == pattern:
                    matches.append(KeywordMatch(code, keyword, start, end))
        return matches

    def _keyword_keys(self, match: KeywordMatch) -> tuple[int, int]:
        return _hash(f"K:{match.code}"), _hash(f"KW:{match.keyword}")

    # -- the vocabulary -----------------------------------------------------------------------------

    def fit(self, docs: Sequence[Doc], min_df: int) -> None:
        """Learn the columns and their inverse document frequencies from training docs.

        Keys in fewer than ``min_df`` docs are dropped: a street name or a one-off typo would only
        let the classifier memorise its message.
        """
        self.keys = self.groups = self.idf = None
        self._speller, self._reading = None, False
        self._reset_caches()
        group_of: dict[int, int] = {}
        pair_of: dict[int, tuple[int, int]] = {}
        per_doc = []
        # The speller's forms: every folded word form, counted once per message it occurs in.
        form_counts: Counter[str] = Counter()
        for doc in docs:
            keys: set[int] = set()
            words = [self.word(orth) for orth in doc.to_array(ORTH).tolist()]
            if self.spelling:
                form_counts.update({fold(word.text) for word in words})
            lemmas = ["" if w.flags & _SPACE else w.lemma for w in words]
            previous: Word | None = None
            for word in words:
                if word.flags & _SPACE:
                    previous = None
                    continue
                keys.add(word.lemma_key)
                group_of[word.lemma_key] = LEMMA
                for key in word.gram_keys.tolist():
                    keys.add(key)
                    group_of[key] = CHAR
                if self.bigrams and previous is not None:
                    key = _hash(f"B:{previous.lemma}|{word.lemma}")
                    keys.add(key)
                    group_of[key] = BIGRAM
                    pair_of[key] = (previous.lemma_key, word.lemma_key)
                previous = None if word.flags & _PUNCT else word
            for match in self.match_keywords(lemmas):
                for key in self._keyword_keys(match):
                    keys.add(key)
                    group_of[key] = KEYWORD
            if self.cues:
                for cue in self._doc_cue_ids(words):
                    keys.add(int(self._cue_keys[cue]))
                    group_of[int(self._cue_keys[cue])] = CUE
            per_doc.append(np.fromiter(keys, dtype="uint64", count=len(keys)))
        all_keys, counts = np.unique(np.concatenate(per_doc or [np.empty(0, dtype="uint64")]), return_counts=True)
        keep = counts >= min_df
        self.keys = all_keys[keep]
        self.groups = np.array([group_of[key] for key in self.keys.tolist()], dtype=np.int8)
        # scikit-learn's smooth idf: ln((1 + n) / (1 + df)) + 1.
        self.idf = (np.log((1 + len(docs)) / (1 + counts[keep])) + 1).astype("float64")
        col_of = self._column_lookup()
        codes, cols = [], []
        for key, col in col_of.items():
            pair = pair_of.get(key)
            if pair is not None and self.groups[col] == BIGRAM:
                first, second = col_of.get(pair[0]), col_of.get(pair[1])
                if first is not None and second is not None:
                    codes.append(first * len(self.keys) + second)
                    cols.append(col)
        self._set_bigrams(np.array(codes, dtype=np.int64), np.array(cols, dtype=np.int64))
        if self.spelling:
            self._speller = Speller({form: count for form, count in form_counts.items() if count >= min_df}, dutch_words(fold))

    def read_misspellings(self) -> None:
        """From now on read a word with one typing error as the training messages' word (``nlp.core.spelling``).

        Training calls it once the training messages' rows are made: they keep their words as written, and
        only what the model is then asked to tag is read this way. Each real-style training file left out in
        turn (stop 42), micro-F1 as written 0.902 either way and with typos in 10 % of the left-out words 0.874
        -> 0.893; reading the training messages' misspellings too gave 0.900 and 0.892."""
        if self._speller is not None and not self._reading:
            self._reading = True
            self._reset_caches()

    def _set_bigrams(self, codes: np.ndarray, cols: np.ndarray) -> None:
        order = np.argsort(codes, kind="stable")
        self._bigram_codes, self._bigram_cols = codes[order], cols[order]

    def _doc_cue_ids(self, words: Sequence[Word]) -> list[int]:
        """The cue features of one doc (slow path, for ``fit`` and explanations)."""
        ids: list[int] = []
        for bits, context in _sentence_cue_bits(words, self.sentence_max_tokens):
            ids.extend(cue_ids(bits, context))
        return ids

    def to_disk(self, path, exclude=()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self.keys is not None:
            np.savez(path / VOCAB_FILE, keys=self.keys, groups=self.groups, idf=self.idf, bigram_codes=self._bigram_codes, bigram_cols=self._bigram_cols)
            if self._speller is not None:
                self._speller.save(path)
        table = self._lemma_table()
        if isinstance(table, LemmaTable):
            table.save(path)

    def from_disk(self, path, exclude=()) -> FeatureExtractor:
        file = Path(path) / VOCAB_FILE
        if file.exists():
            with np.load(file) as data:
                self.keys, self.groups, self.idf = data["keys"], data["groups"], data["idf"]
                self._set_bigrams(data["bigram_codes"], data["bigram_cols"])
            self._lemmas = LemmaTable.load(Path(path))
            self._speller = Speller.load(Path(path))
            self._reading = self._speller is not None
            self._reset_caches()
        return self

    # -- features of a batch -------------------------------------------------------------------------

    def featurize(self, docs: Sequence[Doc], *, sentences: bool | None = None, units: bool = False) -> Batch:
        """The TF-IDF rows of a batch: one per message, and (with ``sentences``) one per sentence of
        each message that has two or more. Each row is the same whatever else is in the batch.
        With ``units`` it also says which words own which columns (``Batch.units``), for explanations."""
        sentences = self.sentences if sentences is None else sentences
        n_docs = len(docs)
        n_cols = self.n_columns
        arrays = [doc.to_array(ORTH) for doc in docs]
        lengths = np.fromiter(map(len, arrays), dtype=np.int64, count=n_docs)
        if not n_cols or not lengths.sum():
            return Batch(scipy.sparse.csr_matrix((n_docs, n_cols), dtype="float32"), n_docs, _EMPTY_INT, np.empty((0, 2), dtype=np.int64))
        orths = np.concatenate(arrays).astype("uint64", copy=False)
        unique, inverse = np.unique(orths, return_inverse=True)
        dense = self._resolve(unique)
        token = dense[inverse]  # dense vocabulary index of every token
        flags = self._flags[token]
        doc_of = np.repeat(np.arange(n_docs), lengths)
        doc_start = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(lengths, out=doc_start[1:])
        first_of_doc = np.zeros(len(orths), dtype=bool)
        first_of_doc[doc_start[:-1][lengths > 0]] = True
        word = (flags & _SPACE) == 0

        # Sentences: a break after a sentence end or a line break; the first token of a doc starts one.
        boundary = first_of_doc.copy()
        boundary[1:] |= (flags[:-1] & (_BREAK_AFTER | _BREAK)) != 0
        if self.sentence_max_tokens:
            boundary |= _long_run_breaks(boundary, self.sentence_max_tokens)
        raw_sentence = np.cumsum(boundary) - 1
        word_index = np.flatnonzero(word)
        sentence_ids, word_sentence = np.unique(raw_sentence[word_index], return_inverse=True)
        sentence_first = np.r_[0, np.flatnonzero(np.diff(word_sentence)) + 1] if len(word_index) else _EMPTY_INT
        sentence_doc = doc_of[word_index][sentence_first]
        split = sentences & (np.bincount(sentence_doc, minlength=n_docs) >= 2)
        kept_sentence = split[sentence_doc]
        sentence_row = np.full(len(sentence_ids), -1, dtype=np.int64)
        sentence_row[kept_sentence] = n_docs + np.arange(int(kept_sentence.sum()))
        n_rows = n_docs + int(kept_sentence.sum())
        token_sentence = np.full(len(orths), -1, dtype=np.int64)
        token_sentence[word_index] = word_sentence

        # Rows × slots, where a slot is a vocabulary entry of the batch (its unit of columns) or one
        # column added directly (bigrams, longer keywords, cues); then (rows × slots) @ (slots × columns).
        slot_rows = [doc_of[word_index], sentence_row[word_sentence]]
        slot_ids = [inverse[word_index], inverse[word_index]]
        direct_cols, direct_docs, direct_sentences = [], [], []
        bigram_pos = bigram_cols = _EMPTY_INT
        keyword_spans: list[tuple[int, int, int]] = []
        cue_sentence = cue_cols = _EMPTY_INT
        if self.bigrams and len(self._bigram_codes):
            lemma_col = self._lemma_col[token]
            pair = np.flatnonzero(word[1:] & word[:-1] & ~first_of_doc[1:] & ((flags[:-1] & _PUNCT) == 0) & (lemma_col[:-1] >= 0) & (lemma_col[1:] >= 0)) + 1
            codes = lemma_col[pair - 1] * n_cols + lemma_col[pair]
            found = np.minimum(np.searchsorted(self._bigram_codes, codes), len(self._bigram_codes) - 1)
            known = self._bigram_codes[found] == codes
            bigram_pos, bigram_cols = pair[known], self._bigram_cols[found[known]]
            direct_cols.append(bigram_cols)
            direct_docs.append(doc_of[bigram_pos])
            direct_sentences.append(sentence_row[token_sentence[bigram_pos]])
        pairs = self._pair_codes()
        if len(pairs) and len(orths) > 1:
            lemma_id = self._lemma_id[token]
            codes = lemma_id[:-1] << 32 | lemma_id[1:]
            starts = np.flatnonzero(np.isin(codes, pairs) & ~first_of_doc[1:])
            if len(starts):
                cols, docs_, sentences_ = self._longer_keywords(starts, lemma_id, doc_of, doc_start, token_sentence, sentence_row, keyword_spans)
                direct_cols.append(cols)
                direct_docs.append(docs_)
                direct_sentences.append(sentences_)
        if self.cues and len(word_index):
            cue_sentence, cue_cols = self._sentence_cues(token[word_index], word_sentence, sentence_doc)
            direct_cols.append(cue_cols)
            direct_docs.append(sentence_doc[cue_sentence])
            direct_sentences.append(sentence_row[cue_sentence])
        n_slots = len(unique)
        if direct_cols:
            cols = np.concatenate(direct_cols)
            direct_slots, slot_of = np.unique(cols, return_inverse=True)
            slot_rows += [np.concatenate(direct_docs), np.concatenate(direct_sentences)]
            slot_ids += [n_slots + slot_of, n_slots + slot_of]
        else:
            direct_slots = _EMPTY_INT
        rows = np.concatenate(slot_rows)
        ids = np.concatenate(slot_ids)
        inside = rows >= 0
        counts = scipy.sparse.csr_matrix((np.ones(int(inside.sum())), (rows[inside], ids[inside])), shape=(n_rows, n_slots + len(direct_slots)))
        ptr = self._unit_ptr
        unit_lengths = ptr[dense + 1] - ptr[dense]
        unit_index = np.repeat(ptr[dense] - np.r_[0, np.cumsum(unit_lengths)[:-1]], unit_lengths) + np.arange(int(unit_lengths.sum()))
        slot_columns = scipy.sparse.csr_matrix(
            (
                np.ones(len(unit_index) + len(direct_slots)),
                np.concatenate([self._unit_cols[unit_index], direct_slots]),
                np.r_[0, np.cumsum(unit_lengths), unit_lengths.sum() + np.arange(1, len(direct_slots) + 1)],
            ),
            shape=(n_slots + len(direct_slots), n_cols),
        )
        # The product lists each row's columns in an order set by that row's own entries (sorted
        # slots: vocabulary entries by ORTH, then columns), so sums over a row do not depend on
        # the rest of the batch.
        X = counts @ slot_columns
        # Not ``astype``: scipy would sort every row first, which costs more than all the rest.
        X = scipy.sparse.csr_matrix((self._weigh(X), X.indices, X.indptr), shape=X.shape)
        spans = _sentence_spans(sentence_ids[kept_sentence], raw_sentence, word_index, doc_start[doc_of])
        batch = Batch(X, n_docs, sentence_doc[kept_sentence], spans)
        if units:
            batch.units = self._batch_units(
                orths,
                token,
                word_index,
                word_sentence,
                doc_of,
                doc_start,
                unit_index,
                unit_lengths,
                inverse,
                bigram_pos,
                bigram_cols,
                keyword_spans,
                cue_sentence,
                cue_cols,
            )
        return batch

    def _batch_units(
        self,
        orths,
        token,
        word_index,
        word_sentence,
        doc_of,
        doc_start,
        unit_index,
        unit_lengths,
        inverse,
        bigram_pos,
        bigram_cols,
        keyword_spans,
        cue_sentence,
        cue_cols,
    ) -> Units:
        """Which words own which columns in a batch (see ``Units``)."""
        names = self._word_names()
        # Each word owns its vocabulary entry's unit: lemma, n-grams, one-word keywords.
        slot_start = np.r_[0, np.cumsum(unit_lengths)]
        slot_cols = self._unit_cols[unit_index]
        own = unit_lengths[inverse[word_index]]
        first = slot_start[inverse[word_index]]
        parts = [
            (
                np.repeat(word_index, own),
                slot_cols[np.repeat(first - np.r_[0, np.cumsum(own)[:-1]], own) + np.arange(int(own.sum()))],
                np.repeat(names[token[word_index]], own),
            )
        ]
        # Each word pair owns its bigram, shown as the two words.
        if len(bigram_pos):
            pair_names = np.array([self._pair_name(int(a), int(b)) for a, b in zip(token[bigram_pos - 1].tolist(), token[bigram_pos].tolist(), strict=True)])
            parts.append((bigram_pos - 1, bigram_cols, pair_names))
        # Each longer keyword owns its columns, shown as its words.
        if keyword_spans:
            starts, cols, keyword_names = [], [], []
            for start, end, col in keyword_spans:
                starts.append(start)
                cols.append(col)
                keyword_names.append(
                    self._name_index(
                        " ".join(self.nlp.vocab.strings[int(o)] for o in orths[start:end].tolist() if not self._flags[self._index[int(o)]] & _SPACE)
                    )
                )
            parts.append((np.array(starts, dtype=np.int64), np.array(cols, dtype=np.int64), np.array(keyword_names, dtype=np.int64)))
        # Each cue word owns its sentence's cue columns.
        if len(cue_cols):
            cue_words = np.flatnonzero(self._cue_bits[token[word_index]] != 0)
            by_sentence = np.argsort(cue_sentence, kind="stable")
            sentence_sorted = cue_sentence[by_sentence]
            lo = np.searchsorted(sentence_sorted, word_sentence[cue_words], side="left")
            hi = np.searchsorted(sentence_sorted, word_sentence[cue_words], side="right")
            count = hi - lo
            index = np.repeat(lo - np.r_[0, np.cumsum(count)[:-1]], count) + np.arange(int(count.sum()))
            tokens = np.repeat(word_index[cue_words], count)
            parts.append((tokens, cue_cols[by_sentence][index], names[token[tokens]]))
        position = np.concatenate([p[0] for p in parts])
        order = np.argsort(position, kind="stable")
        position = position[order]
        doc = doc_of[position]
        return Units(
            doc_ptr=np.searchsorted(doc, np.arange(len(doc_start))),
            start=position - doc_start[doc],
            col=np.concatenate([p[1] for p in parts])[order],
            name=np.concatenate([p[2] for p in parts])[order],
            names=self._names,
        )

    def _name_index(self, text: str) -> int:
        """The index of a text's shown form (folded) among the names, or -1 when not worth showing."""
        found = self._name_of_text.get(text)
        if found is None:
            shown = fold(text).strip()
            if not _worth_showing(shown):
                found = -1
            else:
                found = self._name_ids.get(shown)
                if found is None:
                    found = self._name_ids[shown] = len(self._names)
                    self._names.append(shown)
            self._name_of_text[text] = found
        return found

    def _word_names(self) -> np.ndarray:
        """The name index of every resolved vocabulary entry (grown as entries are resolved)."""
        known = len(self._word_name)
        if known < len(self._index):
            texts = [None] * (len(self._index) - known)
            for orth, d in self._index.items():
                if d >= known:
                    texts[d - known] = self.word(orth).text
            self._word_name = np.concatenate([self._word_name, np.array([self._name_index(t) for t in texts], dtype=np.int64)])
        return self._word_name

    def _pair_name(self, first: int, second: int) -> int:
        key = (first, second)
        found = self._pair_names.get(key)
        if found is None:
            found = self._pair_names[key] = self._name_index(f"{self._texts[first]} {self._texts[second]}")
        return found

    def _longer_keywords(self, starts, lemma_id, doc_of, doc_start, token_sentence, sentence_row, spans: list[tuple[int, int, int]]):
        """Keywords of two or more lemmas starting at the candidate tokens (their first two lemmas match)."""
        col_of = self._column_lookup()
        patterns = self._keyword_patterns()
        strings = self._lemma_strings
        cols, doc_rows, sentence_rows = [], [], []
        for start in starts.tolist():
            d = int(doc_of[start])
            first = strings[lemma_id[start]]
            for pattern, code, keyword in patterns.get(first, ()):
                end = start + len(pattern)
                if len(pattern) < 2 or end > doc_start[d + 1]:
                    continue
                if all(strings[lemma_id[k]] == pattern[k - start] for k in range(start + 1, end)):
                    for key in self._keyword_keys(KeywordMatch(code, keyword, start, end)):
                        col = col_of.get(key)
                        if col is not None:
                            cols.append(col)
                            doc_rows.append(d)
                            sentence_rows.append(sentence_row[token_sentence[start]])
                            spans.append((start, end, col))
        return np.array(cols, dtype=np.int64), np.array(doc_rows, dtype=np.int64), np.array(sentence_rows, dtype=np.int64)

    def _batch_cues(self, word_tokens, word_sentence, sentence_doc, sentence_first, sentence_row):
        """Cue columns per sentence (and so per message), the channel carried over within a message."""
        sentence, cols = self._sentence_cues(word_tokens, word_sentence, sentence_doc)
        return cols, sentence_doc[sentence], sentence_row[sentence]

    def _sentence_cues(self, word_tokens: np.ndarray, word_sentence: np.ndarray, sentence_doc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sentence, column) of every cue feature: each sentence's channels and problems, and
        their pairs, the channels carried over from an earlier sentence of the same message when a
        sentence names none (as ``cues.cue_ids``)."""
        n_sentences = len(sentence_doc)
        bits = np.zeros(n_sentences, dtype=np.int64)
        np.bitwise_or.at(bits, word_sentence, self._cue_bits[word_tokens])
        channels = bits & CHANNEL_MASK
        order = np.arange(n_sentences)
        last = np.maximum.accumulate(np.where(channels != 0, order, -1))
        doc_first = np.r_[0, np.flatnonzero(np.diff(sentence_doc)) + 1]
        first_sentence = np.repeat(doc_first, np.diff(np.r_[doc_first, n_sentences]))
        upto = np.where(last >= first_sentence, channels[np.maximum(last, 0)], 0)
        carried = np.zeros(n_sentences, dtype=np.int64)
        carried[1:] = np.where(first_sentence[1:] == order[1:], 0, upto[:-1])
        paired = np.where(channels != 0, channels, carried)
        n_channels, n_problems = len(CHANNELS), len(PROBLEMS)
        channel_bits = (channels[:, None] >> np.arange(n_channels)) & 1
        problem_bits = ((bits >> n_channels)[:, None] >> np.arange(n_problems)) & 1
        pair_bits = ((paired[:, None] >> np.arange(n_channels)) & 1)[:, :, None] & problem_bits[:, None, :]
        present = np.hstack([channel_bits, problem_bits, pair_bits.reshape(n_sentences, -1)]).astype(bool)
        sentence, cue = np.nonzero(present)
        cols = self._cue_columns()[cue]
        known = cols >= 0
        return sentence[known], cols[known]

    def _cue_columns(self) -> np.ndarray:
        if self._cue_cols is None:
            col_of = self._column_lookup()
            self._cue_cols = np.array([col_of.get(int(key), -1) for key in self._cue_keys], dtype=np.int64)
        return self._cue_cols

    def _weigh(self, X: scipy.sparse.csr_matrix) -> np.ndarray:
        """``(1 + log count) × idf``, each group of each row scaled to unit length, then by the
        group's weight; float32, in ``X``'s order of entries."""
        if self._column_arrays is None:
            weights = np.array([self.group_weights[group] for group in GROUPS], dtype="float32")
            self._column_arrays = (self.idf.astype("float32"), self.groups.astype(np.int32), weights)
        idf, groups, group_weights = self._column_arrays
        columns = X.indices
        values = (1.0 + np.log(X.data.astype("float32"))) * idf[columns]
        group = groups[columns]
        cell = np.repeat(np.arange(0, X.shape[0] * len(GROUPS), len(GROUPS), dtype=np.int32), np.diff(X.indptr)) + group
        norms = np.sqrt(np.bincount(cell, weights=values * values, minlength=X.shape[0] * len(GROUPS))).astype("float32")
        return values * (group_weights[group] / np.maximum(norms[cell], 1e-12))

    # -- explanations ---------------------------------------------------------------------------------

    # -- the spaCy component --------------------------------------------------------------------------

    def __call__(self, doc: Doc) -> Doc:
        doc.user_data[FEATURES_KEY] = _doc_part(self.featurize([doc]), 0)
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 256) -> Iterable[Doc]:
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._annotate(batch)
                batch = []
        if batch:
            yield from self._annotate(batch)

    def _annotate(self, docs: list[Doc]) -> Iterable[Doc]:
        features = self.featurize(docs)
        for i, doc in enumerate(docs):
            doc.user_data[FEATURES_KEY] = _doc_part(features, i)
            yield doc


def _worth_showing(text: str) -> bool:
    words = text.split()
    if not words or not any(ch.isalnum() for ch in text):
        return False
    return not all(word in STOP_WORDS or len(word) < 2 for word in words)


def _is_punct(text: str) -> bool:
    return all(not ch.isalnum() for ch in text)


def _sentence_token_spans(words: Sequence[Word], max_tokens: int = 0) -> list[tuple[int, int]]:
    """Token spans of the sentences that hold a word, as ``featurize`` cuts them (with ``max_tokens``,
    a run longer than that cut in equal parts, as ``_long_run_breaks``)."""
    starts = [i for i in range(len(words)) if not i or words[i - 1].flags & (_BREAK_AFTER | _BREAK)]
    spans = []
    for start, end in zip(starts, [*starts[1:], len(words)], strict=True):
        length = end - start
        size = _piece_size(length, max_tokens) if max_tokens else length
        for piece in range(start, end, max(size, 1)):
            piece_end = min(piece + size, end)
            if any(not word.flags & _SPACE for word in words[piece:piece_end]):
                spans.append((piece, piece_end))
    return spans


def _piece_size(length, max_tokens: int):
    """The length of the equal parts a run of ``length`` tokens is cut in, none longer than ``max_tokens``."""
    pieces = -(-length // max_tokens)
    return -(-length // pieces)


def _long_run_breaks(boundary: np.ndarray, max_tokens: int) -> np.ndarray:
    """More sentence starts: a run of tokens with no sentence end in it (a message typed without
    punctuation) longer than ``max_tokens`` is cut in equal parts, so its sentences still have rows."""
    run = np.cumsum(boundary) - 1
    run_start = np.flatnonzero(boundary)
    run_length = np.diff(np.r_[run_start, len(boundary)])
    position = np.arange(len(boundary)) - run_start[run]
    size = _piece_size(run_length, max_tokens)[run]
    return (position > 0) & (position % size == 0)


def _sentence_cue_bits(words: Sequence[Word], max_tokens: int = 0) -> list[tuple[int, int]]:
    """(cue bits, channels carried over) of each sentence of one doc."""
    result, context = [], 0
    for start, end in _sentence_token_spans(words, max_tokens):
        bits = 0
        for word in words[start:end]:
            bits |= word.cues
        result.append((bits, context))
        if bits & CHANNEL_MASK:
            context = bits & CHANNEL_MASK
    return result


def _sentence_spans(kept_ids: np.ndarray, raw_sentence: np.ndarray, word_index: np.ndarray, token_doc_start: np.ndarray) -> np.ndarray:
    """(start, end) token positions within their doc of each kept sentence (its first to last word)."""
    if not len(kept_ids):
        return np.empty((0, 2), dtype=np.int64)
    sentence_of_word = raw_sentence[word_index]
    first = word_index[np.searchsorted(sentence_of_word, kept_ids, side="left")]
    last = word_index[np.searchsorted(sentence_of_word, kept_ids, side="right") - 1]
    return np.stack([first - token_doc_start[first], last + 1 - token_doc_start[last]], axis=1)


@dataclass(frozen=True)
class DocFeatures:
    """One message's rows (whole message first, then its sentences), as stored on a doc."""

    X: scipy.sparse.csr_matrix
    sentence_spans: np.ndarray


def _doc_part(batch: Batch, i: int) -> DocFeatures:
    rows = batch.doc_rows(i)
    mask = batch.sentence_doc == i
    return DocFeatures(batch.X[rows], batch.sentence_spans[mask])


def features_of(doc: Doc) -> DocFeatures:
    features = doc.user_data.get(FEATURES_KEY)
    if features is None:
        raise ValueError("Doc has no tagger features: run it through the whole pipeline (handvest_features) first.")
    return features


@Language.factory(
    "handvest_features",
    default_config={
        "keywords": {},
        "char_ngrams": [3, 5],
        "bigrams": True,
        "sentences": True,
        "group_weights": {"lemma": 1.0, "bigram": 1.0, "char": 1.0, "keyword": 1.0, "cue": 1.0},
        "cues": True,
        "sentence_max_tokens": 0,
        "spelling": False,
    },
)
def make_feature_extractor(nlp, name, keywords, char_ngrams, bigrams, sentences, group_weights, cues, sentence_max_tokens, spelling):
    options = {"char_ngrams": char_ngrams, "bigrams": bigrams, "sentences": sentences, "group_weights": group_weights, "cues": cues}
    options.update(sentence_max_tokens=sentence_max_tokens, spelling=spelling)
    return FeatureExtractor(nlp, name, keywords=keywords, **options)


# -- scores ------------------------------------------------------------------------------------------


def pooled_scores(batch: Batch, weights: np.ndarray, bias: np.ndarray, sentence_weight: float) -> np.ndarray:
    """Linear scores (before the sigmoid) per message: ``whole + w × max(0, best sentence − whole)``."""
    return pool(batch, np.asarray(batch.X @ weights, dtype="float64") + bias, sentence_weight)


def pool(batch: Batch, scores: np.ndarray, sentence_weight: float) -> np.ndarray:
    """Pool the linear scores of every row of ``batch`` into one per message (see ``pooled_scores``).

    A sentence row without any known feature never counts (its score would be the bias alone). A
    message's score depends on its own rows only: it is the same in any batch.
    """
    whole = scores[: batch.n_docs]
    if sentence_weight <= 0 or not len(batch.sentence_doc):
        return whole
    sentence_scores = scores[batch.n_docs :].copy()
    empty = np.diff(batch.X.indptr)[batch.n_docs :] == 0
    sentence_scores[empty] = -np.inf
    starts = np.r_[0, np.flatnonzero(np.diff(batch.sentence_doc)) + 1]
    best = np.maximum.reduceat(sentence_scores, starts, axis=0)
    lift = np.zeros_like(whole)
    docs = batch.sentence_doc[starts]
    lift[docs] = np.maximum(best - whole[docs], 0.0)
    return whole + sentence_weight * lift


def best_sentence_rows(batch: Batch, scores: np.ndarray, doc: int) -> tuple[np.ndarray, np.ndarray]:
    """For one message: per label, the row of its best sentence and whether it lifted the score."""
    rows = np.array(batch.doc_rows(doc))
    sentence_rows = rows[1:]
    if not len(sentence_rows):
        return np.full(scores.shape[1], doc), np.zeros(scores.shape[1], dtype=bool)
    candidate = scores[sentence_rows].copy()
    candidate[np.diff(batch.X.indptr)[sentence_rows] == 0] = -np.inf
    best = candidate.argmax(axis=0)
    return sentence_rows[best], candidate[best, np.arange(scores.shape[1])] > scores[doc]
