"""The printable letter: an A4 PDF (WeasyPrint) with the address in the window of a DIN 5008 envelope.

Also the officer's preview and the attachment of formal letters sent by e-mail.
"""

from __future__ import annotations

import datetime
import re

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import capfirst

from cases.correspondence.composing import one_line, private_link
from cases.models import Case, LetterKind, OutgoingMessage
from cms.models import MunicipalitySettings

# The name a citizen or officer sees for a letter's PDF: what it is, in Dutch, and whose case.
FILE_NAMES = {
    LetterKind.ACKNOWLEDGEMENT: "ontvangstbevestiging",
    LetterKind.INTERIM_NOTICE: "tussenbericht",
    LetterKind.HEARING_INVITATION: "uitnodiging-hoorzitting",
    LetterKind.FORWARD_NOTICE: "doorzendbericht",
    LetterKind.DECLINE: "besluit-niet-behandelen",
    LetterKind.EXPLANATION: "uitleg",
    LetterKind.ANSWER: "antwoord",
    LetterKind.SUGGESTION_RESPONSE: "reactie-op-suggestie",
    LetterKind.OTHER: "brief",
    LetterKind.QUESTION: "vraag",
    LetterKind.CONSENT_REQUEST: "verzoek-uitstel",
    LetterKind.SATISFACTION: "tevredenheid",
    LetterKind.REOPEN_DECISION: "besluit-heropenen",
}


def pdf_filename(message: OutgoingMessage, case: Case) -> str:
    """E.g. ``antwoord-HLG-2026-000012.pdf``."""
    return f"{FILE_NAMES.get(message.kind, 'brief')}-{case.registration.number}.pdf"


def letter_render_pdf(*, case: Case, subject: str, body_text: str, kind: str, letter_date: datetime.date | None = None) -> bytes:
    """The letter as an A4 PDF, the address placed for a window envelope (``letters/letter.html``).

    Also the officer's preview: nothing is stored.
    """
    # Imported here: WeasyPrint is heavy (cairo, pango, fonts), and only this function and the
    # annual report need it; processes that never make a PDF never load it.
    from weasyprint import HTML

    registration = case.registration
    municipality = MunicipalitySettings.current()
    address_lines = [line.strip() for line in registration.sender_address.splitlines() if line.strip()]
    name = registration.sender_name.strip()
    if name and (not address_lines or address_lines[0] != name):
        address_lines.insert(0, name)
    context = {
        "case": case,
        "registration": registration,
        "municipality": municipality,
        "return_address": one_line(f"{municipality.name}\n{municipality.postal_address}"),
        "address_lines": address_lines,
        "letter_date": letter_date or timezone.localdate(),
        "number": registration.number,
        "subject": subject,
        "body_text": body_text,
        "paragraphs": letter_paragraphs(body_text),
        "kind_label": capfirst(str(LetterKind(kind).label)),
        "private_link": private_link(case),
    }
    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string("letters/letter.html", context)
    # PDF/UA-1: a tagged PDF with its language and title, readable with a screen reader.
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(pdf_variant="pdf/ua-1")


def letter_paragraphs(body_text: str) -> list[dict]:
    """The body as paragraphs for the PDF; a first line that asks a question ("Wat gebeurt er nu?") is its heading."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", body_text.strip()):
        lines = [line.rstrip() for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        heading = lines[0] if len(lines) > 1 and lines[0].endswith("?") and len(lines[0]) <= 80 else ""
        paragraphs.append({"heading": heading, "lines": lines[1:] if heading else lines})
    return paragraphs
