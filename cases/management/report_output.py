"""Where the report commands (``complaints_report``, ``charter_report``) write: a file, whose
folder must exist, or standard output; a PDF without ``--output`` goes to its default name."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

OUTPUT_FOLDER_MISSING = "De map {folder} bestaat niet."
OUTPUT_NOT_WRITABLE = "Kan {path} niet schrijven: {reason}"


def output_target(output: Path | None, *, fmt: str, default_name: str) -> Path | None:
    """The file to write (None: standard output), refused before any work when its folder is missing."""
    if output is None and fmt == "pdf":
        output = Path(default_name)
    if output is not None and not output.parent.exists():
        raise CommandError(OUTPUT_FOLDER_MISSING.format(folder=output.parent))
    return output


def output_write(command: BaseCommand, content: bytes, output: Path | None, *, verbosity: int) -> None:
    """Write ``content`` to ``output`` (saying where, unless quiet), or to the command's standard output."""
    if output is None:
        command.stdout.write(content.decode("utf-8"), ending="")
        return
    try:
        output.write_bytes(content)
    except OSError as exc:
        raise CommandError(OUTPUT_NOT_WRITABLE.format(path=output, reason=exc.strerror)) from exc
    if verbosity:
        command.stderr.write(f"{output} ({len(content)} bytes)")
