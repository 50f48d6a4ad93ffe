"""The *verklaring van vernietiging* (Archiefbesluit 1995 art. 8): which cases were destroyed, under
which result type and term, by whose approval and when, and how. Kept as an accessible PDF with
the destruction list (``DestructionList.statement``); it names registration numbers, never a person.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.utils import timezone, translation

from cases.models import DestructionItemState, DestructionList
from cms.models import MunicipalitySettings

TEMPLATE = "cases/records/destruction_statement.html"


def statement_filename(destruction_list: DestructionList) -> str:
    return f"verklaring-van-vernietiging-{destruction_list.number}.pdf"


def statement_context(destruction_list: DestructionList) -> dict:
    items = list(destruction_list.items.order_by("destroy_on", "number"))
    return {
        "municipality": MunicipalitySettings.load(),
        "list": destruction_list,
        "title": f"Verklaring van vernietiging {destruction_list.number}",
        "destroyed": [item for item in items if item.state == DestructionItemState.DESTROYED],
        "excluded": [item for item in items if item.state == DestructionItemState.EXCLUDED],
        "skipped": [item for item in items if item.state == DestructionItemState.SKIPPED],
        "done_at": destruction_list.done_at or timezone.now(),
    }


def statement_render(destruction_list: DestructionList) -> bytes:
    """The statement as a tagged PDF (PDF/UA-1), in Dutch, with its title shown."""
    # Imported here: WeasyPrint is heavy (cairo, pango, fonts) and only PDFs need it.
    from weasyprint import HTML

    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string(TEMPLATE, statement_context(destruction_list))
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(pdf_variant="pdf/ua-1")


def statement_store(destruction_list: DestructionList) -> None:
    """Render the statement and attach it to the list, with its SHA-256 (not saved: the caller saves)."""
    pdf = statement_render(destruction_list)
    destruction_list.statement.save(statement_filename(destruction_list), ContentFile(pdf), save=False)
    destruction_list.statement_sha256 = hashlib.sha256(pdf).hexdigest()
