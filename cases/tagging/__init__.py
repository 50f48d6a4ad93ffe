"""The bridge between the cases and the tagger (``nlp.core``, which knows no Django).

It feeds the tagger the charter's active norms (labels and keywords) and the officers'
decisions, records model versions and activates a new one only when it is not worse, tags a
case and stores the suggested norms with calibrated scores and reasons (and the uncertain ones
below their threshold, for the officer to consider), records what the officer confirms or
rejects, decides the kind of incoming mail with the trained model once one is ready, and finds
the cases probably about the same event. By responsibility:

- ``suggestions``: storing the tagger's suggestions, the uncertain ones, the officers' decisions,
  and the decided cases as training data;
- ``training``: labels, training data, training and the activation guard;
- ``active``: the active model, tagging a case, the kind classifier for intake;
- ``similar``: cases probably about the same event.

Nothing in this package imports ``nlp.core`` (spaCy, scikit-learn) at import time: every process
that runs Django imports it, the web process too, and the web process never loads the tagger
(issue 20). The functions that use a model import it when they run, on the worker.
"""

from cases.tagging.active import (
    _load,
    case_tag,
    case_tag_later,
    cases_waiting_for_tags,
    kind_classifier_if_ready,
    models_stay_out,
    ready_tagger,
    tag_waiting_cases,
    tagger_active,
)
from cases.tagging.similar import SIMILAR_WINDOW_DAYS, SimilarCase, similar_cases, similar_stored
from cases.tagging.suggestions import UNCERTAIN_NOTE, TagCandidate, tag_candidates, tag_confirm, tag_reject, tags_store_suggestions, training_examples
from cases.tagging.training import (
    GUARDED_SCORES,
    NO_NORMS,
    TOLERANCE,
    NoNormsToTag,
    active_labels,
    heldout_path,
    heldout_scores,
    officer_messages,
    real_heldout_paths,
    tagger_train,
    training_paths,
)

__all__ = [
    "GUARDED_SCORES",
    "NO_NORMS",
    "SIMILAR_WINDOW_DAYS",
    "TOLERANCE",
    "UNCERTAIN_NOTE",
    "NoNormsToTag",
    "SimilarCase",
    "TagCandidate",
    "_load",
    "active_labels",
    "case_tag",
    "case_tag_later",
    "cases_waiting_for_tags",
    "heldout_path",
    "heldout_scores",
    "kind_classifier_if_ready",
    "models_stay_out",
    "officer_messages",
    "ready_tagger",
    "real_heldout_paths",
    "similar_cases",
    "similar_stored",
    "tag_candidates",
    "tag_confirm",
    "tag_reject",
    "tag_waiting_cases",
    "tagger_active",
    "tagger_train",
    "tags_store_suggestions",
    "training_examples",
    "training_paths",
]
