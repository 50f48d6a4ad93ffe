"""Which of a message's best-scored norms to suggest: a small decision learned on out-of-fold scores.

Per-norm thresholds alone answer "is this norm's score high enough"; they do not weigh a norm against
the message's other norms. A long story scores a side remark's norm over its threshold, and a letter
about two breaches scores the second one just under it. Before, one fixed rule decided: a norm besides
the best needed half the best one's score (``relative_floor``), and the norm gate gave a message with
none its best norm when surely about some norm (``norm_gate_top``).

Now a logistic regression decides over the message's ``candidates`` best-scored norms, on six numbers
per candidate: its calibrated score (as a logit), how far above or below its own threshold, whether it
is the best or the second best, how far below the best, and the norm gate's score of the message. It is
fitted on the calibration's out-of-fold scores (``train._cross_fitted_scores``), real-style messages
weighing as in the calibration, and a candidate is suggested when its probability reaches one cutoff,
chosen for the best F1 on those scores (annotated norms outside the candidates count as missed). A
candidate is only suggested when every better-scored candidate is: the suggestions stay the top of the
ranking. Each real-style training file left out in turn, production's training in each fold:
micro-F1 0.890 -> 0.896 (P 0.875 -> 0.884, R 0.905 -> 0.909), the TF-IDF peer 0.782.

Tagging needs only numpy; fitting imports scikit-learn (training only).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .metrics import best_on_grid

CANDIDATES = 3
FEATURES = ("score", "over_threshold", "best", "second", "below_best", "gate")
CUTOFF_GRID = np.round(np.arange(0.10, 0.905, 0.01), 2)
# Fewer validation messages than this fit no decision: seven numbers and a cutoff chosen on a few dozen
# messages swing from one retraining to the next (a tiny corpus's retrain, one example added, fell from
# 0.86 to 0.67 on its held-out messages), so a small corpus (a new municipality's first) keeps thresholds
# and rules until it has grown.
MIN_MESSAGES = 300
_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def candidate_features(
    probabilities: np.ndarray, thresholds: np.ndarray, gate: np.ndarray | None, candidates: int, order: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(features of shape (messages × candidates, len(FEATURES)), the candidates' columns of shape
    (messages, candidates), best first). Without a gate its feature is 0. ``order``: the columns by
    descending score (a stable argsort), when the caller has it already."""
    n, m = probabilities.shape
    k = min(candidates, m)
    order = (np.argsort(-probabilities, axis=1, kind="stable") if order is None else order)[:, :k]
    chosen = np.take_along_axis(probabilities, order, axis=1)
    z = _logit(chosen)
    rank = np.broadcast_to(np.arange(k), (n, k))
    gate_logit = np.zeros(n) if gate is None else _logit(np.asarray(gate, dtype="float64"))
    columns = [
        z,
        z - _logit(np.asarray(thresholds, dtype="float64"))[order],
        (rank == 0).astype("float64"),
        (rank == 1).astype("float64"),
        np.where(rank > 0, z - z[:, :1], 0.0),
        np.broadcast_to(gate_logit[:, None], (n, k)),
    ]
    return np.stack([c.reshape(-1) for c in columns], axis=1), order


@dataclass(frozen=True)
class Decision:
    coef: tuple[float, ...]
    intercept: float
    cutoff: float
    candidates: int = CANDIDATES

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(features @ np.asarray(self.coef) + self.intercept, -40, 40)))

    def choose(self, probabilities: np.ndarray, thresholds: np.ndarray, gate: np.ndarray | None, order: np.ndarray | None = None) -> np.ndarray:
        """A boolean array like ``probabilities``: the norms to suggest (``order``: see ``candidate_features``)."""
        features, order = candidate_features(probabilities, thresholds, gate, self.candidates, order)
        return _place(_prefix(self.probabilities(features).reshape(order.shape) >= self.cutoff), order, probabilities.shape)

    def to_dict(self) -> dict:
        # Unrounded: a loaded model must decide exactly as the trained one.
        return {
            "features": list(FEATURES),
            "coef": [float(c) for c in self.coef],
            "intercept": float(self.intercept),
            "cutoff": float(self.cutoff),
            "candidates": self.candidates,
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> Decision | None:
        if not data:
            return None
        if list(data.get("features", FEATURES)) != list(FEATURES):
            raise ValueError(f"A decision over other features ({data.get('features')}) than this code knows ({list(FEATURES)}).")
        return cls(tuple(float(c) for c in data["coef"]), float(data["intercept"]), float(data["cutoff"]), int(data["candidates"]))


def _prefix(selected: np.ndarray) -> np.ndarray:
    """Only a run from the best candidate on: a candidate counts when every better one does."""
    return np.cumprod(selected, axis=1).astype(bool)


def _place(selected: np.ndarray, order: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    np.put_along_axis(mask, order, selected, axis=1)
    return mask


def fit_decision(
    probabilities: np.ndarray,
    thresholds: np.ndarray,
    gate: np.ndarray | None,
    gold: np.ndarray,
    weights: np.ndarray,
    *,
    candidates: int = CANDIDATES,
    C: float = 1.0,
    min_messages: int | None = None,
) -> Decision | None:
    """The decision fitted on validation scores (calibrated probabilities, messages × norms) against
    ``gold``; None (thresholds and rules decide) with fewer than ``min_messages`` messages (default
    ``MIN_MESSAGES``) or when the candidates are all right or all wrong (nothing to learn)."""
    if len(probabilities) < (MIN_MESSAGES if min_messages is None else min_messages):
        return None
    features, order = candidate_features(probabilities, thresholds, gate, candidates)
    target = np.take_along_axis(gold.astype(bool), order, axis=1).reshape(-1)
    row_weights = np.repeat(np.asarray(weights, dtype="float64"), order.shape[1])
    if target.all() or not target.any():
        return None
    # Imported here: tagging never needs scikit-learn.
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=2000).fit(features, target, sample_weight=row_weights)
    decision = Decision(tuple(float(c) for c in model.coef_[0]), float(model.intercept_[0]), cutoff=0.5, candidates=order.shape[1])
    scores = decision.probabilities(features).reshape(order.shape)
    truth = target.reshape(order.shape)
    w = np.asarray(weights, dtype="float64")[:, None]
    missed = float((gold.astype(bool).sum(axis=1) - truth.sum(axis=1)) @ w[:, 0])  # annotated, never a candidate
    f1s = []
    for cutoff in CUTOFF_GRID:
        chosen = _prefix(scores >= cutoff)
        tp, fp = float(((chosen & truth) * w).sum()), float(((chosen & ~truth) * w).sum())
        fn = float(((~chosen & truth) * w).sum()) + missed
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return replace(decision, cutoff=round(best_on_grid(np.array(f1s), CUTOFF_GRID), 4))
