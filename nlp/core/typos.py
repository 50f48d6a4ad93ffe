"""Typing errors put into annotated messages, to measure how the tagger holds up on misspelt text.

``python -m nlp evaluate FILE --typos 0.1`` scores the messages as they are written and, beside that,
with typing errors in about that share of their words. Citizens misspell; the held-out files are
typed with care. The errors are the four a typist makes (two letters swapped, one left out, one
typed twice, a key next to the right one hit), never in the first letter (people rarely get that
wrong) and never in words under four letters. The same seed gives the same errors, so two models
can be compared on the same misspelt text. The labels stay: a misspelt complaint is still about
the same norm.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Sequence

from .corpus import Message

# Neighbouring keys on a QWERTY keyboard (the Dutch layout is QWERTY too).
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
NEIGHBOURS = {
    key: "".join(row[j] for r, row in enumerate(_ROWS) for j in range(len(row)) if abs(r - i) <= 1 and abs(j - col) <= 1 and (r, j) != (i, col))
    for i, keys in enumerate(_ROWS)
    for col, key in enumerate(keys)
}
_WORD = re.compile(r"[^\W\d_]+")
MIN_LENGTH = 4


def misspell(word: str, rng: random.Random) -> str:
    """The word with one typing error, not in its first letter; a word under four letters as it is."""
    if len(word) < MIN_LENGTH:
        return word
    at = rng.randrange(1, len(word) - 1)
    error = rng.randrange(4)
    if error == 0:  # two letters swapped
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    if error == 1:  # a letter left out
        return word[:at] + word[at + 1 :]
    if error == 2:  # a letter typed twice
        return word[:at] + word[at] + word[at:]
    neighbours = NEIGHBOURS.get(word[at].lower())
    if not neighbours:  # an accented letter: left out instead
        return word[:at] + word[at + 1 :]
    key = rng.choice(neighbours)
    return word[:at] + (key.upper() if word[at].isupper() else key) + word[at + 1 :]


def with_typos(text: str, share: float, rng: random.Random) -> str:
    """The text with a typing error in each word (of four letters or more) with probability ``share``."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"the share of misspelt words is between 0 and 1, not {share}")
    return _WORD.sub(lambda match: misspell(match.group(), rng) if rng.random() < share else match.group(), text)


def misspelt(messages: Sequence[Message], share: float, *, seed: int = 0) -> list[Message]:
    """The messages with typing errors in about ``share`` of their words; kinds, norms and styles kept."""
    rng = random.Random(seed)
    return [dataclasses.replace(message, text=with_typos(message.text, share, rng)) for message in messages]
