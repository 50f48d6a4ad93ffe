"""The Django-free core of the tagger: build, train, evaluate, save, load and tag.

Labels (active norm codes with their keywords) come in as data, from a charter file
(``load_charter_labels``) or, in the Django layer, from the database::

    from nlp.core import Message, ensure_model, load_charter_labels

    labels = load_charter_labels("cms/charters/harlingen-2017.yaml")
    tagger = ensure_model("var/models", sorted(Path("nlp/corpus").glob("train-*.jsonl")), labels)
    result = tagger.tag("Ik hing drie kwartier in de wacht")
    result.kind, result.norms, result.norm_scores, result.explain, tagger.version

Nothing here imports Django.
"""

from .config import TaggerConfig
from .corpus import KINDS, Message, read_corpus, read_jsonl, split_validation
from .evaluate import evaluate
from .labels import canonical_labels, load_charter_labels
from .pipeline import build_pipeline
from .store import ensure_model, model_path, save_model
from .tagger import Tagger, TagResult
from .train import TrainingProgress, model_version, train

__all__ = [
    "KINDS",
    "BaselineTagger",
    "Message",
    "TagResult",
    "Tagger",
    "TaggerConfig",
    "TrainingProgress",
    "build_pipeline",
    "canonical_labels",
    "ensure_model",
    "evaluate",
    "load_charter_labels",
    "model_path",
    "model_version",
    "read_corpus",
    "read_jsonl",
    "save_model",
    "split_validation",
    "train",
    "train_baseline",
]


def __getattr__(name: str):
    # The baseline pulls in scikit-learn; import it only when asked, so loading a tagger stays fast.
    if name in ("BaselineTagger", "train_baseline"):
        from . import baseline

        return getattr(baseline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
