"""The tagger's settings: features, training and threshold choice. Part of every model version."""

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
    group_weights: dict[str, float] = field(default_factory=lambda: {"lemma": 1.0, "bigram": 1.0, "char": 1.0, "keyword": 1.0})
    hash_length: int = 2**17
    # A norm's score mixes the whole message's score with the best sentence's (see features.py).
    sentence_weight: float = 0.5
    pool_in_training: bool = False
    # Training: Adam with an L2 penalty on the gradient.
    epochs: int = 20
    batch_size: int = 64
    learn_rate: float = 0.02
    l2: float = 1e-4
    kind_l2: float = 3e-3
    grad_clip: float = 1.0
    seed: int = 0
    # Thresholds: a share of the training files, chosen by a hash of each text, is held apart to
    # choose one threshold per norm; then the model is trained again on all training messages.
    validation_share: float = 0.2
    refit_on_all: bool = True
    # Each norm's best threshold on the validation part is pulled towards the one best threshold
    # for all norms, as if that one had been seen on this many extra positive messages.
    threshold_prior_weight: float = 25.0
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
