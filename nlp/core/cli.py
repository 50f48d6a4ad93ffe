"""``python -m nlp``: train, evaluate and try the tagger without Django.

    python -m nlp train [--model-dir DIR] [--json]
    python -m nlp evaluate FILE.jsonl [FILE.jsonl ...] [--json] [--baseline] [--typos SHARE [--seed N]] [--model-dir DIR]
    python -m nlp tag "tekst van een bericht" [--model-dir DIR]
    python -m nlp crossval [--folds K] [--real | --leave-out A,B] [--peer] [--refit] [--json]
    python -m nlp similar nlp/corpus/similar-cases.jsonl [--json]

Every command uses the model ``make run`` uses: trained from ``nlp/corpus/train-*.jsonl`` with
the labels of ``cms/charters/harlingen-2017.yaml`` and cached in ``var/models``, trained first if
no cached model fits. Progress goes to stderr; with ``--json`` stdout holds exactly one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .config import TaggerConfig
from .corpus import read_corpus, read_jsonl, style_of
from .evaluate import evaluate
from .labels import load_charter_labels
from .store import ensure_model, model_path
from .tagger import Tagger
from .train import TrainingProgress

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS_DIR = REPO_ROOT / "nlp" / "corpus"
DEFAULT_CHARTER = REPO_ROOT / "cms" / "charters" / "harlingen-2017.yaml"
DEFAULT_MODEL_DIR = REPO_ROOT / "var" / "models"

SUMMARY = (
    ("norm_micro_f1", "norm micro-F1"),
    ("norm_macro_f1", "norm macro-F1"),
    ("norm_micro_precision", "norm micro-precision"),
    ("norm_micro_recall", "norm micro-recall"),
    ("exact_match", "exact match (norm set)"),
    ("recall_at_3", "annotated norms among the best 3"),
    ("calibration_error", "calibration error (ECE)"),
    ("no_norm_empty_share", "no-norm messages given no norm"),
    ("kind_accuracy", "kind accuracy"),
)


def default_corpus_paths(corpus_dir: Path = DEFAULT_CORPUS_DIR) -> list[Path]:
    """The training files: ``train-*.jsonl`` (never ``heldout.jsonl``)."""
    return sorted(corpus_dir.glob("train-*.jsonl"))


class _ProgressBar:
    """A tqdm bar over the classifiers being fitted, on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self.bar = tqdm(desc="training the tagger", unit="label", file=sys.stderr, disable=None)

    def __call__(self, progress: TrainingProgress) -> None:
        self.bar.total = progress.steps * progress.rounds
        self.bar.set_postfix(stage=progress.stage, label=progress.label)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def load_default_model(args: argparse.Namespace, config: TaggerConfig | None = None) -> Tagger:
    config = config or TaggerConfig()
    labels = load_charter_labels(args.charter)
    bar = _ProgressBar()
    try:
        return ensure_model(args.model_dir, default_corpus_paths(args.corpus_dir), labels, config=config, progress=bar)
    finally:
        bar.close()


# -- commands ---------------------------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    tagger = load_default_model(args)
    report = {**tagger.report, "path": str(model_path(args.model_dir, tagger.version)), "thresholds": tagger.thresholds}
    report["seconds"] = round(time.perf_counter() - started, 2)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, default=float))
        return 0
    print(f"model {tagger.version}  ({report['path']})")
    print(f"spaCy {report.get('spacy')}; training took {report.get('training_seconds')} s (this run {report['seconds']} s)")
    print(f"messages: {report.get('messages')} ({', '.join(f'{k} {v}' for k, v in report.get('kinds', {}).items())})")
    parts = (tagger.config or {}).get("calibration_folds", 0)
    if parts >= 2:
        print(f"  each scored by a model trained without it ({parts} parts) to choose thresholds; then all to fit")
    else:
        print(f"  of which {report.get('fit_messages')} to fit and {report.get('validation_messages')} to choose thresholds (then all to fit)")
    decision = report.get("decision")
    if decision:
        print(f"  then a decision over the {decision['candidates']} best-scored norms of each message (cutoff {decision['cutoff']:.2f})")
    for warning in report.get("warnings", []):
        print(f"warning: {warning}")
    validation = report.get("validation", {})
    print()
    print("validation (out of fold, all training files):" if parts >= 2 else "validation (part of the training files):")
    for key, name in SUMMARY:
        if validation.get(key) is not None:
            print(f"  {name:32s} {validation[key]:.3f}")
    print()
    print(f"{'norm':28s} {'examples':>8s} {'threshold':>9s} {'val F1':>7s}")
    for code, count in report.get("label_counts", {}).items():
        f1 = validation.get("per_norm", {}).get(code, {}).get("f1")
        print(f"{code:28s} {count:8d} {tagger.thresholds[code]:9.3f} {f1 if f1 is not None else float('nan'):7.3f}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    if not 0.0 <= args.typos <= 1.0:
        print(f"--typos is the share of misspelt words, between 0 and 1, not {args.typos}", file=sys.stderr)
        return 2
    messages = [message for path in args.file for message in read_jsonl(path)]
    tagger = load_default_model(args)
    result = evaluate(tagger, messages)
    baseline = None
    if args.baseline:
        from .baseline import train_baseline

        config = TaggerConfig.from_dict(tagger.config) if tagger.config else TaggerConfig()
        baseline = train_baseline(read_corpus(default_corpus_paths(args.corpus_dir)), load_charter_labels(args.charter), config=config)
        result["baseline"] = evaluate(baseline, messages)
    if args.typos:
        from .typos import misspelt

        typed = misspelt(messages, args.typos, seed=args.seed)
        result["typos"] = {"share": args.typos, "seed": args.seed, "tagger": evaluate(tagger, typed)}
        if baseline:
            result["typos"]["baseline"] = evaluate(baseline, typed)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, default=float))
    else:
        print(format_evaluation(result, ", ".join(str(path) for path in args.file)))
    return 0


def cmd_crossval(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .corpus import random_folds
    from .crossval import cross_validate, folds_by_group

    paths = default_corpus_paths(args.corpus_dir)
    if args.folds:
        folds = random_folds(read_corpus(paths), args.folds)
    else:
        groups = {path.name: read_jsonl(path) for path in paths}
        if args.leave_out:
            only = [name.strip() for name in args.leave_out.split(",") if name.strip()]
            unknown = sorted(set(only) - set(groups))
            if unknown:
                print(f"no such training file: {', '.join(unknown)}", file=sys.stderr)
                return 2
        else:
            only = [name for name in groups if style_of(name) == "real"] if args.real else None
        folds = folds_by_group(groups, only=only)
    bar = tqdm(total=len(folds), desc="cross-validating", unit="fold", file=sys.stderr, disable=None)

    def progress(done: int, total: int, name: str) -> None:
        bar.set_postfix_str(name)
        bar.update(1)

    try:
        result = cross_validate(folds, load_charter_labels(args.charter), progress=progress, peer=args.peer, refit=args.refit)
    finally:
        bar.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, default=float))
        return 0
    if args.folds:
        split = f"{args.folds} random folds"
    elif args.leave_out:
        split = f"each of {len(folds)} named training files left out in turn"
    else:
        split = "each real-style training file left out in turn" if args.real else "each training file left out in turn"
    result["model_version"] = "out-of-fold"
    print(format_evaluation(result, f"cross-validation ({split})"))
    for style, scores in result.get("by_style", {}).items():
        summary = f"micro-F1 {_num(scores['norm_micro_f1'])}, recall@3 {_num(scores['recall_at_3'])}, kind {_num(scores['kind_accuracy'])}"
        if "peer_norm_micro_f1" in scores:
            summary += f"; peer micro-F1 {_num(scores['peer_norm_micro_f1'])}, lead {_num(scores['lead'])}"
        print(f"  {style}-style messages ({scores['messages']}): {summary}")
    print()
    print(f"{'left out':34s} {'messages':>8s} {'micro-F1':>8s}" + (f" {'peer':>8s}" if args.peer else ""))
    for fold in result["folds"]:
        peer_column = f" {_num(fold.get('peer_norm_micro_f1')):>8s}" if args.peer else ""
        print(f"{fold['name']:34s} {fold['messages']:8d} {_num(fold['norm_micro_f1']):>8s}{peer_column}")
    return 0


def cmd_similar(args: argparse.Namespace) -> int:
    from .similarity import evaluate_similarity

    rows = [json.loads(line) for line in Path(args.file).read_text(encoding="utf-8").splitlines() if line.strip()]
    result = evaluate_similarity(rows)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{args.file}: {result['queries']} cases of {len({r['event'] for r in rows if r.get('event')})} events, {result['unrelated']} unrelated")
    print(f"  precision@5 {_num(result['precision_at_5'])} (over the {result['with_suggestions']} cases that got suggestions)")
    print(f"  recall@5    {_num(result['recall_at_5'])}")
    print(f"  unrelated cases given a suggestion: {result['unrelated_with_suggestions']}")
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    tagger = load_default_model(args)
    print(json.dumps(tagger.tag(args.text).to_dict(), ensure_ascii=False, indent=2))
    return 0


# -- output ------------------------------------------------------------------------------------------


def format_evaluation(result: dict, source: str | Path = "") -> str:
    """A readable table of an ``evaluate`` result (and its ``baseline``, when there is one)."""
    baseline = result.get("baseline")
    lines = [f"{source}: {result['messages']} messages, model {result['model_version']}", ""]
    header = f"{'':34s} {'tagger':>8s}" + (f" {'baseline':>9s}" if baseline else "")
    lines.append(header)
    for key, name in SUMMARY:
        value = result.get(key)
        row = f"{name:34s} {_num(value):>8s}"
        if baseline:
            row += f" {_num(baseline.get(key)):>9s}"
        lines.append(row)
    lines += ["", f"{'norm':28s} {'P':>6s} {'R':>6s} {'F1':>6s} {'support':>7s}" + (f" {'base F1':>8s}" if baseline else "")]
    for code, scores in result["per_norm"].items():
        row = f"{code:28s} {scores['precision']:6.3f} {scores['recall']:6.3f} {scores['f1']:6.3f} {scores['support']:7d}"
        if baseline:
            row += f" {baseline['per_norm'][code]['f1']:8.3f}"
        lines.append(row)
    lines += [
        "",
        f"{'messages annotated with':28s} {'n':>5s} {'exact':>6s} {'P':>6s} {'R':>6s} {'extra':>6s} {'missed':>6s}"
        + ("   baseline exact, extra, missed" if baseline else ""),
    ]
    for group, name in (("0", "no norm"), ("1", "one norm"), ("2+", "two or more norms")):
        row = result["by_norm_count"][group]
        shares = " ".join(f"{_num(row[key]):>6s}" for key in ("exact_match", "precision", "recall"))
        line = f"{name:28s} {row['messages']:5d} {shares} {row['extra_norms']:6d} {row['missed_norms']:6d}"
        if baseline:
            other = baseline["by_norm_count"][group]
            line += f"   {_num(other['exact_match']):>6s} {other['extra_norms']:6d} {other['missed_norms']:6d}"
        lines.append(line)
    lines += ["", "kind confusion (rows: annotated, columns: predicted)"]
    kinds = list(result["kind_confusion"])
    lines.append(f"{'':12s}" + "".join(f"{kind:>12s}" for kind in kinds))
    for gold in kinds:
        lines.append(f"{gold:12s}" + "".join(f"{result['kind_confusion'][gold][kind]:12d}" for kind in kinds))
    if result.get("ignored_codes"):
        lines += ["", f"codes not among the labels, left out: {result['ignored_codes']}"]
    if typos := result.get("typos"):
        lines += ["", f"the same messages with a typing error in {typos['share']:.0%} of their words (seed {typos['seed']}): as written -> misspelt"]
        for key, name in SUMMARY[:6] + SUMMARY[-1:]:
            row = f"{name:34s} {_num(result.get(key)):>6s} -> {_num(typos['tagger'].get(key)):>6s}"
            if "baseline" in typos:
                row += f"   baseline {_num(baseline.get(key)):>6s} -> {_num(typos['baseline'].get(key)):>6s}"
            lines.append(row)
    return "\n".join(lines)


def _num(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nlp", description="Train, evaluate and try the Handvest tagger.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR, help="where models are cached (default: var/models)")
    common.add_argument("--corpus-dir", type=Path, default=DEFAULT_CORPUS_DIR, help="folder with the train-*.jsonl files")
    common.add_argument("--charter", type=Path, default=DEFAULT_CHARTER, help="charter file whose norms are the labels")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", parents=[common], help="train (or load the cached) model and print its report")
    train.add_argument("--json", action="store_true", help="print the report as one JSON object")
    train.set_defaults(handler=cmd_train)

    evaluate_ = commands.add_parser("evaluate", parents=[common], help="score the model on a corpus file")
    evaluate_.add_argument("file", type=Path, nargs="+", help="one or more .jsonl files in the corpus format, scored together")
    evaluate_.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate_.add_argument("--baseline", action="store_true", help="also train and score TF-IDF + logistic regression on the same split")
    evaluate_.add_argument(
        "--typos", type=float, default=0.0, metavar="SHARE", help="also score the messages with a typing error in this share of their words (e.g. 0.1)"
    )
    evaluate_.add_argument("--seed", type=int, default=0, help="which typing errors (--typos): the same seed, the same errors")
    evaluate_.set_defaults(handler=cmd_evaluate)

    crossval = commands.add_parser("crossval", parents=[common], help="cross-validate on the training files only (never the held-out file), to compare designs")
    crossval.add_argument("--folds", type=int, default=0, help="K random folds instead of leaving each training file out in turn")
    crossval.add_argument("--real", action="store_true", help="leave out only the real-style files (train-real-*.jsonl) in turn")
    crossval.add_argument("--leave-out", default="", help="leave out only these training files in turn (comma-separated names); the others always train")
    crossval.add_argument("--refit", action="store_true", help="each fold's model trains on all its fold's messages once thresholds are chosen (as production)")
    crossval.add_argument("--json", action="store_true", help="print one JSON object")
    crossval.add_argument("--peer", action="store_true", help="also train the TF-IDF + logistic-regression peer per fold; report its F1 and the lead")
    crossval.set_defaults(handler=cmd_crossval)

    similar_ = commands.add_parser("similar", help="precision of the similar-case suggestions on near-duplicates")
    similar_.add_argument("file", type=Path, help="a .jsonl file of {event, text, sender, day, norms}")
    similar_.add_argument("--json", action="store_true", help="print one JSON object")
    similar_.set_defaults(handler=cmd_similar)

    tag = commands.add_parser("tag", parents=[common], help="tag one message")
    tag.add_argument("text")
    tag.set_defaults(handler=cmd_tag)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)
