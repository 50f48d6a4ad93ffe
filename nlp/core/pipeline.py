"""Build the spaCy pipeline for a label set.

``spacy.blank("nl")`` → ``lemmatizer`` (lookup tables from spacy-lookups-data) →
``handvest_features`` (lemmas, lemma bigrams, character n-grams, charter keywords, channel and
topic cues) →
``kind`` (``textcat``, exclusive: complaint / suggestion / other) →
``norms`` (``textcat_multilabel``, one label per active norm code) →
``norm_gate`` (``textcat_multilabel``, one label: the message concerns some norm), when configured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import spacy
from spacy.language import Language

from . import features, linear  # noqa: F401  (register the component and the architecture)
from .config import TaggerConfig
from .corpus import KINDS
from .labels import canonical_labels

KIND_PIPE = "kind"
NORMS_PIPE = "norms"
GATE_PIPE = "norm_gate"  # does the message concern any norm at all (``TaggerConfig.norm_gate_floor``)
GATE_LABEL = "any"
CLASSIFIER_PIPES = (KIND_PIPE, NORMS_PIPE)
FEATURES_PIPE = "handvest_features"


def uses_gate(config: TaggerConfig) -> bool:
    return config.norm_gate_floor > 0 or config.norm_gate_top <= 1


def build_pipeline(labels: Mapping[str, Sequence[str]], config: TaggerConfig | None = None) -> Language:
    """An untrained pipeline whose norm labels are exactly the given codes (sorted)."""
    config = config or TaggerConfig()
    labels = canonical_labels(labels)
    if not labels:
        raise ValueError("The tagger needs at least one norm code.")
    nlp = spacy.blank("nl")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.add_pipe(
        FEATURES_PIPE,
        config={
            "keywords": labels,
            "char_ngrams": list(config.char_ngrams),
            "bigrams": config.bigrams,
            "sentences": config.sentences,
            "group_weights": dict(config.group_weights),
            "cues": config.cues,
            "sentence_max_tokens": config.sentence_max_tokens,
            "spelling": config.spelling,
        },
    )
    architecture = {"@architectures": "handvest.FeatureTextCat.v2"}
    norms_architecture = {**architecture, "sentence_weight": config.sentence_weight}
    kind = nlp.add_pipe("textcat", name=KIND_PIPE, config={"model": {**architecture, "exclusive_classes": True}})
    for label in KINDS:
        kind.add_label(label)
    norms = nlp.add_pipe("textcat_multilabel", name=NORMS_PIPE, config={"model": {**norms_architecture, "exclusive_classes": False}})
    for code in labels:
        norms.add_label(code)
    if uses_gate(config):
        nlp.add_pipe("textcat_multilabel", name=GATE_PIPE, config={"model": {**architecture, "exclusive_classes": False}}).add_label(GATE_LABEL)
    # The lookup tables are loaded here and saved with the model, so loading needs no lookups package.
    nlp.get_pipe("lemmatizer").initialize()
    return nlp
