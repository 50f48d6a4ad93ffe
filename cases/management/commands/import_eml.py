"""``manage.py import_eml PATH... [--json]``: take in mail from .eml files, folders, mbox files and Maildirs.

Each message goes through the same intake service as the webhooks, so importing twice changes
nothing (the second time every message is a ``duplicate``). With ``--json`` stdout carries one
JSON object per message (DESIGN.md): ``{"path", "outcome", "reference", "message"}``; the progress
bar goes to stderr.
"""

from __future__ import annotations

import json
import logging
import mailbox
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cases.intake.email import IntakeResult, email_intake
from cases.models import InboundOutcome

PATH_NOT_FOUND = "Pad bestaat niet: %(path)s"
PATH_UNREADABLE = "Kan niet gelezen worden: %(path)s (%(error)s)"
STORE_FAILED = "Kon niet worden opgeslagen: %(path)s (%(error)s); importeer dit bestand later opnieuw."
SOME_PATHS_FAILED = "%(count)d pad(en) konden niet gelezen worden; zie de regels met outcome 'error'."
MBOX_SUFFIXES = {".mbox", ".mbx"}

logger = logging.getLogger(__name__)


def _is_mbox(path: Path) -> bool:
    if path.suffix.lower() in MBOX_SUFFIXES:
        return True
    if path.suffix.lower() == ".eml":
        return False
    try:
        with path.open("rb") as handle:
            return handle.read(5) == b"From "
    except OSError:
        return False


def _is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


class Source:
    """One message to import: where it comes from (for the JSON ``path``) and how to read it."""

    def __init__(self, label: str, kind: str, reader):
        self.label, self.kind, self.reader = label, kind, reader

    def read(self) -> bytes:
        return self.reader()


def _mbox_sources(path: Path, opened: list) -> Iterator[Source]:
    # One open mbox for all its messages (closed by the caller): reopening would rescan the file each time.
    box = mailbox.mbox(str(path), create=False)
    opened.append(box)
    for number, key in enumerate(list(box.keys()), start=1):
        yield Source(f"{path}#{number}", "mbox", lambda key=key: box.get_bytes(key))


def _maildir_sources(path: Path) -> Iterator[Source]:
    for folder in ("cur", "new"):
        for file in sorted((path / folder).iterdir()):
            if file.is_file():
                yield Source(str(file), "maildir", file.read_bytes)


# Files an operating system leaves in a folder of exported mail (thumbnails, folder settings): never someone's message.
SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini", "ehthumbs.db", "icon\r"})


def collect_sources(path: Path, opened: list) -> Iterator[Source]:
    """Every message under ``path``: an .eml file, an mbox file, a Maildir, or a folder of those.

    Mailboxes opened on the way are appended to ``opened``; the caller closes them.
    """
    if _is_maildir(path):
        yield from _maildir_sources(path)
    elif path.is_dir():
        for child in sorted(path.iterdir()):
            if child.name.startswith(".") or child.name.lower() in SYSTEM_FILES:
                continue
            # Every file, whatever its name: one without .eml (a saved "bericht", a .txt) is still someone's
            # message, and junk becomes an "error" line a person sees rather than a file skipped without a word.
            if child.is_dir() or child.is_file():
                yield from collect_sources(child, opened)
    elif _is_mbox(path):
        yield from _mbox_sources(path, opened)
    else:
        yield Source(str(path), "eml", path.read_bytes)


class Command(BaseCommand):
    help = "Import e-mail (.eml files, folders, mbox files, Maildirs) through the intake; --json prints one JSON object per message."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--json", action="store_true", dest="as_json", help="One JSON object per message on stdout: path, outcome, reference, message.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar on stderr.")

    def handle(self, *args, paths: list[str], as_json: bool, no_progress: bool, **options):
        sources: list[Source] = []
        opened: list[mailbox.mbox] = []
        self.store_failures = 0
        failed_paths = 0
        rows: list[tuple[str, IntakeResult]] = []
        for name in paths:
            path = Path(name)
            if not path.exists():
                failed_paths += 1
                rows.append((name, IntakeResult(InboundOutcome.ERROR, "", PATH_NOT_FOUND % {"path": name})))
                continue
            try:
                sources.extend(collect_sources(path, opened))
            except (OSError, mailbox.Error) as exc:
                failed_paths += 1
                rows.append((name, IntakeResult(InboundOutcome.ERROR, "", PATH_UNREADABLE % {"path": name, "error": exc})))
        for label, result in rows:
            self._emit(label, result, as_json=as_json)
        counts = Counter(result.outcome for _, result in rows)
        # tqdm redraws with carriage returns, so it writes to the raw stream behind Django's OutputWrapper.
        progress = tqdm(
            sources, desc="import_eml", unit="bericht", file=getattr(self.stderr, "_out", sys.stderr), disable=no_progress or not sources, dynamic_ncols=True
        )
        try:
            for source in progress:
                try:
                    raw = source.read()
                except (OSError, KeyError) as exc:
                    failed_paths += 1
                    result = IntakeResult(InboundOutcome.ERROR, "", PATH_UNREADABLE % {"path": source.label, "error": exc})
                else:
                    result = self._take_in(raw, source)
                counts[result.outcome] += 1
                self._emit(source.label, result, as_json=as_json)
        finally:
            progress.close()
            for box in opened:
                box.close()
        summary = ", ".join(f"{outcome}: {counts[outcome]}" for outcome in InboundOutcome.values if counts[outcome])
        self.stderr.write(f"{sum(counts.values())} bericht(en) verwerkt" + (f" ({summary})" if summary else ""))
        failed_paths += self.store_failures
        if failed_paths:
            raise CommandError(SOME_PATHS_FAILED % {"count": failed_paths})

    def _take_in(self, raw: bytes, source: Source) -> IntakeResult:
        """One message through the intake; the intake keeps whatever it stored, so only a failure to
        store at all (the database unreachable) ends up here, reported and the next file taken."""
        try:
            return email_intake(raw=raw, source=source.kind, date_from_headers=True)
        except Exception as exc:
            logger.exception("import_eml: %s could not be stored", source.label)
            self.store_failures += 1
            return IntakeResult(InboundOutcome.ERROR, "", STORE_FAILED % {"path": source.label, "error": type(exc).__name__})

    def _emit(self, label: str, result: IntakeResult, *, as_json: bool) -> None:
        # A file name that is no UTF-8 (a Windows archive's) comes as surrogates; written as \udcxx escapes
        # it prints under any locale, and the JSON stays valid.
        label = label.encode("utf-8", "backslashreplace").decode("utf-8")
        if as_json:
            self.stdout.write(json.dumps({"path": label, **result.as_dict()}, ensure_ascii=False))
        else:
            self.stdout.write(f"{label}: {result.outcome} {result.reference} {result.message}".replace("  ", " "))
