"""The active model at work: loading it once per process, tagging a case, and the kind classifier
that e-mail intake uses once a model is ready.

``nlp.core`` is imported inside the functions that use a model, never at the top: importing it
loads spaCy, and this module is imported by every process that runs Django. The web process never
loads a model (issue 20: web ≤ 200 MiB); tagging runs on the worker (``cases.tag_case``).

A web process that hands its tasks to a worker (``models_stay_out``) does not load the kind
classifier either: e-mail that such a process takes in is classified by the rules. A Celery
worker, ``import_eml``, the inbound relay and eager mode (``make run``, where this process tags
anyway) use the trained classifier.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef

from cases import dispatch
from cases.models import Case, CaseEvent, CaseState, EventKind, TaggerModel
from cases.tagging.similar import similar_store
from cases.tagging.suggestions import tags_store_suggestions
from cases.tagging.training import NO_NORMS, NoNormsToTag, tagger_train
from cms.models import ServiceNorm

if TYPE_CHECKING:
    from nlp.core.tagger import Tagger

logger = logging.getLogger(__name__)

# The modules a web server imports to serve Django (gunicorn and runserver import ``config.wsgi``).
WEB_ENTRY_POINTS = ("config.wsgi", "config.asgi")


@lru_cache(maxsize=2)
def _load(path: str) -> Tagger:
    # Imported here, not at the top: nlp.core loads spaCy (module docstring).
    from nlp.core.tagger import Tagger

    return Tagger.load(path)


def _load_or_none(path: str) -> Tagger | None:
    """The model at ``path``, or None when it cannot be loaded (saved by older feature code)."""
    try:
        return _load(path)
    except Exception:
        logger.warning("tagger at %s does not load", path, exc_info=True)
        return None


def _code_version() -> str:
    # Imported here, not at the top: nlp.core loads spaCy (module docstring).
    from nlp.core.tagger import CODE_VERSION

    return CODE_VERSION


def tagger_active() -> Tagger:
    """The active tagger, trained and activated first when there is none (``make run`` does this up front)."""
    model = TaggerModel.objects.filter(active=True).first()
    if model is None or not Path(model.path).exists():
        model, _, _ = tagger_train(force=True)
    tagger = _load_or_none(model.path)
    if tagger is None or not tagger.is_current:
        # Trained by older feature code: its weights do not fit today's features, so it would
        # tag wrongly rather than fail. Train a current one (the cache makes this once).
        found = tagger.code_version if tagger is not None else "unknown (it does not load)"
        logger.warning("active tagger %s is of code version %s, not %s: training a current one", model.version[:12], found, _code_version())
        model, _, _ = tagger_train(force=True)
        tagger = _load(model.path)
    return tagger


def case_tag_later(*, case_id: int, replace: bool = False) -> None:
    """Have a Celery task tag the case after commit, when automatic tagging is on
    (``HANDVEST_TAG_ON_REGISTRATION``): for a new case, and again when its text was corrected."""
    if settings.HANDVEST_TAG_ON_REGISTRATION:
        # Robust: whoever registered or corrected the case committed it; a tagging that fails (eager mode runs it
        # at the commit) is logged and never undoes or reports as failed the work before it.
        dispatch.enqueue_on_commit(dispatch.TAG_CASE, case_id, replace=replace, robust=True)


def case_tag(*, case_id: int, replace: bool = False) -> list:
    """Tag a case with the active tagger and store the suggested norms with scores and reasons;
    with ``replace`` (the text changed) earlier suggestions the tagger no longer makes are dropped."""
    case = Case.objects.select_related("registration").get(pk=case_id)
    text = "\n".join(part for part in (case.registration.subject, case.registration.text) if part)
    if not settings.HANDVEST_TAGGER_TRAIN_ON_DEMAND and not TaggerModel.objects.filter(active=True).exists():
        # `make run`: the tagger is being trained in the background; never make a citizen wait for it.
        logger.info("case %s waits for the tagger (being trained); it is tagged when the tagger is ready", case)
        return []
    try:
        tagger = tagger_active()
    except NoNormsToTag:
        logger.warning("case %s not tagged: %s", case, NO_NORMS)
        return []
    result = tagger.tag(text, explain=True, kind=case.kind)  # decided: the rule for "other" does not guess
    by_keyword = keyword_candidates(tagger, text)
    scores = {code: score for code, score in result.norm_scores.items() if code not in by_keyword}  # no score the model never learned
    stored = tags_store_suggestions(
        case_id=case.pk,
        scores=scores,
        suggested=result.norms,
        model_version=result.version,
        explanations={**result.explain, **by_keyword},
        replace=replace,
        uncertain=[*result.uncertain, *by_keyword],
    )
    try:
        similar_store(case.pk)
    except Exception:
        # A hint for the officer, never a reason to lose the tags.
        logger.exception("similar cases of %s not found", case)
    return stored


def keyword_candidates(tagger, text: str) -> dict[str, list[str]]:
    """The charter's norms the model has no training example of (a new municipality's own codes, until
    officers confirm some), whose charter keywords occur in ``text``: offered to the officer as uncertain,
    without a score, with the keyword as the reason. The model cannot suggest them; the keywords can."""
    counts = tagger.report.get("label_counts")
    if counts is None:
        return {}  # a model that does not say what it learned: nothing to add
    folded = text.casefold()
    found: dict[str, list[str]] = {}
    for norm in ServiceNorm.objects.published_active().exclude(keywords="").order_by("code"):
        if counts.get(norm.code, 0):
            continue  # learned (a norm published after the training has no count: not learned)
        hits = [word for word in norm.keyword_list if re.search(keyword_pattern(word), folded)]
        if hits:
            found[norm.code] = [f"trefwoord uit het handvest: {word}" for word in hits[:3]]
    return found


def keyword_pattern(keyword: str) -> str:
    """A keyword as a whole word or words (any white space between them, a line break too), with a Dutch
    plural or inflection ("stoeptegels", "afspraken" is not guessed); a long one also as the start of a
    compound. "bot" does not find "botsing"."""
    words = [re.escape(word) for word in keyword.casefold().split()]
    if not words:
        return r"(?!)"
    tail = r"\w*" if len(words[-1]) >= 8 else r"(?:s|en|e|'s)?"
    joined = r"\s+".join(words)
    return rf"(?<!\w){joined}{tail}(?!\w)"


def cases_waiting_for_tags() -> models.QuerySet[Case]:
    """Open cases the tagger never looked at (registered while it was being trained)."""
    looked_at = CaseEvent.objects.filter(case=OuterRef("pk"), kind=EventKind.TAG)
    return Case.objects.exclude(state=CaseState.CLOSED).filter(merged_into__isnull=True).exclude(Exists(looked_at)).order_by("pk")


def tag_waiting_cases(progress=None) -> int:
    """Tag every case in ``cases_waiting_for_tags`` with the active tagger; returns how many."""
    waiting = list(cases_waiting_for_tags().values_list("pk", flat=True))
    for done, case_id in enumerate(waiting, start=1):
        case_tag(case_id=case_id)
        if progress:
            progress(done, len(waiting))
    return len(waiting)


def models_stay_out() -> bool:
    """Whether this process must not load a model: it serves web requests (it imported a WSGI or
    ASGI entry point) and hands its tasks to a worker. In eager mode the web process tags anyway."""
    serves_web = any(name in sys.modules for name in WEB_ENTRY_POINTS)
    return serves_web and not dispatch.runs_eagerly()


def ready_tagger() -> Tagger | None:
    """The active tagger when one is trained, current and on disk, and this process may hold it;
    None otherwise. Never trains: intake calls this while a message is being taken in."""
    if models_stay_out():
        return None
    model = TaggerModel.objects.filter(active=True).only("path").first()
    if model is None or not Path(model.path).exists():
        return None
    tagger = _load_or_none(model.path)
    return tagger if tagger is not None and tagger.is_current else None


def kind_classifier_if_ready() -> Callable[[str], tuple[str, float]] | None:
    """The trained kind classifier for the e-mail intake (``cases.intake.classify``): text →
    (kind, probability), or None while no model is ready here (then intake uses its rules)."""
    tagger = ready_tagger()
    if tagger is None:
        return None

    def classify(text: str) -> tuple[str, float]:
        # Only the kind is needed: one pass, no explanations.
        kind_probs, _ = tagger.raw_scores([text])
        best = int(kind_probs[0].argmax())
        return tagger.kinds[best], float(kind_probs[0][best])

    return classify
