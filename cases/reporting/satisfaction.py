"""Satisfaction scores (1–5, asked once after closure by ``cases.conversation``) as figures, never
with personal data: per kind, and per confirmed norm and kind. Only counts and averages leave here.

A cell of fewer than ``HANDVEST_SMALL_CELL`` answers shows its count as ``<N`` and no average, as
every figure does (``cases.reporting.figures``).
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from cases.models import SatisfactionSurvey, TagStatus
from cases.reporting.figures import figure, small_cell_threshold

NOT_SATISFIED = 2  # a score at or below this is "not satisfied"


def satisfaction_cell(scores: list[int]) -> dict:
    """``answered`` (a count or ``<N``), ``average`` and ``not_satisfied`` (None when the cell is too small)."""
    shown = len(scores) >= small_cell_threshold()
    return {
        "answered": figure(len(scores)).value,
        "average": round(statistics.fmean(scores), 1) if shown and scores else None,
        "not_satisfied": figure(sum(1 for s in scores if s <= NOT_SATISFIED)).value if shown else None,
    }


def _answered(year: int):
    return SatisfactionSurvey.objects.filter(answered_at__year=year, score__isnull=False, case__merged_into__isnull=True)


def satisfaction_scores(*, year: int) -> tuple[dict[str, list[int]], dict[tuple[str, str], list[int]]]:
    """The raw scores given in ``year``: per kind, and per (confirmed norm code, kind); a case counts once per norm."""
    per_kind: dict[str, list[int]] = defaultdict(list)
    for kind, score in _answered(year).values_list("case__kind", "score"):
        per_kind[kind].append(score)
    per_norm: dict[tuple[str, str], list[int]] = defaultdict(list)
    confirmed = _answered(year).filter(case__norm_tags__status=TagStatus.CONFIRMED)
    for kind, score, code in confirmed.values_list("case__kind", "score", "case__norm_tags__norm__code"):
        per_norm[(code, kind)].append(score)
    return per_kind, per_norm


def satisfaction_of_norm(*, code: str, year: int) -> dict:
    """One norm's cell for ``year`` (complaints and suggestions together), for the editor's figures panel:
    the scores of the cases where this norm was confirmed, each case once."""
    confirmed = _answered(year).filter(case__norm_tags__status=TagStatus.CONFIRMED, case__norm_tags__norm__code=code)
    return satisfaction_cell(list(confirmed.values_list("score", flat=True)))


def satisfaction_per_norm(*, year: int) -> dict[str, dict]:
    """Per norm code (complaints and suggestions together): the cell of the charter report; norms without answers are absent."""
    _per_kind, per_norm = satisfaction_scores(year=year)
    combined: dict[str, list[int]] = defaultdict(list)
    for (code, _kind), scores in per_norm.items():
        combined[code].extend(scores)
    return {code: satisfaction_cell(scores) for code, scores in combined.items()}
