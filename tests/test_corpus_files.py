"""The shipped corpus keeps its split policy (nlp/corpus/README.md): every file reads, every code is
one of the charter's, and no held-out text is also a training text."""

from __future__ import annotations

import re
from pathlib import Path

from nlp.core.corpus import read_jsonl, style_of
from nlp.core.labels import load_charter_labels

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "nlp" / "corpus"
CHARTER = ROOT / "cms" / "charters" / "harlingen-2017.yaml"


def folded(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def test_every_corpus_file_reads_and_names_only_the_charters_norms():
    codes = set(load_charter_labels(CHARTER))
    files = sorted(CORPUS.glob("train-*.jsonl")) + sorted(CORPUS.glob("heldout*.jsonl"))
    assert len(files) >= 20
    for path in files:
        messages = read_jsonl(path)
        assert messages, path.name
        unknown = {code for message in messages for code in message.norms} - codes
        assert not unknown, f"{path.name}: {sorted(unknown)}"
        texts = [folded(message.text) for message in messages]
        assert len(texts) == len(set(texts)), f"{path.name} holds the same text twice"


def test_no_held_out_text_is_a_training_text_and_the_real_style_files_are_marked():
    training = {folded(message.text) for path in CORPUS.glob("train-*.jsonl") for message in read_jsonl(path)}
    held_out = sorted(CORPUS.glob("heldout*.jsonl"))
    assert {path.name for path in held_out} >= {"heldout.jsonl", "heldout-real.jsonl", "heldout-real-elapsed.jsonl", "heldout-real-voices.jsonl"}
    for path in held_out:
        shared = [message.text[:60] for message in read_jsonl(path) if folded(message.text) in training]
        assert not shared, f"{path.name} shares texts with the training files: {shared}"
        assert style_of(path) == ("clean" if path.name == "heldout.jsonl" else "real")


def test_the_corpus_readme_lists_every_file_with_its_true_size():
    """``nlp/corpus/README.md`` is where a reader learns what each file is: a file added, grown or removed
    without its row there would leave the table (and the training total below it) untrue."""
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    listed = {name: int(count.replace(",", "")) for name, count in re.findall(r"^\| `([\w.-]+\.jsonl)` \| ([\d,]+) \|", readme, flags=re.M)}
    on_disk = {path.name: sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip()) for path in CORPUS.glob("*.jsonl")}
    assert listed == on_disk
    training = sum(count for name, count in on_disk.items() if name.startswith("train-"))
    assert f"The training files together: {training:,} messages" in readme
