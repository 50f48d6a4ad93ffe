"""Letters (*brieven*): the mailroom registers a scan the same working day; an officer may correct its text.

The charter promises that all incoming post is registered (POST-REGISTRATIE). The scan is kept
as a private attachment; its text comes from the PDF's text layer or from OCR
(``cases.intake.ocr``). The same scan uploaded twice is registered once.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import errors
from cases.errors import WorkflowError
from cases.intake.ocr import ExtractedText, extract_letter_text
from cases.intake.uploads import SCAN_TYPES, CheckedUpload, attachments_store, check_upload
from cases.models import Attachment, Case, CaseEvent, CaseState, CitizenQuestion, EventKind, IntakeChannel, Kind, Registration, TriageState
from cases.permissions import CORRECT_LETTER_TEXT, HANDLE_CASE, REGISTER_POST, require
from cases.tagging import case_tag_later
from cases.workflow.registration import Sender, content_hash, register_item
from cases.workflow.transitions import seen_fingerprint

logger = logging.getLogger(__name__)


LETTER_NO_PERMISSION = _("U mag geen post registreren.")
LETTER_CORRECT_NO_PERMISSION = _("U mag de tekst van een brief niet wijzigen.")
LETTER_CHANGED_MEANWHILE = _(
    "Een collega heeft de tekst van brief %(number)s net verbeterd. Uw tekst is niet opgeslagen: lees eerst de nieuwe tekst."
)
LETTER_CORRECT_TOO_LATE = _("De behandeling van zaak %(number)s is al begonnen. Vraag de kwaliteitsmedewerker om de tekst te corrigeren.")
LETTER_NO_SCAN = _("Kies de scan van de brief (PDF, JPEG of PNG).")
LETTER_NO_DATE = _("Vul de datum van ontvangst in.")
LETTER_NOT_A_LETTER = _("Alleen de tekst van een brief kan hier worden gecorrigeerd.")
LETTER_TEXT_EMPTY = _("De tekst van de brief kan niet leeg zijn.")


@dataclass(frozen=True)
class LetterRegistration:
    """What registering a letter did: the registration, whether it is new, and how its text was read."""

    registration: Registration
    created: bool
    extracted: ExtractedText | None


def _check_date(received_on: datetime.date | None) -> datetime.date:
    if received_on is None:
        raise ValidationError({"received_on": LETTER_NO_DATE})
    if received_on > timezone.localdate():
        logger.info("letter refused: date of receipt %s lies in the future", received_on)
        raise ValidationError({"received_on": errors.RECEIVED_IN_FUTURE})
    return received_on


def _checked_scan(scan_file) -> CheckedUpload:
    """The scan, checked by its bytes (PDF, JPEG or PNG within the size limit)."""
    if scan_file is None:
        raise ValidationError({"scan_file": LETTER_NO_SCAN})
    try:
        return scan_file if isinstance(scan_file, CheckedUpload) else check_upload(scan_file, allowed=SCAN_TYPES)
    except ValidationError as exc:
        raise ValidationError({"scan_file": exc.error_list})


def _note_reading_problem(registration: Registration, extracted: ExtractedText, actor) -> None:
    """Tell the officer on the timeline when the text could not be read (no OCR, unreadable scan)."""
    case = getattr(registration, "case", None)
    if case is not None and extracted.problem:
        CaseEvent.objects.create(case=case, actor=actor, kind=EventKind.NOTE, name="letter_text", note=extracted.problem, data={"source": extracted.source})


def letter_register(
    *,
    scan_file,
    sender: Sender,
    received_on: datetime.date,
    actor,
    kind: str = Kind.OTHER,
    subject: str = "",
) -> LetterRegistration:
    """Register a scanned letter: check the scan and the date, read its text, register it once, keep the scan.

    ``scan_file`` is an uploaded or opened Django ``File`` (or an already checked upload).
    ``kind`` defaults to *other*: the letter then waits in the triage list for an officer,
    who turns it into a complaint or suggestion; the mailroom may choose the kind at once.
    """
    require(actor, REGISTER_POST, message=LETTER_NO_PERMISSION)
    received_on = _check_date(received_on)
    Kind(kind)
    scan = _checked_scan(scan_file)
    hash_value = content_hash("letter-scan", scan.sha256)
    existing = Registration.objects.filter(content_hash=hash_value).first()
    if existing is not None:
        logger.info("letter scan %s already registered as %s; nothing changed", scan.sha256[:12], existing.number)
        return LetterRegistration(registration=existing, created=False, extracted=None)

    # Reading the scan can take seconds per page, so it happens before the transaction.
    scan.file.seek(0)
    extracted = extract_letter_text(scan.file.read(), scan.content_type)
    scan.file.seek(0)
    with transaction.atomic():
        registration, created = register_item(
            channel=IntakeChannel.LETTER,
            kind=kind,
            text=extracted.text,
            subject=subject,
            sender=sender,
            received_on=received_on,
            hash_value=hash_value,
            actor=actor,
        )
        if created:
            attachments_store(registration=registration, uploads=[scan])
            _note_reading_problem(registration, extracted, actor)
    logger.info("letter %s registered (text from %s, %s characters)", registration.number, extracted.source, len(extracted.text))
    return LetterRegistration(registration=registration, created=created, extracted=extracted)


def letter_may_correct(registration: Registration, actor) -> bool:
    """Whether ``actor`` may correct this letter's text now (see ``letter_correct_text``)."""
    if actor is None or not actor.has_perm(CORRECT_LETTER_TEXT):
        return False
    # Who handles cases may correct a letter's text at any time; the mailroom only until handling starts.
    if actor.has_perm(HANDLE_CASE):
        return True
    case = getattr(registration, "case", None)
    if case is None:  # other mail in triage: the officer's decision (forwarded, done) starts its handling
        return registration.triage_state in ("", TriageState.PENDING)
    return case.state == CaseState.RECEIVED


def letter_correct_text(*, registration_id: int, text: str, actor, seen: str | None = None) -> Registration:
    """Correct the text read from a scanned letter; the previous text stays on the case's timeline.

    Quality officers may do so at any time. The mailroom, which has the paper at hand, may do so
    while the case is still as registered (state "ontvangen"); after that the officers work from
    the text. The tagger then tags the case again from the corrected text.
    """
    if actor is None or not actor.has_perm(CORRECT_LETTER_TEXT):
        logger.warning("letter text correction refused for %s", actor)
        raise PermissionDenied(LETTER_CORRECT_NO_PERMISSION)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": LETTER_TEXT_EMPTY})
    with transaction.atomic():
        registration = Registration.objects.select_for_update().get(pk=registration_id)
        if registration.channel != IntakeChannel.LETTER:
            raise ValidationError({"text": LETTER_NOT_A_LETTER})
        # Lock the case too: an officer's step (which locks the case) cannot slip in between this
        # check and the correction.
        case = Case.objects.select_for_update().filter(registration=registration).first()  # other mail in triage has no case
        if case is not None:
            registration.case = case
        if not letter_may_correct(registration, actor):
            state = case.state if case is not None else registration.triage_state
            logger.warning("letter text correction of %s refused for %s: handling has started (%s)", registration.number, actor, state)
            raise PermissionDenied(LETTER_CORRECT_TOO_LATE % {"number": registration.number})
        previous = registration.text
        if previous == text:
            return registration
        if seen is not None and seen != seen_fingerprint(previous):
            logger.warning("letter text correction of %s refused for %s: corrected meanwhile by someone else", registration.number, actor)
            raise WorkflowError(LETTER_CHANGED_MEANWHILE % {"number": registration.number})
        registration.text = text
        registration.save(update_fields=["text"])
        if case is not None:
            CaseEvent.objects.create(
                case=case,
                actor=actor,
                kind=EventKind.NOTE,
                name="letter_text_corrected",
                note=str(_("Tekst van de brief gecorrigeerd.")),
                data={"previous_text": previous},
            )
            case_tag_later(case_id=case.pk, replace=True)
    logger.info("letter %s: text corrected by %s", registration.number, actor)
    return registration


def letter_scans():
    """The scans of registered letters: what the mailroom may open. Not what joined a letter's case
    later (an e-mail's attachment, a file sent with an answer to a question): that is the case's
    content, for the officers who handle it."""
    later = CitizenQuestion.attachments.through.objects.values("attachment_id")
    return Attachment.objects.filter(registration__channel=IntakeChannel.LETTER, inbound_message__isnull=True).exclude(pk__in=later)
