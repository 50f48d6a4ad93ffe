"""Time spent waiting for the citizen: from a question we asked them to their answer
(``cases.conversation``). It is shown beside the handling time, never inside it: the Awb term keeps
running while we wait, and the report says how long that was. Counts and days only."""

from __future__ import annotations

import datetime
from collections import Counter

from cases.models import CitizenQuestion, QuestionStatus
from cases.reporting.compliance import HandlingTime, percentile
from cases.reporting.figures import figure, small_cell_threshold


def question_waiting(*, year: int) -> HandlingTime:
    """Questions answered in ``year``: how many, and the median and 90th percentile of the days waited
    (to a tenth of a day); no median or percentile when fewer than the small-cell threshold."""
    answered = CitizenQuestion.objects.filter(status=QuestionStatus.ANSWERED, answered_at__year=year)
    waits = Counter(round((end - start) / datetime.timedelta(days=1), 1) for start, end in answered.values_list("asked_at", "answered_at"))
    total = sum(waits.values())
    shown = total >= small_cell_threshold()
    return HandlingTime(
        handled=figure(total),
        median=percentile(waits, 0.5) if shown else None,
        p90=percentile(waits, 0.9) if shown else None,
        buckets=(),
    )
