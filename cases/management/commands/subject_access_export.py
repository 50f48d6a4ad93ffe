"""``manage.py subject_access_export [--email E] [--name N] [--number HLG-2026-000012] [--output FILE.zip] [--reason TEXT] [--list]``

Everything Handvest holds about one person (AVG art. 15) as a zip: ``inzage.json``, ``inzage.pdf`` and
the files (attachments, original e-mails, letters). Matching is exact (see ``cases.records.subject_access``);
``--list`` only shows what matches, so a namesake can be spotted before anything is exported. The
export is logged as a request (registration numbers only). The workspace page *Privacyverzoeken*
does the same with a choice per match.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from cases.errors import WorkflowError
from cases.records.subject_access import PersonQuery, person_find, subject_access_export


class Command(BaseCommand):
    help = "Export everything held about one person (AVG art. 15) as a zip with JSON, PDF and files."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="", help="The person's e-mail address (exact, capitals aside).")
        parser.add_argument("--name", default="", help="The person's name (the same words, capitals and spaces aside).")
        parser.add_argument("--number", default="", help="A registration number of one of their cases.")
        parser.add_argument("--output", type=Path, help="Zip file to write; default inzage-<date>.zip.")
        parser.add_argument("--reason", default="", help="The request, e.g. its date of receipt and how the person was identified.")
        parser.add_argument("--list", action="store_true", dest="list_only", help="Only list the matching registrations.")

    def handle(self, *args, email: str, name: str, number: str, output: Path | None, reason: str, list_only: bool, verbosity: int, **options):
        try:
            query = PersonQuery(email=email, name=name, number=number)
            if list_only:
                match = person_find(query)
                for registration in match.registrations:
                    self.stdout.write(f"{registration.number}  {registration.received_on:%d-%m-%Y}  {registration.sender_name}  {registration.sender_email}")
                self.stdout.write(f"{len(match.registrations)} registraties, {len(match.loose_messages)} e-mails zonder zaak")
                return
            filename, archive, match = subject_access_export(query=query, actor=None, reason=reason)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        except WorkflowError as exc:
            raise CommandError(str(exc)) from exc
        target = output or Path(filename)
        if not target.parent.exists():
            raise CommandError(f"De map {target.parent} bestaat niet.")
        target.write_bytes(archive)
        if verbosity:
            self.stderr.write(f"{target}: {len(match.registrations)} registraties ({', '.join(match.numbers)}), {len(archive)} bytes")
