"""Benchmark the tagger: training time, model size, load time and messages tagged per second.

    .venv/bin/python bench/bench_tagger.py [--messages 10000] [--batch-size 256]

Trains a fresh model on the shipped training corpus (``nlp/corpus/train-*.jsonl``, Harlingen
labels), saves it to a temporary folder, loads it back and tags ``--messages`` messages (the
training texts over and over) in one process. Prints a markdown table. The machine's load
average is printed too: on a shared machine it explains most of the spread between runs.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from nlp.core import Tagger, TaggerConfig, load_charter_labels, read_corpus, train  # noqa: E402
from nlp.core.cli import DEFAULT_CHARTER, default_corpus_paths  # noqa: E402

TARGETS = {
    "training": "< 180 s",
    "load": "< 1 s",
    "throughput": ">= 1000 messages/s",
}


def folder_size(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def measure_throughput(tagger: Tagger, texts: list[str], batch_size: int, explain: bool) -> float:
    started = time.perf_counter()
    count = sum(1 for _ in tagger.tag_many(texts, batch_size=batch_size, explain=explain))
    return count / (time.perf_counter() - started)


def load_seconds(model: Path) -> tuple[float, float, float]:
    """In a fresh process, as a worker starts: (cold start: import, load and tag one message;
    median wall and CPU seconds of five ``Tagger.load`` calls once spaCy is imported)."""
    code = (
        "import json, statistics, sys, time\n"
        "started = time.perf_counter()\n"
        "from nlp.core import Tagger\n"
        f"Tagger.load({str(model)!r}).tag('test')\n"
        "cold = time.perf_counter() - started\n"
        "walls, cpus = [], []\n"
        "for _ in range(5):\n"
        "    wall, cpu = time.perf_counter(), time.process_time()\n"
        f"    Tagger.load({str(model)!r})\n"
        "    walls.append(time.perf_counter() - wall)\n"
        "    cpus.append(time.process_time() - cpu)\n"
        "print(json.dumps([cold, statistics.median(walls), statistics.median(cpus)]))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True, capture_output=True, text=True)
    cold, wall, cpu = json.loads(completed.stdout)
    return cold, wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()

    messages = read_corpus(default_corpus_paths())
    labels = load_charter_labels(DEFAULT_CHARTER)
    config = TaggerConfig()
    load_before = os.getloadavg()[0]

    wall, cpu = time.perf_counter(), time.process_time()
    tagger = train(messages, labels, config=config)
    training_wall, training_cpu = time.perf_counter() - wall, time.process_time() - cpu

    with tempfile.TemporaryDirectory() as folder:
        model = Path(folder) / tagger.version
        tagger.save(model)
        size = folder_size(model)
        weights = folder_size(model / "pipeline" / "norms") + folder_size(model / "pipeline" / "kind")
        cold, load_wall, load_cpu = load_seconds(model)
        loaded = Tagger.load(model)

        texts = list(itertools.islice(itertools.cycle(m.text for m in messages), args.messages))
        list(loaded.tag_many(texts[:200]))  # warm the caches, as a running worker has them
        throughput = measure_throughput(loaded, texts, args.batch_size, explain=False)
        throughput_explained = measure_throughput(loaded, texts[:2000], args.batch_size, explain=True)
    load_after = os.getloadavg()[0]

    words = sum(len(text.split()) for text in texts) / len(texts)
    rows = [
        ("training on the shipped corpus", f"{training_wall:.1f} s wall, {training_cpu:.1f} s CPU ({len(messages)} messages, 2 fits)", TARGETS["training"]),
        ("model size on disk", f"{size / 2**20:.1f} MiB ({weights / 2**20:.1f} MiB classifier weights, rest lemma tables)", "-"),
        (
            "load time (Tagger.load, spaCy imported)",
            f"{load_wall:.2f} s wall, {load_cpu:.2f} s CPU (median of 5, in a fresh process)",
            TARGETS["load"],
        ),
        ("cold start (new process: import, load, tag one)", f"{cold:.2f} s", "-"),
        (f"tagging {len(texts)} messages, one process", f"{throughput:,.0f} messages/s (avg {words:.0f} words)", TARGETS["throughput"]),
        ("tagging with explanations (2000 messages)", f"{throughput_explained:,.0f} messages/s", "-"),
    ]
    print(f"Tagger benchmark: model {tagger.version}, spaCy pipeline {', '.join(loaded.nlp.pipe_names)}")
    print(f"machine: {os.cpu_count()} CPUs, load average {load_before:.1f} before and {load_after:.1f} after the run")
    print()
    print("| measure | result | target |")
    print("| --- | --- | --- |")
    for name, value, target in rows:
        print(f"| {name} | {value} | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
