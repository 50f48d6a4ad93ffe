"""The tagger's settings: features, training, calibration and threshold choice. Part of every model version."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class TaggerConfig:
    """Everything that shapes a trained model besides the corpus and the labels.

    Changing any field gives a new model version (and a new cached model).
    """

    # Features (``nlp.core.features``).
    char_ngrams: tuple[int, int] = (3, 5)
    bigrams: bool = True
    sentences: bool = True
    # Channel and topic cues per sentence (``nlp.core.cues``); their group weighs 0.3 (cross-validated
    # on the real-style training files, each left out in turn: 0.3 beat 0, 0.5 and 1.0; at stop 40 0.5 gave 0.893 against 0.902).
    cues: bool = True
    # The charter's keywords are a weaker signal than the words around them: words like "bellen"
    # or "gesloten" occur in many messages that concern no norm (cross-validated on the training
    # files: weight 0.3 beat 1.0 and 0). Word pairs ("geen reactie", "niet teruggebeld") weigh more than
    # single words: 1.5 (each real-style training file left out in turn, December 6 with 5,067 messages:
    # micro-F1 0.874 -> 0.881; 2.0 gave 0.881, 2.5 0.880, 0.5 0.873). Stop 41, the 11 older real-style files left out in
    # turn: character n-grams at 0.7 gave 0.899 and at 1.4 0.895, against 0.902 at 1.0.
    group_weights: dict[str, float] = field(default_factory=lambda: {"lemma": 1.0, "bigram": 1.5, "char": 1.0, "keyword": 0.3, "cue": 0.3})
    # Keys seen in fewer training messages are dropped (see FeatureExtractor.fit).
    min_df: int = 3
    # A norm's score mixes the whole message's score with the best sentence's (see features.py).
    # Cross-validated on the real-style training files, each left out in turn: 0.2 beat 0, 0.35 and
    # 0.6 (a higher weight lets a side remark in one sentence of a long story raise a norm). Stop 40, the 11 older
    # real-style files left out in turn: 0.3 gave 0.894 against 0.902.
    sentence_weight: float = 0.2
    # A run of more tokens than this without a sentence end (a message typed without punctuation) is
    # cut in equal parts, each a sentence row (0: off). Cross-validated on the real-style training files,
    # each left out in turn: micro-F1 0.851 -> 0.851 as written, and with the left-out file's punctuation
    # removed 0.831 -> 0.835 (recall 0.816 -> 0.837); 30 gave 0.852 and 0.834.
    sentence_max_tokens: int = 20
    # When tagging, a word that is no Dutch word (not in the lemma table nor in pyspellchecker's Dutch word
    # list) and one typing error from a word form of ``min_df`` or more training messages is read as that form
    # (``nlp.core.spelling``). The 11 older real-style files left out in turn, stop 42: micro-F1 as written 0.902
    # either way; with typing errors in 10 % of the left-out words 0.874 -> 0.893, in 20 % 0.860 -> 0.890.
    spelling: bool = True
    # Training: logistic regression (scikit-learn, L2 penalty, inverse strength C) on the whole
    # messages' features; each norm's positives weighted up to balance its negatives.
    # (Stop 39, the 11 older real-style files left out in turn: C = 12 gave 0.902 as 8 did; n-grams of 3 to 6
    # characters and ``min_df`` 2 gave 0.901; README, "Stop 39".)
    C: float = 8.0
    kind_C: float = 32.0
    balance_norms: bool = True
    # Each real-style message (``train-real-*.jsonl``, officers' cases) counts this many times in
    # the fit: they are few beside the clean synthetic files, and real text is what gets tagged.
    real_weight: float = 1.0
    # Thresholds and calibration: a share of the training files, chosen by a hash of each text, is
    # held apart; then the model is trained again on all training messages.
    validation_share: float = 0.2
    # Instead (2 or more): every training message is scored by a model trained without it, in this many
    # parts (``train._cross_fitted_scores``), and calibration and thresholds rest on all of them, five
    # times the real-style messages of a 0.2 share; the model that tags trains on all messages. Costs a
    # training per part. Each real-style training file left out in turn, with the final model trained on
    # all of its fold's messages: 0.877 -> 0.881 (5 parts); with the bigrams' 1.5, 0.882 -> 0.888 (10 parts: 0.886).
    calibration_folds: int = 5
    refit_on_all: bool = True
    # Calibration (Platt, per norm, pulled towards one shared fit as if it were seen on this many
    # extra messages); real-style validation messages weigh ``calibration_real_weight`` times more (with
    # the five calibration parts, each real-style training file left out in turn: 1 gave 0.885, 3 0.888,
    # 6 0.890, 10 0.886).
    calibrate: bool = True
    calibration_prior: float = 200.0
    calibration_real_weight: float = 6.0
    # Each norm's best threshold on the validation part is pulled towards the one best threshold
    # for all norms, as if that one had been seen on this many extra positive messages (stop 40: 10 gave 0.901
    # against 0.902; and a calibration prior of 100 instead of 200, 0.901).
    threshold_prior_weight: float = 25.0
    # Tagging policy. A message of kind "other" (questions, forms, thanks) never concerns a norm in
    # the corpus: when the kind classifier says "other", no norm is suggested. Only where nobody
    # decided the kind: a case is a complaint or suggestion, and is tagged as one (``Tagger.tag(kind=)``).
    other_has_no_norms: bool = True
    # A norm besides the best one is suggested only when it scores at least this share of the best
    # suggested norm (0: off): a side remark in a long story rarely is a second breach.
    relative_floor: float = 0.5
    # The norm gate: one more classifier, "does this message concern any norm at all", trained on every
    # message (a substance complaint told at length, a question, a thank-you note: no). Below
    # ``norm_gate_floor`` no norm is suggested; at or above ``norm_gate_top`` a message with none gets its
    # best-scored norm (not for "other"). 0 and above 1: off. Cross-validated on the real-style training
    # files, each left out in turn: micro-F1 0.840 -> 0.852 with 0.3 and 0.85 (0.847 with the floor alone).
    # Checked again at stop 39, with the learned decision and 5,482 messages: a floor of 0.2 or 0.4 gave 0.901 against 0.902.
    norm_gate_floor: float = 0.3
    norm_gate_top: float = 0.85
    # The learned decision (``nlp.core.decision``): a small logistic regression over each message's three
    # best-scored norms, fitted on the out-of-fold scores, decides which to suggest. Where it is fitted it
    # takes the place of ``relative_floor`` and ``norm_gate_top``; the gate's floor still holds. Each
    # real-style training file left out in turn, production's training in each fold: micro-F1 0.890 -> 0.896.
    learned_decision: bool = True
    # A norm with fewer training messages than this is reported as a warning.
    min_examples: int = 10

    def to_dict(self) -> dict:
        data = asdict(self)
        data["char_ngrams"] = list(self.char_ngrams)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TaggerConfig:
        known = {name: value for name, value in data.items() if name in cls.__dataclass_fields__}
        if "char_ngrams" in known:
            known["char_ngrams"] = tuple(known["char_ngrams"])
        return cls(**known)
