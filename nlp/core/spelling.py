"""A word typed with one error, read as the word the training messages use (``afspaak`` → ``afspraak``).

Citizens misspell ("telefonich", "gebelt", "ontvangstbevsetiging"). A misspelt word has no lemma of
its own: its lemma, its charter keyword and its cue are lost, and only some of its character n-grams
still match. The speller knows the word forms of the training messages (each in at least ``min_df``
of them, so a one-off typo is never a target) and corrects a word to the most frequent of those one
edit away (a letter left out, typed twice or wrong, two letters swapped) when the word is no Dutch
word: not in the lemma table, and not among the 343,000 words of pyspellchecker's Dutch word list.
Without that list one edit turns real words into others ("lacht" → "klacht", "kasten" → "kosten");
with it, only words no Dutch text uses are read as another. Words under five letters are left as they
are.

The word list is kept with the model as the sorted hashes of its folded words (2.7 MiB, read like the
lemma table), so tagging neither imports pyspellchecker nor holds its dictionary. The lookup is
SymSpell's (``symspellpy``: symmetric deletions, Damerau distance), in a few dictionary lookups; it runs
once per new vocabulary entry (the features cache every word), so tagging pays for it only on words it
has not met before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
from spacy.strings import get_string_id

from .lemmas import find, pack_strings, unpack_strings

MIN_LENGTH = 5
SPELLING_FILE = "spelling.npz"


def correctable(form: str) -> bool:
    """A form the speller may correct or correct to: letters only, five or more."""
    return len(form) >= MIN_LENGTH and form.isalpha()


class WordSet:
    """Membership in a large word list, as sorted string hashes (the lemma table's ``get_string_id``)."""

    def __init__(self, keys: np.ndarray):
        self.keys = keys

    @classmethod
    def of(cls, words: Iterable[str]) -> WordSet:
        return cls(np.unique(np.fromiter((get_string_id(word) for word in words), dtype=np.uint64)))

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, word: str) -> bool:
        return find(self.keys, word) >= 0


_DUTCH: WordSet | None = None


def dutch_words(fold) -> WordSet:
    """pyspellchecker's Dutch word list, each word folded by ``fold`` (read once per process; training only)."""
    global _DUTCH
    if _DUTCH is None:
        from spellchecker import SpellChecker

        _DUTCH = WordSet.of({fold(word) for word in SpellChecker(language="nl", distance=1).word_frequency.words()})
    return _DUTCH


class Speller:
    """Corrects a folded word form that is no Dutch word to a known one at edit distance 1; ``None`` when there is none."""

    def __init__(self, counts: Mapping[str, int], words: WordSet):
        # In the order of the forms, not of the messages or of a set's hashing: SymSpell breaks a tie of distance
        # and count by the order its entries were made, so the same corpus always reads a word the same way.
        self.counts = {form: int(counts[form]) for form in sorted(counts) if correctable(form)}
        self.words = words
        self._index = None

    def __len__(self) -> int:
        return len(self.counts)

    def save(self, folder: Path) -> None:
        counts = np.fromiter(self.counts.values(), dtype=np.int64, count=len(self.counts))
        np.savez(folder / SPELLING_FILE, forms=pack_strings(list(self.counts)), counts=counts, words=self.words.keys)

    @classmethod
    def load(cls, folder: Path) -> Speller | None:
        """The speller saved in ``folder``, or None (a model saved without one)."""
        file = folder / SPELLING_FILE
        if not file.exists():
            return None
        with np.load(file) as data:
            return cls(dict(zip(unpack_strings(data["forms"]), data["counts"].tolist(), strict=True)), WordSet(data["words"]))

    def _lookup(self):
        if self._index is None:
            # Imported here: only a model with a speller needs it, and only once a word is unknown.
            from symspellpy import SymSpell

            index = SymSpell(max_dictionary_edit_distance=1, prefix_length=7)
            for form, count in self.counts.items():
                index.create_dictionary_entry(form, count)
            self._index = index
        return self._index

    def correct(self, form: str) -> str | None:
        """The known form ``form`` was probably meant as, or ``None`` (known, a Dutch word, too short, none near)."""
        if form in self.counts or not correctable(form) or not self.counts or form in self.words:
            return None
        from symspellpy import Verbosity

        found = self._lookup().lookup(form, Verbosity.TOP, max_edit_distance=1)
        return found[0].term if found and found[0].distance > 0 else None
