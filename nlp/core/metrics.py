"""Scores for norm tagging (multi-label) and kind (one of three), and the choice of thresholds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .corpus import KINDS

THRESHOLD_GRID = np.round(np.concatenate([np.arange(0.005, 0.05, 0.005), np.arange(0.05, 0.951, 0.01)]), 3)


def _f1(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def best_on_grid(f1s: np.ndarray, grid: np.ndarray = THRESHOLD_GRID) -> float:
    """The middle of the grid's values (thresholds, cutoffs) that reach the best F1: a plateau's edge is a
    fluke of the sample."""
    return float(np.median(grid[f1s >= f1s.max() - 1e-9]))


def choose_thresholds(scores: np.ndarray, gold: np.ndarray, *, prior_weight: float, weights: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """One threshold per label (column) that maximises its F1 on validation scores.

    A label with few validation positives gets a threshold close to the one global threshold
    that maximises micro-F1 over all labels. ``weights`` (one per row) make some validation
    messages count more. Returns (thresholds, global threshold).
    """
    gold = gold.astype(bool)
    w = np.ones(len(scores)) if weights is None else np.asarray(weights, dtype="float64")
    global_f1s = []
    for threshold in THRESHOLD_GRID:
        predicted = scores >= threshold
        tp = float(((predicted & gold) * w[:, None]).sum())
        global_f1s.append(_f1(tp, float(((predicted & ~gold) * w[:, None]).sum()), float(((~predicted & gold) * w[:, None]).sum()))[2])
    prior = best_on_grid(np.array(global_f1s))
    thresholds = np.full(scores.shape[1], prior, dtype="float32")
    for j in range(scores.shape[1]):
        positives = float(gold[:, j].sum())
        if positives == 0:
            continue
        predicted = scores[:, j][:, None] >= THRESHOLD_GRID[None, :]
        truth = gold[:, j][:, None]
        tp = ((predicted & truth) * w[:, None]).sum(axis=0)
        fp = ((predicted & ~truth) * w[:, None]).sum(axis=0)
        fn = ((~predicted & truth) * w[:, None]).sum(axis=0)
        f1s = np.where(2 * tp + fp + fn > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)
        best = best_on_grid(f1s)
        thresholds[j] = (best * positives + prior * prior_weight) / (positives + prior_weight)
    return thresholds, prior


def norm_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], labels: Sequence[str]) -> dict:
    """Micro and macro F1, per-norm precision/recall/F1/support, exact match, and how often a
    message that concerns no norm gets none. Macro F1 averages the norms that occur in ``gold``."""
    per_norm = {}
    totals = np.zeros(3)
    for code in labels:
        tp = sum(code in g and code in p for g, p in zip(gold, predicted, strict=True))
        fp = sum(code not in g and code in p for g, p in zip(gold, predicted, strict=True))
        fn = sum(code in g and code not in p for g, p in zip(gold, predicted, strict=True))
        precision, recall, f1 = _f1(tp, fp, fn)
        per_norm[code] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn, "predicted": tp + fp}
        totals += (tp, fp, fn)
    micro_p, micro_r, micro_f1 = _f1(*(float(total) for total in totals))
    supported = [scores["f1"] for scores in per_norm.values() if scores["support"]]
    without = [p for g, p in zip(gold, predicted, strict=True) if not g]
    return {
        "norm_micro_precision": micro_p,
        "norm_micro_recall": micro_r,
        "norm_micro_f1": micro_f1,
        "norm_macro_f1": float(np.mean(supported)) if supported else 0.0,
        "exact_match": float(np.mean([set(g) == set(p) for g, p in zip(gold, predicted, strict=True)])) if gold else 0.0,
        "no_norm_messages": len(without),
        "no_norm_empty_share": float(np.mean([not p for p in without])) if without else None,
        "per_norm": per_norm,
    }


def by_norm_count(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict[str, dict]:
    """The messages grouped by how many norms they are annotated with ("0", "1", "2+": about none, one,
    several): per group the messages, the share whose norm set is exactly right, micro precision and recall
    (None where nothing was suggested or annotated), norms suggested beyond the annotated and annotated norms
    missed. Over-tagging a message about one norm and missing the second of several are different faults."""
    counts = {name: {"messages": 0, "exact": 0, "tp": 0, "extra": 0, "missed": 0} for name in ("0", "1", "2+")}
    for annotated, suggested in zip(gold, predicted, strict=True):
        annotated, suggested = set(annotated), set(suggested)
        group = counts["0" if not annotated else "1" if len(annotated) == 1 else "2+"]
        group["messages"] += 1
        group["exact"] += annotated == suggested
        group["tp"] += len(annotated & suggested)
        group["extra"] += len(suggested - annotated)
        group["missed"] += len(annotated - suggested)
    return {
        name: {
            "messages": c["messages"],
            "exact_match": c["exact"] / c["messages"] if c["messages"] else None,
            "precision": c["tp"] / (c["tp"] + c["extra"]) if c["tp"] + c["extra"] else None,
            "recall": c["tp"] / (c["tp"] + c["missed"]) if c["tp"] + c["missed"] else None,
            "extra_norms": c["extra"],
            "missed_norms": c["missed"],
        }
        for name, c in counts.items()
    }


def kind_scores(gold: Sequence[str], predicted: Sequence[str]) -> dict:
    """Accuracy, the confusion table (gold → predicted → count) and per-kind precision/recall/F1."""
    confusion = {g: {p: 0 for p in KINDS} for g in KINDS}
    for g, p in zip(gold, predicted, strict=True):
        confusion[g][p] += 1
    per_kind = {}
    for kind in KINDS:
        tp = confusion[kind][kind]
        fp = sum(confusion[g][kind] for g in KINDS if g != kind)
        fn = sum(confusion[kind][p] for p in KINDS if p != kind)
        precision, recall, f1 = _f1(tp, fp, fn)
        per_kind[kind] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    accuracy = float(np.mean([g == p for g, p in zip(gold, predicted, strict=True)])) if gold else 0.0
    return {"kind_accuracy": accuracy, "kind_confusion": confusion, "per_kind": per_kind}


def recall_at_k(gold: Sequence[Sequence[str]], ranked: Sequence[Sequence[str]], k: int = 3) -> float | None:
    """The share of annotated norms that are among the ``k`` best-scored norms of their message
    (None when no message has a norm)."""
    total = sum(len(g) for g in gold)
    if not total:
        return None
    hits = sum(len(set(g) & set(r[:k])) for g, r in zip(gold, ranked, strict=True))
    return hits / total


def calibration_error(gold: Sequence[Sequence[str]], scores: Sequence[dict[str, float]], bins: int = 10) -> float | None:
    """Expected calibration error of the norm scores: the mean gap, weighted by how many scores fall
    in each of ``bins`` equal-width bins, between the mean score and the share that is right."""
    pairs = [(score, code in g) for g, row in zip(gold, scores, strict=True) for code, score in row.items()]
    if not pairs:
        return None
    values = np.array([p for p, _ in pairs])
    truth = np.array([t for _, t in pairs], dtype=float)
    which = np.minimum((values * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            error += mask.mean() * abs(values[mask].mean() - truth[mask].mean())
    return float(error)
