"""Score a tagger (or the baseline) on annotated messages."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from .corpus import Message, restrict_to_labels
from .metrics import by_norm_count, calibration_error, kind_scores, norm_scores, recall_at_k
from .tagger import TagResult


class SupportsTagging(Protocol):
    labels: list[str]
    version: str

    def tag_many(self, texts: Iterable[str], *, explain: bool = False) -> Iterator[TagResult]: ...


def evaluate(tagger: SupportsTagging, messages: Sequence[Message]) -> dict:
    """Norm scores (micro/macro F1, per norm, exact match, no-norm messages left empty, the same by how many
    norms a message is annotated with, recall of
    the annotated norms among the 3 (and 1) best-scored, calibration error) and kind scores
    (accuracy, confusion) of the tagger on the messages.

    Gold norm codes that are not among the tagger's labels are left out and counted in
    ``ignored_codes``.
    """
    gold, ignored = restrict_to_labels(messages, tagger.labels)
    started = time.perf_counter()
    results = list(tagger.tag_many([m.text for m in gold]))
    seconds = time.perf_counter() - started
    norms = [m.norms for m in gold]
    return {
        "model_version": tagger.version,
        "messages": len(gold),
        **norm_scores(norms, [r.norms for r in results], tagger.labels),
        "by_norm_count": by_norm_count(norms, [r.norms for r in results]),
        "recall_at_3": recall_at_k(norms, [r.ranked(3) for r in results], 3),
        "recall_at_1": recall_at_k(norms, [r.ranked(1) for r in results], 1),
        "calibration_error": calibration_error(norms, [r.norm_scores for r in results]),
        **kind_scores([m.kind for m in gold], [r.kind for r in results]),
        "ignored_codes": dict(ignored),
        "messages_per_second": round(len(gold) / seconds, 1) if seconds else None,
    }
