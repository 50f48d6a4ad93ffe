"""Render what a citizen gets for a sample complaint: the acknowledgement as e-mail and as PDF letter, as PNG images.

    make letters-images        # or: .venv/bin/python docs/letters/render.py

Uses a throw-away SQLite database, the Harlingen charter, the real templates and services, and
poppler's ``pdftoppm`` (Debian package poppler-utils) to turn PDF pages into images.
"""

from __future__ import annotations

import datetime
import html
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

EMAIL_VIEW = """<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><style>
@page {{ size: 170mm 300mm; margin: 10mm; }}
body {{ font: 10pt "DejaVu Sans", sans-serif; color: #111; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 5mm; table-layout: fixed; }}
td {{ padding: 1mm 2mm; vertical-align: top; font-size: 8.5pt; overflow-wrap: anywhere; }}
td:first-child {{ color: #555; white-space: nowrap; width: 38mm; }}
.subject td {{ font-size: 11pt; font-weight: bold; color: #111; }}
.headers {{ background: #f1f3f5; border: 0.3mm solid #d0d4d8; }}
pre {{ font: 9.5pt/1.45 "DejaVu Sans", sans-serif; white-space: pre-wrap; margin: 0; }}
</style></head><body>
<table class="headers">{rows}</table>
<pre>{body}</pre>
</body></html>"""


def setup_django(var_dir: Path) -> None:
    os.environ["HANDVEST_VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{var_dir / 'letters.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["HANDVEST_TAG_ON_REGISTRATION"] = "false"
    os.environ["HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES"] = "60"  # written, not sent: we render it ourselves
    os.environ["HANDVEST_LOG_LEVEL"] = "WARNING"
    os.environ["HANDVEST_BASE_URL"] = "https://handvest.harlingen.nl"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_charter", str(ROOT / "cms" / "charters" / "harlingen-2017.yaml"), verbosity=0)


def to_png(pdf: bytes, target: Path, workdir: Path, resolution: int = 110) -> None:
    source = workdir / f"{target.stem}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", str(resolution), "-f", "1", "-l", "1", "-singlefile", str(source), str(target.with_suffix(""))], check=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        setup_django(workdir)
        from django.conf import settings
        from weasyprint import HTML

        from cases.correspondence.delivery import email_for
        from cases.correspondence.outbox import acknowledgement_queue
        from cases.correspondence.pdf import letter_render_pdf
        from cases.models import Case
        from cases.workflow.registration import Sender, register_item

        received_on = datetime.date(2026, 5, 4)
        registration, _ = register_item(
            channel="email",
            kind="complaint",
            subject="Lang wachten aan de balie",
            text="Ik heb vanochtend drie kwartier aan de balie gewacht voor een uittreksel, terwijl er maar één loket open was.",
            sender=Sender(name="Sietske de Vries", email="s.devries@example.nl", address="Voorstraat 12\n8861 BL Harlingen"),
            received_on=received_on,
            message_id="<CAF3x9Zq7@mail.example.nl>",
        )
        case = Case.objects.select_related("registration").get(pk=registration.case.pk)
        message = acknowledgement_queue(case_id=case.pk)

        letter_date = datetime.date(2026, 5, 5)
        pdf = letter_render_pdf(case=case, subject=message.subject, body_text=message.body_text, kind=message.kind, letter_date=letter_date)
        to_png(pdf, HERE / "acknowledgement-letter.png", workdir)

        email = email_for(message, case)
        headers = [
            ("Van", email.from_email),
            ("Aan", f"{case.registration.sender_name} <{email.to[0]}>"),
            ("Antwoord naar", ", ".join(email.reply_to)),
            ("Datum", "di 5 mei 2026 09:12"),
            *[(name, value) for name, value in email.extra_headers.items()],
        ]
        rows = f'<tr class="subject"><td>Onderwerp</td><td>{html.escape(email.subject)}</td></tr>' + "".join(
            f"<tr><td>{html.escape(name)}</td><td>{html.escape(value)}</td></tr>" for name, value in headers
        )
        view = EMAIL_VIEW.format(rows=rows, body=html.escape(email.body))
        to_png(HTML(string=view, base_url=str(settings.BASE_DIR)).write_pdf(), HERE / "acknowledgement-email.png", workdir)
    print(f"wrote {HERE / 'acknowledgement-letter.png'} and {HERE / 'acknowledgement-email.png'}")


if __name__ == "__main__":
    main()
