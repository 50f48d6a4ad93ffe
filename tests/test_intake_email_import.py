"""``manage.py import_eml``: .eml files, folders, mbox files and Maildirs, through the same intake as the webhooks."""

import json
import mailbox
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from cases.models import Case, InboundMessage, InboundOutcome, Registration

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "eml"
CONTRACT_KEYS = {"path", "outcome", "reference", "message"}


def run(*args) -> tuple[list[dict], str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("import_eml", *map(str, args), "--json", stdout=out, stderr=err)
    finally:
        lines = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return lines, out.getvalue(), err.getvalue()


def test_one_eml_file_gives_one_json_object_in_the_contract_format(municipality):
    lines, _, _ = run(FIXTURES / "plain-klacht.eml")
    assert len(lines) == 1
    line = lines[0]
    assert set(line) == CONTRACT_KEYS
    assert line["outcome"] == "case" and line["reference"] == Registration.objects.get().number
    assert line["path"].endswith("plain-klacht.eml")


def test_the_fixture_folder_is_imported_with_every_outcome_of_the_contract(municipality):
    lines, stdout, stderr = run(FIXTURES)
    by_name = {Path(line["path"].split("#")[0]).name + ("#" + line["path"].split("#")[1] if "#" in line["path"] else ""): line for line in lines}
    assert all(set(line) == CONTRACT_KEYS for line in lines)
    assert all(line["outcome"] in InboundOutcome.values for line in lines)
    # Files are read in name order: the retried delivery comes first, the original is then a duplicate.
    assert [by_name[name]["outcome"] for name in ("duplicate-of-plain-klacht.eml", "plain-klacht.eml")] == ["case", "duplicate"]
    assert by_name["plain-klacht.eml"]["reference"] == by_name["duplicate-of-plain-klacht.eml"]["reference"]
    assert by_name["other-question.eml"]["outcome"] == "triage"
    assert by_name["out-of-office.eml"]["outcome"] == "auto_reply"
    assert by_name["bounce.eml"]["outcome"] == "auto_reply"
    assert by_name["newsletter-advertising.eml"]["outcome"] == "ignored"
    assert by_name["garbage-bytes.eml"]["outcome"] == "error" and by_name["empty.eml"]["outcome"] == "error"
    # The mbox holds the same complaint again (a duplicate), a robot's report and a suggestion.
    assert [by_name[f"info-harlingen-export.mbox#{n}"]["outcome"] for n in (1, 2, 3)] == ["duplicate", "auto_reply", "case"]
    # Every file in the folder, and each message of the mbox, is one line; nothing is dropped.
    expected = len([path for path in FIXTURES.iterdir() if path.is_file()]) + 3  # README.md too: every file is one line
    assert by_name["README.md"]["outcome"] in ("error", "triage")
    assert len(lines) == expected == InboundMessage.objects.count() + sum(line["outcome"] == "duplicate" for line in lines)
    assert "import_eml" in stderr  # the progress bar goes to stderr, never into the JSON
    assert all(line.startswith("{") for line in stdout.splitlines())


def test_a_file_without_eml_suffix_and_a_name_that_is_no_utf8_are_each_one_valid_line(municipality, tmp_path):
    """A saved message without .eml is still someone's message; a Windows archive's file name may be no UTF-8."""
    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copy(FIXTURES / "plain-klacht.eml", folder / "bericht")
    (folder / "junk.bin").write_bytes(b"\x00\x01 geen e-mail")
    (folder / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0 thumbnails")  # the system's own files are no one's message: skipped
    (folder / "desktop.ini").write_text("[.ShellClassInfo]\n")
    odd = bytes(folder) + b"/klacht-\xe9t\xe9.eml"
    Path(odd.decode("utf-8", "surrogateescape")).write_bytes((FIXTURES / "other-question.eml").read_bytes())
    lines, stdout, _ = run(folder)
    outcomes = {Path(line["path"]).name: line["outcome"] for line in lines}
    assert outcomes == {"bericht": "case", "junk.bin": "error", "klacht-\\udce9t\\udce9.eml": "triage"}
    stdout.encode("utf-8")  # prints under a UTF-8 locale
    assert InboundMessage.objects.count() == 3


def test_importing_the_same_folder_twice_changes_nothing(municipality):
    run(FIXTURES)
    counts = (Registration.objects.count(), Case.objects.count(), InboundMessage.objects.count())
    lines, _, _ = run(FIXTURES)
    assert {line["outcome"] for line in lines} == {"duplicate"}
    assert (Registration.objects.count(), Case.objects.count(), InboundMessage.objects.count()) == counts


def test_a_reply_in_the_folder_threads_to_the_case_registered_earlier_in_the_same_import(municipality, tmp_path):
    folder = tmp_path / "info"
    folder.mkdir()
    shutil.copy(FIXTURES / "plain-klacht.eml", folder / "01-klacht.eml")
    first, _, _ = run(folder)
    number = first[0]["reference"]
    reply = (FIXTURES / "reply-with-registration-number.eml").read_bytes().replace(b"HLG-2026-000042", number.encode())
    (folder / "02-reactie.eml").write_bytes(reply)
    lines, _, _ = run(folder / "02-reactie.eml")
    assert lines[0]["outcome"] == "thread" and lines[0]["reference"] == number
    assert Registration.objects.count() == 1


def test_an_mbox_file_is_read_message_by_message(municipality):
    lines, _, _ = run(FIXTURES / "mbox" / "info-harlingen-export.mbox")
    assert [line["path"].rsplit("#", 1)[1] for line in lines] == ["1", "2", "3"]
    assert [line["outcome"] for line in lines] == ["case", "auto_reply", "case"]
    complaint = Registration.objects.get(message_id="<CAF3k9Zx_plain-klacht-7d1e@mail.gmail.com>")
    assert ">From mijn kant" in complaint.text or "From mijn kant" in complaint.text


def test_a_maildir_is_read(municipality, tmp_path):
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add((FIXTURES / "quoted-printable.eml").read_bytes())
    box.add((FIXTURES / "iso-8859-1.eml").read_bytes())
    box.close()
    lines, _, _ = run(tmp_path / "Maildir")
    assert [line["outcome"] for line in lines] == ["case", "case"]
    assert Registration.objects.count() == 2


def test_a_missing_path_is_reported_and_the_others_are_still_imported(municipality):
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="konden niet gelezen worden"):
        call_command("import_eml", "/nergens/te/vinden.eml", str(FIXTURES / "plain-klacht.eml"), "--json", stdout=out, stderr=err)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0] == {"path": "/nergens/te/vinden.eml", "outcome": "error", "reference": "", "message": "Pad bestaat niet: /nergens/te/vinden.eml"}
    assert lines[1]["outcome"] == "case"


def test_without_json_each_message_is_a_readable_line_and_a_summary_follows(municipality):
    out, err = StringIO(), StringIO()
    call_command("import_eml", str(FIXTURES / "plain-klacht.eml"), str(FIXTURES / "newsletter-advertising.eml"), stdout=out, stderr=err)
    text = out.getvalue()
    assert "plain-klacht.eml: case HLG-" in text and "newsletter-advertising.eml: ignored" in text
    assert "2 bericht(en) verwerkt (case: 1, ignored: 1)" in err.getvalue()


def test_imported_mail_uses_the_same_intake_as_the_webhooks(municipality):
    run(FIXTURES / "plain-klacht.eml")
    inbound = InboundMessage.objects.get()
    assert inbound.source == "eml" and inbound.registration.channel == "email"
