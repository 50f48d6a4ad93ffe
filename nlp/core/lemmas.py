"""The Dutch lemma lookup table, compact: what the features read instead of spaCy's own table.

spaCy's lookup lemmatizer keeps its 213,000 Dutch entries as a Python dict of hashes and strings:
about 66 MiB in every process that loads a model, for a table that is only ever read. Here the same
entries are two sorted arrays (key hash, index of the lemma) and the distinct lemmas once, about
7 MiB, saved with the features so a loaded model needs no lemmatizer at all. A lookup gives exactly
what ``Table.get`` gives (the same ``get_string_id`` hash of the lowercased text).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from spacy.strings import get_string_id

LEMMAS_FILE = "lemmas.npz"
SEPARATOR = "\x00"  # never in a word


def find(keys: np.ndarray, text: str) -> int:
    """The position of ``text``'s string hash (spaCy's ``get_string_id``) in the sorted ``keys``, or -1."""
    key = np.uint64(get_string_id(text))
    position = int(np.searchsorted(keys, key))
    return position if position < len(keys) and keys[position] == key else -1


def pack_strings(strings: list[str]) -> np.ndarray:
    """Strings as one byte array for ``np.savez`` (joined by ``SEPARATOR``); ``unpack_strings`` reads them back."""
    return np.frombuffer(SEPARATOR.join(strings).encode("utf-8"), dtype=np.uint8)


def unpack_strings(packed: np.ndarray) -> list[str]:
    return packed.tobytes().decode("utf-8").split(SEPARATOR) if len(packed) else []


class LemmaTable:
    """Read-only ``text → lemma``, from a spaCy lookup ``Table`` (``from_table``) or a saved file."""

    def __init__(self, keys: np.ndarray, index: np.ndarray, lemmas: list[str]):
        self.keys, self.index, self.lemmas = keys, index, lemmas

    @classmethod
    def from_table(cls, table: Mapping[int, str]) -> LemmaTable:
        items = sorted(table.items())
        distinct: dict[str, int] = {}
        index = np.fromiter((distinct.setdefault(lemma, len(distinct)) for _, lemma in items), dtype=np.int32, count=len(items))
        keys = np.fromiter((key for key, _ in items), dtype=np.uint64, count=len(items))
        return cls(keys, index, list(distinct))

    def __len__(self) -> int:
        return len(self.keys)

    def get(self, text: str, default: str | None = None) -> str | None:
        position = find(self.keys, text) if len(self.keys) else -1
        return self.lemmas[int(self.index[position])] if position >= 0 else default

    def save(self, folder: Path) -> None:
        np.savez(folder / LEMMAS_FILE, keys=self.keys, index=self.index, lemmas=pack_strings(self.lemmas))

    @classmethod
    def load(cls, folder: Path) -> LemmaTable | None:
        file = folder / LEMMAS_FILE
        if not file.exists():
            return None
        with np.load(file) as data:
            return cls(data["keys"], data["index"], unpack_strings(data["lemmas"]))
