"""The classifiers' architecture: a linear layer over the feature columns, pooled over sentences.

The weights ``W`` (one row per feature column, one column per label) and the bias ``b`` are fitted
by ``train.fit`` (logistic regression) and set on the layer; they are never trained by gradients.
``Tagger`` scores batches with the same weights directly (``features.pooled_scores``); this spaCy
architecture lets ``nlp(text)`` fill ``doc.cats`` with the same numbers, and saves and loads the
weights with the pipeline.
"""

from __future__ import annotations

import numpy as np
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model

from .features import Batch, features_of, pooled_scores


def no_gradient(d_output):
    """The tagger's layers are not trained by gradients: ``train.fit`` fits their weights with
    logistic regression and sets them."""
    raise NotImplementedError("The tagger's classifiers are fitted by nlp.core.train.fit, not updated by gradients.")


def _forward(model: Model, docs: list[Doc], is_train: bool):
    weights, bias = layer_weights(model)
    rows = []
    for doc in docs:
        features = features_of(doc)
        sentences = features.X.shape[0] - 1
        batch = Batch(features.X, 1, np.zeros(sentences, dtype=np.int64), features.sentence_spans)
        rows.append(pooled_scores(batch, weights, bias, model.attrs["sentence_weight"])[0])
    logits = np.array(rows, dtype="float32").reshape(len(docs), -1)
    if model.attrs["exclusive"]:
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (shifted / shifted.sum(axis=1, keepdims=True)).astype("float32"), no_gradient
    return (1.0 / (1.0 + np.exp(-np.clip(logits, -40, 40)))).astype("float32"), no_gradient


def _init(model: Model, X=None, Y=None) -> None:
    if Y is not None and not model.has_dim("nO"):
        model.set_dim("nO", Y.shape[1])


def set_layer(model: Model, weights: np.ndarray, bias: np.ndarray) -> None:
    """Set the fitted weights (columns × labels) and bias (labels)."""
    if model.get_dim("nO") != weights.shape[1]:
        raise ValueError(f"{weights.shape[1]} label columns for a layer of {model.get_dim('nO')} labels")
    model.set_param("W", np.ascontiguousarray(weights, dtype="float32"))
    model.set_param("b", np.ascontiguousarray(bias, dtype="float32"))


def layer_weights(model: Model) -> tuple[np.ndarray, np.ndarray]:
    return model.get_param("W"), model.get_param("b")


@registry.architectures("handvest.FeatureTextCat.v2")
def build_feature_text_classifier(exclusive_classes: bool, sentence_weight: float = 0.0, nO: int | None = None) -> Model:
    """Softmax (kind) or sigmoid (norms) over a linear layer on the feature columns; with
    ``sentence_weight`` > 0 the best sentence counts beside the whole message."""
    return Model(
        "handvest_linear",
        _forward,
        init=_init,
        dims={"nO": nO},
        params={"W": None, "b": None},
        attrs={"exclusive": bool(exclusive_classes), "sentence_weight": float(sentence_weight), "multi_label": not exclusive_classes},
    )
