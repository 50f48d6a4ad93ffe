"""Calibrated norm scores: Platt scaling per norm, fitted on the validation part of the training files.

A logistic regression trained with balanced classes on clean synthetic text is over-confident on
text like it and under-confident on real citizens' letters: the right norm of a long story often
scores 0.5–0.7 while the thresholds sit above. The calibration maps each norm's linear score ``s``
to ``sigmoid(a × s + c)`` so that a score of 0.7 means right about seven times in ten on the
validation messages, real-style messages weighing more (``calibration_real_weight``).

Ten-odd validation positives per norm are too few for a fit of its own, so each norm's ``(a, c)``
is pulled towards one fit shared by all norms, as if that one had been seen on ``prior`` extra
messages. With ``a > 0`` the map is monotone and commutes with the sentence pooling, so it is
folded into the classifier's weights (:meth:`Calibration.fold`): tagging pays nothing for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_MIN_SLOPE = 0.05


@dataclass(frozen=True)
class Calibration:
    slope: np.ndarray  # a, one per norm
    offset: np.ndarray  # c, one per norm

    @classmethod
    def identity(cls, n: int) -> Calibration:
        return cls(np.ones(n), np.zeros(n))

    def logits(self, scores: np.ndarray) -> np.ndarray:
        return scores * self.slope + self.offset

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        return _sigmoid(self.logits(scores))

    def fold(self, weights: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The linear layer's weights and bias with the calibration applied."""
        return (weights * self.slope[None, :]).astype("float32"), (bias * self.slope + self.offset).astype("float32")

    def to_dict(self, codes: list[str]) -> dict[str, list[float]]:
        return {code: [round(float(a), 4), round(float(c), 4)] for code, a, c in zip(codes, self.slope, self.offset, strict=True)}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


def _newton(s: np.ndarray, y: np.ndarray, w: np.ndarray, start: np.ndarray, prior: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """(a, c) minimising weighted log loss of sigmoid(a·s + c) plus ``strength · (θ − prior)²/2``."""
    theta = start.astype(float).copy()
    design = np.stack([s, np.ones_like(s)], axis=1)
    for _ in range(50):
        p = _sigmoid(design @ theta)
        gradient = design.T @ (w * (p - y)) + strength * (theta - prior)
        hessian = (design * (w * p * (1 - p))[:, None]).T @ design + np.diag(strength + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        theta[0] = max(theta[0], _MIN_SLOPE)
        if np.abs(step).max() < 1e-7:
            break
    return theta


def fit_calibration(logits: np.ndarray, gold: np.ndarray, weights: np.ndarray, *, prior: float) -> Calibration:
    """Per-norm Platt scaling of the linear scores ``logits`` (messages × norms) against ``gold``,
    each message weighing ``weights``; each norm pulled towards the fit shared by all norms."""
    n_messages, n_norms = logits.shape
    if not n_messages:
        return Calibration.identity(n_norms)
    gold = gold.astype(float)
    weights = np.asarray(weights, dtype=float)
    shared = _newton(logits.ravel(), gold.ravel(), np.repeat(weights, n_norms), np.array([1.0, 0.0]), np.zeros(2), np.zeros(2))
    slopes, offsets = np.empty(n_norms), np.empty(n_norms)
    for j in range(n_norms):
        s = logits[:, j]
        p = _sigmoid(shared[0] * s + shared[1])
        curvature = p * (1 - p)
        # As if the shared fit had been seen on ``prior`` more messages like this norm's.
        strength = prior * np.array([np.mean(curvature * s * s), np.mean(curvature)])
        slopes[j], offsets[j] = _newton(s, gold[:, j], weights, shared, shared, strength)
    return Calibration(slopes, offsets)
