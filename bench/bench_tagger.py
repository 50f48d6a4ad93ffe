"""Benchmark the tagger: training time, model size, load time, and messages tagged per second beside
spaCy's Dutch tokenizer and the TF-IDF + logistic-regression peer, on the same texts in one run.

    .venv/bin/python bench/bench_tagger.py [--messages 10000] [--batch-size 256] [--rounds 3] [--json]

Trains a fresh model on the shipped training corpus (``nlp/corpus/train-*.jsonl``, Harlingen
labels), saves it to a temporary folder, loads it back and tags ``--messages`` messages (the
training texts over and over) in one process. The three rates are measured in alternating rounds
and the median of each is reported, with the tagger's share of the tokenizer's rate: on a shared
machine the load of others moves every rate, the share much less. Prints a markdown table (or
one JSON object with ``--json``); the machine's load average is printed too.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
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
    "throughput": ">= 5000 messages/s",
    "share": ">= 0.2 of the tokenizer",
    "explained": ">= 2000 messages/s",
}


def folder_size(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def rate(run, count: int) -> float:
    started = time.perf_counter()
    run()
    return count / (time.perf_counter() - started)


def load_seconds(model: Path) -> tuple[float, float, float, bool]:
    """In a fresh process, as a worker starts: (cold start: import, load and tag one message;
    median wall and CPU seconds of five ``Tagger.load`` calls once spaCy is imported; whether
    scikit-learn was imported along the way)."""
    code = (
        "import json, statistics, sys, time\n"
        "started = time.perf_counter()\n"
        "from nlp.core.tagger import Tagger\n"
        f"Tagger.load({str(model)!r}).tag('test')\n"
        "cold = time.perf_counter() - started\n"
        "walls, cpus = [], []\n"
        "for _ in range(5):\n"
        "    wall, cpu = time.perf_counter(), time.process_time()\n"
        f"    Tagger.load({str(model)!r})\n"
        "    walls.append(time.perf_counter() - wall)\n"
        "    cpus.append(time.process_time() - cpu)\n"
        "print(json.dumps([cold, statistics.median(walls), statistics.median(cpus), 'sklearn' in sys.modules]))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True, capture_output=True, text=True)
    cold, wall, cpu, sklearn = json.loads(completed.stdout)
    return cold, wall, cpu, sklearn


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()

    messages = read_corpus(default_corpus_paths())
    labels = load_charter_labels(DEFAULT_CHARTER)
    config = TaggerConfig()
    load_before = os.getloadavg()[0]

    wall, cpu = time.perf_counter(), time.process_time()
    tagger = train(messages, labels, config=config)
    training_wall, training_cpu = time.perf_counter() - wall, time.process_time() - cpu

    from nlp.core.baseline import train_baseline

    peer = train_baseline(messages, labels, config=config)

    with tempfile.TemporaryDirectory() as folder:
        model = Path(folder) / tagger.version
        tagger.save(model)
        size = folder_size(model)
        weights = folder_size(model / "pipeline" / "norms") + folder_size(model / "pipeline" / "kind")
        cold, load_wall, load_cpu, sklearn_on_load = load_seconds(model)
        loaded = Tagger.load(model)

        texts = list(itertools.islice(itertools.cycle(m.text for m in messages), args.messages))
        explained_texts = texts[: max(1, args.messages // 5)]
        list(loaded.pipe(texts[:500]))  # warm the caches, as a running worker has them
        list(loaded.pipe(explained_texts[:200], explain=True))
        tokenizer = loaded.nlp.tokenizer
        rates: dict[str, list[float]] = {"tagger": [], "tokenizer": [], "peer": [], "explained": []}
        for _ in range(args.rounds):
            rates["tagger"].append(rate(lambda: sum(1 for _ in loaded.pipe(texts, batch_size=args.batch_size)), len(texts)))
            rates["tokenizer"].append(rate(lambda: sum(1 for _ in tokenizer.pipe(texts, batch_size=args.batch_size)), len(texts)))
            rates["peer"].append(rate(lambda: sum(1 for _ in peer.tag_many(texts)), len(texts)))
            rates["explained"].append(rate(lambda: sum(1 for _ in loaded.pipe(explained_texts, explain=True)), len(explained_texts)))
        shares = [t / k for t, k in zip(rates["tagger"], rates["tokenizer"], strict=True)]
    load_after = os.getloadavg()[0]
    median = {name: statistics.median(values) for name, values in rates.items()}
    words = sum(len(text.split()) for text in texts) / len(texts)
    result = {
        "model": tagger.version,
        "messages": len(messages),
        "training_seconds": round(training_wall, 1),
        "training_cpu_seconds": round(training_cpu, 1),
        "model_mib": round(size / 2**20, 1),
        "weights_mib": round(weights / 2**20, 1),
        "load_seconds": round(load_wall, 2),
        "cold_start_seconds": round(cold, 2),
        "sklearn_imported_when_tagging": sklearn_on_load,
        "tagged_messages": len(texts),
        "average_words": round(words),
        "tagger_per_second": round(median["tagger"]),
        "tokenizer_per_second": round(median["tokenizer"]),
        "peer_per_second": round(median["peer"]),
        "explained_per_second": round(median["explained"]),
        "share_of_tokenizer": round(statistics.median(shares), 3),
        "rounds": args.rounds,
        "load_average": [round(load_before, 1), round(load_after, 1)],
        "cpus": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    fits = tagger.report["fits"]
    rows = [
        ("training, shipped corpus", f"{training_wall:.1f} s wall, {training_cpu:.1f} s CPU ({len(messages)} messages; {fits} fits)", TARGETS["training"]),
        ("model size on disk", f"{size / 2**20:.1f} MiB ({weights / 2**20:.1f} MiB classifier weights, rest lemma tables)", "-"),
        ("load time (Tagger.load, spaCy imported)", f"{load_wall:.2f} s wall, {load_cpu:.2f} s CPU (median of 5, in a fresh process)", TARGETS["load"]),
        ("cold start (new process: import, load, tag one)", f"{cold:.2f} s; scikit-learn imported: {'yes' if sklearn_on_load else 'no'}", "-"),
        (f"tagging {len(texts)} messages, one process", f"{median['tagger']:,.0f} messages/s (avg {words:.0f} words)", TARGETS["throughput"]),
        ("spaCy's Dutch tokenizer alone, same texts", f"{median['tokenizer']:,.0f} messages/s", "-"),
        ("tagger's share of the tokenizer's rate", f"{statistics.median(shares):.2f}", TARGETS["share"]),
        ("TF-IDF + logistic regression peer, same texts", f"{median['peer']:,.0f} messages/s", "-"),
        (f"tagging with explanations ({len(explained_texts)} messages)", f"{median['explained']:,.0f} messages/s", TARGETS["explained"]),
    ]
    print(f"Tagger benchmark: model {tagger.version}, spaCy pipeline {', '.join(loaded.nlp.pipe_names)}; median of {args.rounds} rounds")
    print(f"machine: {os.cpu_count()} CPUs, load average {load_before:.1f} before and {load_after:.1f} after the run")
    print()
    print("| measure | result | target |")
    print("| --- | --- | --- |")
    for name, value, target in rows:
        print(f"| {name} | {value} | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
