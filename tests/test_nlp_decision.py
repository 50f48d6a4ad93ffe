"""The learned decision over a message's best-scored norms (``nlp.core.decision``)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from nlp.core import Tagger, TaggerConfig, train
from nlp.core import decision as decision_module
from nlp.core.decision import FEATURES, MIN_MESSAGES, Decision, fit_decision
from nlp.core.metrics import norm_scores
from tests.test_nlp_core import LABELS, TINY_CONFIG, tiny_corpus

CODES = ["A", "B", "C", "D", "E"]


def _scores(rng: np.random.Generator, n: int, second: tuple[float, float], second_right: float) -> tuple[np.ndarray, np.ndarray]:
    """Messages whose best norm (0.6-0.95) is always right, whose second norm scores in ``second`` and
    is right with chance ``second_right``, and whose other norms score low and are never right."""
    probabilities = rng.uniform(0.0, 0.2, size=(n, len(CODES)))
    gold = np.zeros((n, len(CODES)), dtype=bool)
    for i in range(n):
        best, runner_up = rng.choice(len(CODES), size=2, replace=False)
        probabilities[i, best] = rng.uniform(0.6, 0.95)
        probabilities[i, runner_up] = rng.uniform(*second)
        gold[i, best] = True
        gold[i, runner_up] = rng.random() < second_right
    return probabilities, gold


def _f1(chosen: np.ndarray, gold: np.ndarray) -> float:
    def codes(rows: np.ndarray) -> list[list[str]]:
        return [[c for c, keep in zip(CODES, row, strict=True) if keep] for row in rows]

    return norm_scores(codes(gold), codes(chosen), CODES)["norm_micro_f1"]


@pytest.mark.parametrize(
    ("second", "second_right", "suggest_second"),
    [((0.5, 0.7), 0.15, False), ((0.3, 0.45), 0.9, True)],
    ids=["over-threshold-but-mostly-wrong", "under-threshold-but-mostly-right"],
)
def test_the_decision_learns_what_the_thresholds_get_wrong_about_a_second_norm(second, second_right, suggest_second):
    """Thresholds at 0.5 suggest a second norm by its own score alone. Where seconds over their threshold
    are mostly wrong the decision learns to leave them, and where seconds under it are mostly right it
    learns to suggest them; both on messages it was not fitted on, with a better F1 than the thresholds."""
    rng = np.random.default_rng(7)
    thresholds = np.full(len(CODES), 0.5)
    fit_p, fit_gold = _scores(rng, 800, second, second_right)
    decision = fit_decision(fit_p, thresholds, None, fit_gold, np.ones(len(fit_p)))
    assert decision is not None and len(decision.coef) == len(FEATURES)
    test_p, test_gold = _scores(rng, 400, second, second_right)
    chosen = decision.choose(test_p, thresholds, None)
    by_threshold = test_p >= thresholds
    best = test_p.argmax(axis=1)
    assert chosen[np.arange(len(test_p)), best].all()  # the best norm (right every time) is kept
    assert chosen.sum(axis=1).mean() == pytest.approx(2.0 if suggest_second else 1.0, abs=0.02)
    assert _f1(chosen, test_gold) > _f1(by_threshold, test_gold) + 0.05


def test_the_decision_learns_from_the_gate_when_nothing_else_tells_right_from_wrong():
    """Seconds that score alike are right exactly when the gate says the message concerns a norm
    strongly: thresholds cannot tell them apart, the decision reads the gate."""
    rng = np.random.default_rng(11)
    thresholds = np.full(len(CODES), 0.5)

    def scores(n):
        probabilities, _ = _scores(rng, n, (0.5, 0.6), 0.0)
        gate = rng.uniform(0.3, 0.99, size=n)
        gold = np.zeros_like(probabilities, dtype=bool)
        order = np.argsort(-probabilities, axis=1)
        gold[np.arange(n), order[:, 0]] = True
        gold[np.arange(n), order[:, 1]] = gate > 0.7
        return probabilities, gate, gold

    fit_p, fit_gate, fit_gold = scores(800)
    decision = fit_decision(fit_p, thresholds, fit_gate, fit_gold, np.ones(len(fit_p)))
    test_p, test_gate, test_gold = scores(400)
    chosen = decision.choose(test_p, thresholds, test_gate)
    assert (chosen == test_gold).mean() > 0.98
    assert _f1(chosen, test_gold) > _f1(test_p >= thresholds, test_gold) + 0.05
    # Without the gate (a model without one) the same decision can only guess: it does worse.
    assert (decision.choose(test_p, thresholds, None) == test_gold).mean() < 0.95


def test_the_decision_only_suggests_a_run_from_the_best_norm():
    """A candidate is suggested only when every better-scored one is: a decision that would take the
    third norm but not the second takes neither."""
    decision = Decision(coef=(0.0, 0.0, 0.0, -10.0, 0.0, 0.0), intercept=5.0, cutoff=0.5)  # every candidate but the second
    probabilities = np.array([[0.9, 0.8, 0.7, 0.1, 0.0]])
    assert decision.choose(probabilities, np.full(5, 0.5), None).tolist() == [[True, False, False, False, False]]
    assert Decision(coef=(0.0,) * 6, intercept=5.0, cutoff=0.5).choose(probabilities, np.full(5, 0.5), None).tolist() == [[True, True, True, False, False]]


def test_nothing_to_learn_gives_no_decision():
    """Candidates that are all right (or all wrong) teach nothing: the thresholds decide."""
    probabilities = np.array([[0.9, 0.8, 0.7, 0.1, 0.0], [0.2, 0.9, 0.6, 0.5, 0.1]])
    everything = probabilities > 0.3
    assert fit_decision(probabilities, np.full(5, 0.5), None, np.ones_like(everything), np.ones(2), min_messages=0) is None
    assert fit_decision(probabilities, np.full(5, 0.5), None, np.zeros_like(everything), np.ones(2), min_messages=0) is None
    mixed = np.zeros_like(everything)
    mixed[:, 0] = True
    assert fit_decision(probabilities, np.full(5, 0.5), None, mixed, np.ones(2), min_messages=0) is not None


def test_a_small_corpus_keeps_thresholds_and_rules_and_says_so():
    """Too few validation messages for seven numbers and a cutoff: no decision, and a warning in the
    training report (a new municipality's first corpus; a decision fitted on a few dozen messages swings
    from one retraining to the next)."""
    rng = np.random.default_rng(3)
    probabilities, gold = _scores(rng, MIN_MESSAGES - 1, (0.5, 0.7), 0.5)
    assert fit_decision(probabilities, np.full(len(CODES), 0.5), None, gold, np.ones(len(gold))) is None
    more, more_gold = _scores(rng, MIN_MESSAGES, (0.5, 0.7), 0.5)
    assert fit_decision(more, np.full(len(CODES), 0.5), None, more_gold, np.ones(len(more_gold))) is not None
    small = train(tiny_corpus(), LABELS, config=TINY_CONFIG)
    assert small.decision is None and len(tiny_corpus()) < MIN_MESSAGES
    assert any("no learned decision" in warning for warning in small.report["warnings"])


def test_a_decision_over_other_features_is_refused_with_a_clear_error():
    data = Decision(coef=(1.0,) * 6, intercept=0.0, cutoff=0.5).to_dict()
    assert Decision.from_dict(data) == Decision(coef=(1.0,) * 6, intercept=0.0, cutoff=0.5)
    assert Decision.from_dict(None) is None
    with pytest.raises(ValueError, match="other features"):
        Decision.from_dict({**data, "features": ["score", "length"]})


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    """A tiny corpus's tagger, with a decision though its corpus is below ``MIN_MESSAGES``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(decision_module, "MIN_MESSAGES", 0)
        return train(tiny_corpus(), LABELS, config=dataclasses.replace(TINY_CONFIG, refit_on_all=True))


def test_a_trained_tagger_decides_with_its_decision_and_keeps_it_when_saved(tagger, tmp_path):
    assert tagger.decision is not None and tagger.report["decision"] == tagger.decision.to_dict()
    texts = [m.text for m in tiny_corpus()] + ["Ik hing in de wacht en de baliemedewerker was onvriendelijk.", "Een vraag over mijn paspoort."]
    results = list(tagger.pipe(texts))
    for result in results:
        assert result.norms == result.ranked(len(result.norms))  # suggestions are the top of the ranking
    loaded = Tagger.load(tagger.save(tmp_path / "model"))
    assert loaded.decision == tagger.decision
    assert [r.norms for r in loaded.pipe(texts)] == [r.norms for r in results]
    # Without its decision the same weights tag by thresholds and rules: it is the decision that decides.
    plain = Tagger(tagger.nlp, tagger.thresholds, version="plain", config=tagger.config)
    changed = Tagger(tagger.nlp, tagger.thresholds, version="never", config=tagger.config, decision=dataclasses.replace(tagger.decision, cutoff=1.01))
    assert all(r.norms == [] for r in changed.pipe(texts))
    assert any(r.norms for r in plain.pipe(texts))


def test_without_a_learned_decision_the_tagger_trains_and_tags_by_thresholds_and_rules():
    plain = train(tiny_corpus(), LABELS, config=dataclasses.replace(TINY_CONFIG, learned_decision=False))
    assert plain.decision is None and plain.report["decision"] is None
    assert TaggerConfig().learned_decision
    result = plain.tag("Ik hing een half uur in de wacht bij de gemeente.")
    assert result.norms == ["TEL-25SEC"]
    assert all(result.norm_scores[code] >= plain.thresholds[code] for code in result.norms)


def test_a_model_saved_before_the_decision_is_current_and_tags_by_its_rules(tagger, tmp_path):
    """A model of the same features saved without a decision (before it existed) is not retrained for
    it: it loads as current and tags by thresholds and rules, as it did."""
    path = tagger.save(tmp_path / "older")
    meta = json.loads((path / "tagger.json").read_text(encoding="utf-8"))
    del meta["decision"]
    (path / "tagger.json").write_text(json.dumps(meta), encoding="utf-8")
    older = Tagger.load(path)
    assert older.decision is None and older.is_current
    rules = Tagger(tagger.nlp, tagger.thresholds, version=tagger.version, config=tagger.config)
    texts = [m.text for m in tiny_corpus()]
    assert [r.norms for r in older.pipe(texts)] == [r.norms for r in rules.pipe(texts)]
