"""Which other cases are probably about the same event: for the officer to link or merge.

Neighbours write about the same broken lift, the same afternoon without a phone line or the same
lost batch of letters, each in their own words; one citizen writes twice. A case is compared with
the open and recent cases by:

- **text**: TF-IDF cosine over word stems (folded words cut to ``STEM`` letters, stop words left
  out), the idf taken from the compared cases themselves, so words every complaint uses weigh
  little;
- **norm**: the two share a norm (suggested or confirmed, not rejected);
- **street**: both name the same street (``Voorstraat``, ``Kerkpad``, ``Oude Ictmuiden``);
- **sender**: the same sender (e-mail address, or name and address) within ``window_days``.

The weights say how much each counts beside the text; a case is suggested only from
``min_score`` on, at most ``limit`` of them, best first. Nothing here knows Django: the Django
layer (``cases.tagging.similar_cases``) picks the candidates and reads their fields.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

from spacy.lang.nl.stop_words import STOP_WORDS

STEM = 6
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Dutch street names: a capitalised word ending in a street word ("Voorstraat", "Kerkpad",
# "Noorderhaven"); of a name of two words the last ("Sint Jacobstraat" → "jacobstraat").
_STREET_WORDS = (
    "straat|weg|laan|plein|gracht|kade|dijk|pad|steeg|singel|hof|park|haven|wal|dreef|markt|plaats|buurt|"
    "zijl|zijde|rak|poort|burg|stede|ring|baan|hoek|erf|tuin|wijk|veld|dam"
)
_STREET = re.compile(rf"\b([A-Z][a-zé]*(?:{_STREET_WORDS}))\b")
# Capitalised words that end like a street but are not one.
_NOT_STREETS = frozenset({"parkeerplaats", "werkplaats", "woonplaats", "verblijfplaats", "marktplaats", "standplaats", "speeltuin", "kinderopvang", "website"})


def fold(text: str) -> str:
    text = text.lower()
    if text.isascii():
        return text
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def stems(text: str) -> list[str]:
    """The word stems of a text: folded words of three letters or more, no stop words, cut to ``STEM`` letters."""
    words = (fold(word) for word in _WORD.findall(text))
    return [word[:STEM] for word in words if len(word) > 2 and word not in STOP_WORDS]


def streets_in(text: str) -> frozenset[str]:
    """The street names a text mentions (folded), e.g. ``{"voorstraat", "kerkpad"}``."""
    found = {fold(match) for match in _STREET.findall(text or "")}
    return frozenset(name for name in found if name not in _NOT_STREETS and len(name) > 5)


@dataclass(frozen=True)
class CaseSketch:
    """What the comparison needs of one case."""

    key: Hashable
    text: str
    day: int  # date of receipt, as a day number (``date.toordinal()``)
    norms: frozenset[str] = frozenset()
    sender: str = ""  # e-mail address, or name and address; '' when unknown
    streets: frozenset[str] = field(default=frozenset())


@dataclass(frozen=True)
class Similar:
    key: Hashable
    score: float
    text_similarity: float
    reasons: tuple[str, ...]  # "text", "norm", "street", "sender"


@dataclass(frozen=True)
class SimilarityWeights:
    norm: float = 0.15
    street: float = 0.3
    sender: float = 0.45
    window_days: int = 42
    min_score: float = 0.3
    limit: int = 5


def _vectors(texts: Sequence[str]) -> list[dict[str, float]]:
    bags = [Counter(stems(text)) for text in texts]
    df = Counter(stem for bag in bags for stem in bag)
    n = len(bags)
    vectors = []
    for bag in bags:
        vector = {stem: (1 + math.log(count)) * (math.log((1 + n) / (1 + df[stem])) + 1) for stem, count in bag.items()}
        norm = math.sqrt(sum(value * value for value in vector.values())) or 1.0
        vectors.append({stem: value / norm for stem, value in vector.items()})
    return vectors


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(value * b.get(stem, 0.0) for stem, value in a.items())


def similar(target: CaseSketch, candidates: Iterable[CaseSketch], weights: SimilarityWeights | None = None) -> list[Similar]:
    """The candidates probably about the same event as ``target``, best first (at most ``limit``)."""
    weights = weights or SimilarityWeights()
    candidates = [c for c in candidates if c.key != target.key]
    if not candidates:
        return []
    vectors = _vectors([target.text, *(c.text for c in candidates)])
    found = []
    for candidate, vector in zip(candidates, vectors[1:], strict=True):
        text = _cosine(vectors[0], vector)
        reasons = []
        score = text
        if target.norms & candidate.norms:
            score += weights.norm
            reasons.append("norm")
        if target.streets & candidate.streets:
            score += weights.street
            reasons.append("street")
        if target.sender and target.sender == candidate.sender and abs(target.day - candidate.day) <= weights.window_days:
            score += weights.sender
            reasons.append("sender")
        if text >= 0.2:
            reasons.insert(0, "text")
        if score >= weights.min_score:
            found.append(Similar(candidate.key, round(score, 4), round(text, 4), tuple(reasons)))
    found.sort(key=lambda s: (-s.score, str(s.key)))
    return found[: weights.limit]


def evaluate_similarity(rows: Sequence[dict], weights: SimilarityWeights | None = None) -> dict:
    """Precision and recall of the suggestions on near-duplicates.

    ``rows``: ``{"event": name or None, "text", "sender", "day", "norms"}``. Every row is a case;
    the rows of one event are about the same thing. Each row of an event asks for the cases
    similar to it among all others; ``precision_at_5`` is the share of its (up to five)
    suggestions that are about the same event, averaged over the rows that got any;
    ``recall_at_5`` the share of its event's other rows among them. Rows of no event should get
    no suggestion (``unrelated_with_suggestions``).
    """
    weights = weights or SimilarityWeights()
    sketches = [
        CaseSketch(
            key=i,
            text=row["text"],
            day=int(row.get("day", 0)),
            norms=frozenset(row.get("norms") or ()),
            sender=row.get("sender") or "",
            streets=streets_in(row["text"]),
        )
        for i, row in enumerate(rows)
    ]
    precisions, recalls, unrelated, suggested = [], [], 0, 0
    queries = 0
    for i, row in enumerate(rows):
        found = similar(sketches[i], sketches, weights)
        if row.get("event") is None:
            unrelated += bool(found)
            continue
        queries += 1
        same = {j for j, other in enumerate(rows) if j != i and other.get("event") == row["event"]}
        hits = sum(s.key in same for s in found)
        if found:
            suggested += 1
            precisions.append(hits / len(found))
        recalls.append(hits / len(same) if same else 1.0)
    return {
        "queries": queries,
        "with_suggestions": suggested,
        "precision_at_5": sum(precisions) / len(precisions) if precisions else None,
        "recall_at_5": sum(recalls) / len(recalls) if recalls else None,
        "unrelated": sum(row.get("event") is None for row in rows),
        "unrelated_with_suggestions": unrelated,
    }
