"""Cross-validation over the training files: how to compare tagger designs without the held-out file.

Two ways to split:

- **by file** (the default): each training file, written by one writer or for one section, is
  left out in turn; the model trained on the other files tags it. This asks what matters for
  messages nobody here has seen: does the model generalise to a new writer's phrasing?
- **random folds**: every message falls in one of ``k`` folds by a hash of its text.

The out-of-fold predictions of all folds are pooled and scored as ``evaluate`` scores a file.
Each fold trains without the final refit on all its messages (``refit_on_all=False``) where the design
has a validation share: half the time, and the same for every design being compared. With
``calibration_folds`` the model that tags always trains on all of its fold's messages; compare such a
design with one that refits (``refit_on_all``), as production trains.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from .config import TaggerConfig
from .corpus import Fold, Message, restrict_to_labels
from .metrics import kind_scores, norm_scores, recall_at_k
from .train import train


def folds_by_group(groups: Mapping[str, Sequence[Message]], *, only: Sequence[str] | None = None) -> list[Fold]:
    """One fold per group (training file): the group is the test part, the other groups train.
    With ``only``, just those groups are left out in turn (the others always train)."""
    names = [name for name in groups if only is None or name in only]
    return [Fold(name, [m for other, messages in groups.items() if other != name for m in messages], list(groups[name])) for name in names]


def cross_validate(
    folds: Sequence[Fold],
    labels: Mapping[str, Sequence[str]],
    *,
    config: TaggerConfig | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    peer: bool = False,
    refit: bool = False,
) -> dict:
    """Scores of the pooled out-of-fold predictions (``evaluate``'s keys), plus per fold its
    messages and norm micro-F1; ``progress(done, total, name)`` is called after each fold. With ``refit``
    each fold's model trains on all of its fold's messages, as production trains."""
    config = config or TaggerConfig()
    if not refit:
        config = dataclasses.replace(config, refit_on_all=False)
    codes = sorted(labels)
    gold: list[Message] = []
    predicted_norms: list[list[str]] = []
    predicted_kinds: list[str] = []
    ranked: list[list[str]] = []
    per_fold = []
    peer_norms: list[list[str]] = []
    for index, fold in enumerate(folds, start=1):
        test, _ = restrict_to_labels(fold.test, codes)
        tagger = train(fold.training, labels, config=config)
        results = list(tagger.tag_many([m.text for m in test]))
        fold_scores = norm_scores([m.norms for m in test], [r.norms for r in results], codes)
        support = sum(len(m.norms) for m in test)
        # A file of messages about no norm has no norm F1 to speak of: None, not 0.
        entry = {"name": fold.name, "messages": len(test), "norms": support, "norm_micro_f1": fold_scores["norm_micro_f1"] if support else None}
        if peer:
            from .baseline import train_baseline

            peer_model = train_baseline(fold.training, labels, config=config)
            peer_results = [r.norms for r in peer_model.tag_many([m.text for m in test])]
            peer_norms.extend(peer_results)
            peer_f1 = norm_scores([m.norms for m in test], peer_results, codes)["norm_micro_f1"]
            entry["peer_norm_micro_f1"] = peer_f1 if support else None
        per_fold.append(entry)
        gold.extend(test)
        predicted_norms.extend(r.norms for r in results)
        predicted_kinds.extend(r.kind for r in results)
        ranked.extend(r.ranked(3) for r in results)
        if progress:
            progress(index, len(folds), fold.name)
    by_style = {}
    for style in ("clean", "real"):
        chosen = [k for k, m in enumerate(gold) if m.style == style]
        if chosen:
            scores = norm_scores([gold[k].norms for k in chosen], [predicted_norms[k] for k in chosen], codes)
            by_style[style] = {
                "messages": len(chosen),
                **{key: scores[key] for key in ("norm_micro_f1", "norm_micro_precision", "norm_micro_recall", "norm_macro_f1", "exact_match")},
                "recall_at_3": recall_at_k([gold[k].norms for k in chosen], [ranked[k] for k in chosen], 3),
                "kind_accuracy": kind_scores([gold[k].kind for k in chosen], [predicted_kinds[k] for k in chosen])["kind_accuracy"],
            }
            if peer:
                peer_f1 = norm_scores([gold[k].norms for k in chosen], [peer_norms[k] for k in chosen], codes)["norm_micro_f1"]
                by_style[style]["peer_norm_micro_f1"] = peer_f1
                by_style[style]["lead"] = scores["norm_micro_f1"] - peer_f1
    return {
        "messages": len(gold),
        **norm_scores([m.norms for m in gold], predicted_norms, codes),
        "recall_at_3": recall_at_k([m.norms for m in gold], ranked, 3),
        **kind_scores([m.kind for m in gold], predicted_kinds),
        "by_style": by_style,
        "folds": per_fold,
        **({"peer_norm_micro_f1": norm_scores([m.norms for m in gold], peer_norms, codes)["norm_micro_f1"]} if peer else {}),
    }
