"""Cases probably about the same event as another, for the officer to link or merge.

The measure itself is ``nlp.core.similarity`` (plain Python); this module picks the candidates
(open, or received within ``SIMILAR_WINDOW_DAYS``, not merged) and reads their fields.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils.translation import gettext_lazy

from cases.models import Case, CaseEvent, CaseState, EventKind, TagStatus

if TYPE_CHECKING:
    from nlp.core.similarity import CaseSketch

# Cases received this many days before (or after) a case, or still open, are compared with it.
SIMILAR_WINDOW_DAYS = 42
# At most this many of them, the most recently received first: the comparison is pure Python (about
# 37 µs a candidate), and a backlog of open cases must not make every tagging slower without bound.
SIMILAR_POOL_LIMIT = 2000


@dataclass(frozen=True)
class SimilarCase:
    """A case probably about the same event as another, for the officer to link or merge."""

    case: Case
    score: float
    reasons: tuple[str, ...]  # "text", "norm", "street", "sender"


def _sketch(case: Case) -> CaseSketch:
    # nlp.core is imported here, not at the top: importing it loads spaCy, which the web process never holds (issue 20).
    from nlp.core.similarity import CaseSketch, streets_in

    registration = case.registration
    text = "\n".join(part for part in (registration.subject, registration.text) if part)
    sender = (registration.sender_email or "").strip().lower() or " ".join(
        part.strip().lower() for part in (registration.sender_name, registration.sender_address) if part and part.strip()
    )
    norms = frozenset(tag.norm.code for tag in case.norm_tags.all() if tag.status != TagStatus.REJECTED)
    return CaseSketch(
        key=case.pk,
        text=text,
        day=registration.received_on.toordinal(),
        norms=norms,
        sender=sender,
        streets=streets_in(f"{text}\n{registration.sender_address}"),
    )


def similar_cases(case_id: int, *, limit: int = 5) -> list[SimilarCase]:
    """Up to ``limit`` open or recent cases probably about the same event as this one (same norm
    and similar text, the same street, or the same sender within weeks), best first.

    Compared: every other case that is still open or was received within ``SIMILAR_WINDOW_DAYS``
    days of this one, not merged into another; the ``SIMILAR_POOL_LIMIT`` most recently received of them. It imports ``nlp.core.similarity``, which loads
    spaCy: the worker runs it when it tags a case (``similar_store``), the case page reads the result.
    """
    case = Case.objects.select_related("registration").prefetch_related("norm_tags__norm").get(pk=case_id)
    received = case.registration.received_on
    window = datetime.timedelta(days=SIMILAR_WINDOW_DAYS)
    pool = (
        Case.objects.exclude(pk=case.pk)
        .filter(merged_into__isnull=True)
        .filter(Q(state__in=CaseState.open_states()) | Q(registration__received_on__range=(received - window, received + window)))
        .select_related("registration")
        .prefetch_related("norm_tags__norm")
        .order_by("-registration__received_on", "-pk")[:SIMILAR_POOL_LIMIT]
    )
    candidates = {c.pk: c for c in pool}
    # Imported here, not at the top: nlp.core loads spaCy, which the web process never holds (issue 20).
    from nlp.core.similarity import SimilarityWeights, similar

    weights = SimilarityWeights(window_days=SIMILAR_WINDOW_DAYS, limit=limit)
    found = similar(_sketch(case), [_sketch(c) for c in candidates.values()], weights)
    return [SimilarCase(case=candidates[s.key], score=s.score, reasons=s.reasons) for s in found]


SIMILAR_EVENT = "similar"
REASON_LABELS = {"text": "vergelijkbare tekst", "norm": "zelfde norm", "street": "zelfde straat", "sender": "zelfde afzender"}


SIMILAR_NOTE = gettext_lazy("%(count)s vergelijkbare zaken gevonden (zie de zaakpagina)")


def similar_store(case_id: int) -> list[SimilarCase]:
    """Find the similar cases on the worker and keep them on the case's timeline (an internal tag
    event), so the case page shows them without loading spaCy."""
    found = similar_cases(case_id)
    if found:
        CaseEvent.objects.create(
            case_id=case_id,
            kind=EventKind.TAG,
            name=SIMILAR_EVENT,
            internal=True,
            # The count only: the other cases' numbers stay in ``data`` for the case page, never in a note that an
            # export or a citizen's access request could carry (they are other people's cases).
            note=str(SIMILAR_NOTE % {"count": len(found)}),
            data={"similar": [{"case": item.case.pk, "score": round(item.score, 3), "reasons": list(item.reasons)} for item in found]},
        )
    return found


def similar_stored(case_id: int) -> list[dict]:
    """The latest similar cases found for this case, for the case page: each case (not merged away
    since) with its score and the reasons in Dutch, best first."""
    event = CaseEvent.objects.filter(case_id=case_id, kind=EventKind.TAG, name=SIMILAR_EVENT).order_by("-at", "-pk").first()
    listed = (event.data or {}).get("similar", []) if event else []
    cases = Case.objects.filter(pk__in=[item["case"] for item in listed], merged_into__isnull=True).select_related("registration").in_bulk()
    return [
        {"case": cases[item["case"]], "score": item["score"], "reasons": [REASON_LABELS.get(reason, reason) for reason in item["reasons"]]}
        for item in listed
        if item["case"] in cases
    ]
