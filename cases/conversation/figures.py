"""The conversation in figures, never with personal data: satisfaction per norm and kind
(``cases.reporting.satisfaction``), and the time spent waiting for the citizen (question asked →
answered), shown apart from the handling time.

Only counts, averages and medians leave here — no case, number, name, address or text. A count
from 1 to ``HANDVEST_SMALL_CELL`` − 1 is shown as ``<N`` and its average or median left out.
"""

from __future__ import annotations

from cases.reporting.satisfaction import satisfaction_cell, satisfaction_scores
from cases.reporting.waiting import question_waiting


def satisfaction_figures(*, year: int) -> dict:
    """Scores given in ``year``, per kind, and per confirmed norm and kind."""
    per_kind, per_norm = satisfaction_scores(year=year)
    return {
        "year": year,
        "by_kind": [{"kind": kind, **satisfaction_cell(scores)} for kind, scores in sorted(per_kind.items())],
        "by_norm": [{"code": code, "kind": kind, **satisfaction_cell(scores)} for (code, kind), scores in sorted(per_norm.items())],
    }


def waiting_figures(*, year: int) -> dict:
    """Questions answered in ``year``: how many, and the median days the case waited for the citizen."""
    waiting = question_waiting(year=year)
    return {"year": year, "answered": waiting.handled.value, "median_days": None if waiting.median is None else round(waiting.median, 1)}
