"""A hashed linear layer: thinc's ``SparseLinear`` with a faster memory layout.

Each feature key is hashed twice into a table of ``length`` rows; a row holds the weights of all
labels side by side, so scoring a key reads two short contiguous rows instead of two scattered
floats per label, and a batch is one sparse-matrix product (scipy). This is what lets the tagger
score well over a thousand messages a second.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse
from thinc.api import Model

Inputs = tuple[np.ndarray, np.ndarray, np.ndarray]  # keys (uint64), values (float32), lengths (int32)


def hashed_linear(nO: int | None = None, length: int = 2**17) -> Model:
    if length & (length - 1):
        raise ValueError("length must be a power of two")
    return Model("handvest_hashed_linear", _forward, init=_init, dims={"nO": nO, "length": length}, params={"W": None, "b": None})


def _init(model: Model, X: Inputs | None = None, Y: np.ndarray | None = None) -> None:
    if Y is not None and model.get_dim("nO") is None:
        model.set_dim("nO", Y.shape[1])
    n_out = model.get_dim("nO")
    model.set_param("W", np.zeros((model.get_dim("length"), n_out), dtype="float32"))
    model.set_param("b", np.zeros((n_out,), dtype="float32"))


def feature_matrix(model: Model, inputs: Inputs) -> scipy.sparse.csr_matrix:
    """One row per (keys, values) group; each key adds its value at its two hashed columns."""
    keys, values, lengths = inputs
    mask = np.uint64(model.get_dim("length") - 1)
    columns = np.empty(2 * len(keys), dtype=np.int32)
    columns[0::2] = keys & mask
    columns[1::2] = (keys >> np.uint64(32)) & mask
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    return scipy.sparse.csr_matrix((np.repeat(values.astype("float32"), 2), columns, 2 * indptr), shape=(len(lengths), model.get_dim("length")))


def _forward(model: Model, inputs: Inputs, is_train: bool):
    matrix = feature_matrix(model, inputs)
    scores = np.asarray(matrix @ model.get_param("W")) + model.get_param("b")
    return scores.astype("float32", copy=False), no_gradient


def no_gradient(d_output):
    """The tagger's layers are not trained by gradients: ``train.fit`` fits their weights with
    logistic regression and sets them."""
    raise NotImplementedError("The tagger's classifiers are fitted by nlp.core.train.fit, not updated by gradients.")


def stack_rows(rows: Sequence[tuple[np.ndarray, np.ndarray]]) -> Inputs:
    """The layer's input for several rows of (keys, values): one row of the matrix each."""
    return (
        np.concatenate([keys for keys, _ in rows]) if rows else np.empty(0, dtype="uint64"),
        np.concatenate([values for _, values in rows]) if rows else np.empty(0, dtype="float32"),
        np.array([len(keys) for keys, _ in rows], dtype="int32"),
    )


def key_weights(model: Model, keys: np.ndarray) -> np.ndarray:
    """Each key's weight for each label, shape ``(len(keys), nO)``, bias left out."""
    mask = np.uint64(model.get_dim("length") - 1)
    weights = model.get_param("W")
    keys = keys.astype("uint64")
    return weights[(keys & mask).astype(np.intp)] + weights[((keys >> np.uint64(32)) & mask).astype(np.intp)]
