"""The conversation in figures, never with personal data: satisfaction per norm and kind
(``cases.reporting.satisfaction``), and the time spent waiting for the citizen (question asked →
answered), shown apart from the handling time.

Only counts, averages and medians leave here — no case, number, name, address or text. A count
from 1 to ``HANDVEST_SMALL_CELL`` − 1 is shown as ``<N`` and its average or median left out.
"""

from __future__ import annotations

import datetime
import statistics

from cases.models import CitizenQuestion, QuestionStatus
from cases.reporting.figures import figure, small_cell_threshold
from cases.reporting.satisfaction import satisfaction_cell, satisfaction_scores


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
    answered = CitizenQuestion.objects.filter(status=QuestionStatus.ANSWERED, answered_at__year=year)
    waits = [(end - start) / datetime.timedelta(days=1) for start, end in answered.values_list("asked_at", "answered_at")]
    shown = len(waits) >= small_cell_threshold()
    return {"year": year, "answered": figure(len(waits)).value, "median_days": round(statistics.median(waits), 1) if shown and waits else None}
