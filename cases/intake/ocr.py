"""The text of a scanned letter: from the PDF's text layer, or by OCR (Tesseract, Dutch) when there is none.

Tesseract and pdftoppm are Debian packages (``tesseract-ocr``, ``tesseract-ocr-nld``,
``poppler-utils``) that ``make system-deps`` installs; they are run as subprocesses with a
timeout. Extraction never raises: when it cannot read the scan, the letter is still registered
and ``problem`` tells the officer to type the text over (nothing that arrives is lost).
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext_lazy as _
from pypdf import PdfReader

from cases.intake.uploads import JPEG, PDF, PNG

logger = logging.getLogger(__name__)

OCR_LANGUAGE = "nld"
OCR_DPI = 300
# The long side of a rendered page at most: an A4 page at 300 dpi. A PDF may declare pages of any size (a
# 416-byte file with 3000-inch pages rendered to 156 million pixels a page and took tesseract minutes);
# pdftoppm's -scale-to keeps every page within this box, so a large page is read at a lower resolution.
OCR_MAX_SIDE_PIXELS = 3508
OCR_TIMEOUT_SECONDS = 120  # per page; a normal A4 page takes a few seconds
MAX_OCR_PAGES = 20
# A text layer with fewer letters than this is a scanner's stamp or page number, not the letter.
MIN_TEXT_LAYER_LETTERS = 20

TEXT_LAYER = "text_layer"
OCR = "ocr"
NONE = "none"

OCR_UNAVAILABLE = _("Tekstherkenning (OCR) is op deze server niet beschikbaar. De brief is geregistreerd; typ de tekst over.")
OCR_FAILED = _("De tekst van de scan kon niet worden gelezen. De brief is geregistreerd; typ de tekst over.")
PAGES_WITHOUT_TEXT = _("Bladzijde %(pages)s van de scan had geen tekst en kon niet worden gelezen. Lees die in de scan en typ over wat ertoe doet.")
NO_TEXT_FOUND = _("In de scan is geen tekst gevonden. Controleer de scan en typ de tekst over.")
PAGES_NOT_READ = _("Alleen de eerste %(read)s van de %(pages)s bladzijden zijn gelezen. Lees de rest in de scan en typ over wat ertoe doet.")


class OcrUnavailable(RuntimeError):
    """Tesseract (with Dutch) or pdftoppm is not installed."""


class OcrFailed(RuntimeError):
    """A tool ran but failed (bad file, timeout)."""


@dataclass(frozen=True)
class ExtractedText:
    """The letter's text, where it came from (``text_layer``, ``ocr`` or ``none``), and what went wrong."""

    text: str
    source: str
    problem: str = ""


def tesseract_available(language: str = OCR_LANGUAGE) -> bool:
    """Whether ``tesseract`` is installed with the language's trained data."""
    if shutil.which("tesseract") is None:
        return False
    try:
        result = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    languages = {line.strip() for line in (result.stdout + result.stderr).splitlines()}
    return language in languages


def pdftoppm_available() -> bool:
    return shutil.which("pdftoppm") is not None


# Control characters a text layer may carry (pypdf gives NUL for some fonts; PostgreSQL refuses NUL in text):
# all but tab and newline go.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def tidy(text: str) -> str:
    """Trim trailing spaces, drop form feeds, control characters and runs of blank lines that OCR and pypdf leave."""
    text = CONTROL_CHARACTERS.sub("", text.replace("\f", "\n").replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _letters(text: str) -> int:
    return sum(1 for char in text if char.isalpha())


def pdf_text_layer(data: bytes) -> str:
    """The text a PDF carries (typed letters, scans that were OCR'd already); '' when it has none or is unreadable."""
    return tidy("\n\n".join(pdf_page_texts(data)))


def pdf_page_texts(data: bytes) -> list[str]:
    """The text layer of each page; [] when the PDF is unreadable."""
    try:
        return [tidy(page.extract_text() or "") for page in PdfReader(io.BytesIO(data)).pages]
    except Exception as exc:  # pypdf raises many kinds on a damaged or unusual PDF (an unknown filter: NotImplementedError)
        logger.warning("pdf text layer unreadable: %s: %s", type(exc).__name__, exc)
        return []


def pdf_page_count(data: bytes) -> int | None:
    """The number of pages of a PDF, or None when pypdf cannot tell."""
    try:
        return len(PdfReader(io.BytesIO(data)).pages)
    except Exception:  # as pdf_text_layer: any damage means "unknown"
        return None


def _run(command: list[str]) -> subprocess.CompletedProcess:
    # One OpenMP thread: Tesseract's own threading only competes with the web server's workers.
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        result = subprocess.run(command, capture_output=True, timeout=OCR_TIMEOUT_SECONDS, check=False, env=environment)
    except FileNotFoundError as exc:
        raise OcrUnavailable(command[0]) from exc
    except subprocess.TimeoutExpired as exc:
        raise OcrFailed(f"{command[0]} took longer than {OCR_TIMEOUT_SECONDS} s") from exc
    if result.returncode != 0:
        raise OcrFailed(f"{command[0]} exited {result.returncode}: {result.stderr.decode(errors='replace')[-500:]}")
    return result


def _tesseract(path: Path, language: str) -> str:
    result = _run(["tesseract", str(path), "stdout", "-l", language, "--psm", "3"])
    return tidy(result.stdout.decode("utf-8", errors="replace"))


def ocr_image(path: Path, *, language: str = OCR_LANGUAGE) -> str:
    """OCR one image file (PNG, JPEG) with Tesseract."""
    if not tesseract_available(language):
        raise OcrUnavailable(f"tesseract with '{language}'")
    return _tesseract(path, language)


def ocr_pdf(data: bytes, *, language: str = OCR_LANGUAGE) -> str:
    """Render each page (at most MAX_OCR_PAGES) with pdftoppm and OCR it."""
    return tidy("\n\n".join(ocr_pdf_pages(data, range(1, MAX_OCR_PAGES + 1), language=language).values()))


def ocr_pdf_pages(data: bytes, numbers, *, language: str = OCR_LANGUAGE) -> dict[int, str]:
    """OCR these pages of a PDF (numbers from 1; those beyond its end are skipped): {page number: text}."""
    if not pdftoppm_available():
        raise OcrUnavailable("pdftoppm")
    if not tesseract_available(language):
        raise OcrUnavailable(f"tesseract with '{language}'")
    texts = {}
    with tempfile.TemporaryDirectory(prefix="handvest-ocr-") as folder:
        source = Path(folder) / "scan.pdf"
        source.write_bytes(data)
        wanted = sorted(numbers)
        first, last = str(wanted[0]), str(wanted[-1])
        size = ["-scale-to", str(OCR_MAX_SIDE_PIXELS)]
        _run(["pdftoppm", "-r", str(OCR_DPI), "-f", first, "-l", last, *size, "-gray", "-png", str(source), str(Path(folder) / "page")])
        for image in sorted(Path(folder).glob("page*.png")):
            number = int(image.stem.rsplit("-", 1)[-1])
            if number in wanted:
                texts[number] = _tesseract(image, language)
    return texts


def ocr_image_bytes(data: bytes, content_type: str, *, language: str = OCR_LANGUAGE) -> str:
    suffix = ".png" if content_type == PNG else ".jpg"
    with tempfile.TemporaryDirectory(prefix="handvest-ocr-") as folder:
        path = Path(folder) / f"scan{suffix}"
        path.write_bytes(data)
        return ocr_image(path, language=language)


def extract_letter_text(data: bytes, content_type: str) -> ExtractedText:
    """The text of a scanned letter (PDF, JPEG or PNG); never raises."""
    if content_type not in (PDF, JPEG, PNG):
        raise ValueError(f"not a scan type: {content_type}")
    layer, blank = "", []
    if content_type == PDF:
        page_texts = pdf_page_texts(data)
        layer = tidy("\n\n".join(page_texts))
        # Decided per page: a typed first page does not pass for a letter whose second page is a scan.
        blank = [number for number, page in enumerate(page_texts, start=1) if _letters(page) < MIN_TEXT_LAYER_LETTERS]
        if _letters(layer) >= MIN_TEXT_LAYER_LETTERS and not blank:
            return ExtractedText(text=layer, source=TEXT_LAYER)
    try:
        if content_type == PDF and blank and _letters(layer) >= MIN_TEXT_LAYER_LETTERS:  # typed pages kept, the scanned ones read
            read = ocr_pdf_pages(data, [number for number in blank if number <= MAX_OCR_PAGES])
            text = tidy("\n\n".join(read.get(number, page) if number in blank else page for number, page in enumerate(page_texts, start=1)))
        else:
            text = ocr_pdf(data) if content_type == PDF else ocr_image_bytes(data, content_type)
    except (OcrUnavailable, OcrFailed) as exc:
        logger.warning("OCR unavailable or failed (%s); letter registered with %s", exc, "its text layer" if layer else "no text")
        problem = OCR_UNAVAILABLE if isinstance(exc, OcrUnavailable) else OCR_FAILED
        if _letters(layer) >= MIN_TEXT_LAYER_LETTERS:  # the typed pages' text, and which pages it lacks
            return ExtractedText(text=layer, source=TEXT_LAYER, problem=str(PAGES_WITHOUT_TEXT % {"pages": ", ".join(map(str, blank))}))
        return ExtractedText(text="", source=NONE, problem=str(problem))
    if _letters(text) == 0:
        logger.info("OCR found no text in the scan")
        return ExtractedText(text="", source=NONE, problem=str(NO_TEXT_FOUND))
    pages = pdf_page_count(data) if content_type == PDF else None
    if pages is not None and pages > MAX_OCR_PAGES:
        logger.info("OCR read %s of %s pages", MAX_OCR_PAGES, pages)
        return ExtractedText(text=text, source=OCR, problem=str(PAGES_NOT_READ % {"read": MAX_OCR_PAGES, "pages": pages}))
    return ExtractedText(text=text, source=OCR)
