"""Models on disk, one folder per version: ``<model_dir>/<version>/``.

The version is a hash of the corpus, the labels and keywords, the configuration and the spaCy
version (``model_version``), so a cached model is reused exactly when nothing that shaped it
changed. A model is written to a temporary folder and renamed into place, so a reader never
sees half a model and two processes training at once do no harm.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from .config import TaggerConfig
from .corpus import Message, read_corpus
from .tagger import META_FILE, Tagger
from .train import ProgressCallback, model_version, train


def model_path(model_dir: str | Path, version: str) -> Path:
    return Path(model_dir) / version


def save_model(tagger: Tagger, model_dir: str | Path) -> Path:
    """Save under ``<model_dir>/<version>/``, atomically; an existing copy is kept."""
    target = model_path(model_dir, tagger.version)
    if (target / META_FILE).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{tagger.version}-", dir=target.parent))
    try:
        tagger.save(staging)
        try:
            staging.rename(target)
        except OSError:
            if not (target / META_FILE).exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def ensure_model(
    model_dir: str | Path,
    corpus_paths: Iterable[str | Path],
    labels: Mapping[str, Sequence[str]],
    *,
    extra_messages: Sequence[Message] = (),
    config: TaggerConfig | None = None,
    progress: ProgressCallback | None = None,
) -> Tagger:
    """The cached model for this corpus (plus ``extra_messages``, e.g. officer-confirmed cases),
    labels and configuration; trained and cached first if there is none."""
    config = config or TaggerConfig()
    messages = read_corpus(sorted(Path(p) for p in corpus_paths)) + list(extra_messages)
    version = model_version(messages, labels, config)
    path = model_path(model_dir, version)
    if (path / META_FILE).exists():
        return Tagger.load(path)
    tagger = train(messages, labels, config=config, progress=progress)
    save_model(tagger, model_dir)
    return tagger
