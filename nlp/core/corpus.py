"""The corpus: messages with their kind and norm codes, read from ``nlp/corpus/*.jsonl``.

Each line is ``{"text": ..., "kind": "complaint"|"suggestion"|"other", "norms": [codes]}``
(DESIGN.md, "Contracts"). The validation split that chooses the thresholds is carved out of
the training files by a hash of each text, so it is the same on every machine and run.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("complaint", "suggestion", "other")
STYLES = ("clean", "real")
# Files whose name holds this are written as real citizens write (long stories, third-person
# accounts, side remarks): ``train-real-*.jsonl`` and ``heldout-real.jsonl``.
REAL_MARK = "-real"


def style_of(path: str | Path) -> str:
    """The style of a corpus file: "real" for a real-style file, else "clean"."""
    return "real" if REAL_MARK in Path(path).stem else "clean"


@dataclass(frozen=True)
class Message:
    """One annotated message of the corpus (or one officer-confirmed case).

    ``style`` is not part of the corpus format: it comes from the file's name (``style_of``), and
    officers' cases are real text.
    """

    text: str
    kind: str
    norms: tuple[str, ...] = field(default_factory=tuple)
    style: str = "clean"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Unknown kind {self.kind!r}; expected one of {', '.join(KINDS)}.")
        if self.style not in STYLES:
            raise ValueError(f"Unknown style {self.style!r}; expected one of {', '.join(STYLES)}.")
        object.__setattr__(self, "norms", tuple(sorted(set(self.norms))))

    def to_dict(self) -> dict:
        return {"text": self.text, "kind": self.kind, "norms": list(self.norms)}


def read_jsonl(path: str | Path) -> list[Message]:
    """Read one corpus file; a bad line stops with its file and line number."""
    messages = []
    style = style_of(path)
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                messages.append(Message(text=row["text"], kind=row["kind"], norms=tuple(row.get("norms") or ()), style=style))
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{number}: {error}") from error
    return messages


def read_corpus(paths: Iterable[str | Path]) -> list[Message]:
    """Read several corpus files in the order given."""
    messages: list[Message] = []
    for path in paths:
        messages.extend(read_jsonl(path))
    return messages


def restrict_to_labels(messages: Sequence[Message], labels: Iterable[str]) -> tuple[list[Message], Counter]:
    """Drop norm codes that are not (or no longer) labels; the message itself stays.

    Returns the messages and a count of the dropped codes, for the training report.
    """
    allowed = set(labels)
    dropped: Counter = Counter()
    kept = []
    for message in messages:
        unknown = [code for code in message.norms if code not in allowed]
        dropped.update(unknown)
        if unknown:
            message = Message(message.text, message.kind, tuple(code for code in message.norms if code in allowed), message.style)
        kept.append(message)
    return kept, dropped


def text_hash(text: str) -> int:
    """A stable 32-bit hash of a text: splits by it are the same on every machine and run,
    whatever the order of the files."""
    return int.from_bytes(hashlib.sha1(text.encode("utf-8")).digest()[:4], "big")


def is_validation(text: str, share: float) -> bool:
    """Whether a text falls in the validation split: a stable hash of the text, not its position."""
    return text_hash(text) / 2**32 < share


def split_validation(messages: Sequence[Message], share: float) -> tuple[list[Message], list[Message]]:
    """(training part, validation part) of the training messages."""
    train, validation = [], []
    for message in messages:
        (validation if is_validation(message.text, share) else train).append(message)
    return train, validation


@dataclass(frozen=True)
class Fold:
    """One part of a split: the messages to train on and the messages to score."""

    name: str
    training: list[Message]
    test: list[Message]


def random_folds(messages: Sequence[Message], k: int) -> list[Fold]:
    """``k`` folds by a stable hash of each text (every message is in exactly one fold's test part).
    Used by cross-validation and by training's out-of-fold calibration scores."""
    if k < 2:
        raise ValueError("Cross-validation needs at least two folds.")
    parts = [(text_hash(message.text) % k, message) for message in messages]  # one hash per text
    return [Fold(f"fold {i + 1}", [m for part, m in parts if part != i], [m for part, m in parts if part == i]) for i in range(k)]


def corpus_digest(messages: Sequence[Message]) -> str:
    """A hash of the corpus contents (texts, kinds, norms and styles, in order), independent of file layout."""
    digest = hashlib.sha256()
    for message in messages:
        digest.update(json.dumps({**message.to_dict(), "style": message.style}, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def label_counts(messages: Sequence[Message], labels: Mapping[str, object] | Sequence[str]) -> dict[str, int]:
    counts = Counter(code for message in messages for code in message.norms)
    return {code: counts.get(code, 0) for code in labels}
