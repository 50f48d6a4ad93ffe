"""The guard on a retrained tagger: not worse than the active model, and no slow drift down.

A weekly retrain may score up to ``TOLERANCE`` below the model before it (noise), but a chain of such
retrains must not walk the scores down step by step: the best an active model reached on the same
held-out files is carried on and guarded too. A forced activation (a person chose it) starts afresh,
and so do new held-out files (the old best was measured on other text).
"""

import pytest

from cases.models import TaggerModel
from cases.tagging.training import HELDOUT_FILES, TOLERANCE, tagger_activate

pytestmark = pytest.mark.django_db

FILES = "files-of-now"


def model(version: str, f1: float, *, files: str = FILES) -> TaggerModel:
    return TaggerModel.objects.create(version=version, path=f"/tmp/{version}", scores={"norm_micro_f1": f1, HELDOUT_FILES: files})


def active_version() -> str:
    return TaggerModel.objects.get(active=True).version


def test_retrains_each_a_little_worse_stop_at_the_tolerance_below_the_best():
    """0.900 → 0.896 → 0.892: each within the tolerance of the one before, the second not of the best."""
    assert tagger_activate(model("first", 0.900))[1]
    assert tagger_activate(model("second", 0.900 - 0.8 * TOLERANCE))[1]  # within the tolerance: noise
    _model, activated, reason = tagger_activate(model("third", 0.900 - 1.6 * TOLERANCE))
    assert not activated, "a second small step down was activated: the scores drift"
    assert "norm_micro_f1 (0.892 < 0.900)" in reason
    assert active_version() == "second"


def test_a_better_retrain_raises_the_bar():
    tagger_activate(model("first", 0.900))
    tagger_activate(model("better", 0.920))
    assert not tagger_activate(model("slip", 0.913))[1]
    assert tagger_activate(model("close", 0.917))[1]


def test_a_forced_model_is_the_new_reference():
    tagger_activate(model("first", 0.900))
    assert tagger_activate(model("chosen", 0.850), force=True)[1]
    assert tagger_activate(model("next", 0.847))[1]  # judged against the chosen model, not the old best


def test_new_held_out_files_start_a_new_reference():
    """Scores on other held-out files are not comparable: the best of the old files is not carried over."""
    tagger_activate(model("first", 0.900))
    tagger_activate(model("second", 0.897))
    second = TaggerModel.objects.get(version="second")
    rescored = {**second.scores, "norm_micro_f1": 0.880, HELDOUT_FILES: "harder-files"}  # as _rescore_active: the rest is kept
    TaggerModel.objects.filter(pk=second.pk).update(scores=rescored)
    assert tagger_activate(model("third", 0.877, files="harder-files"))[1]
