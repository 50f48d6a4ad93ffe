"""Access (AVG art. 15): the export holds every case of the person and nothing of anyone else, not of
a namesake with another first name, nor of someone with an e-mail address that merely looks alike."""

import io
import json
import re
import zipfile
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from pypdf import PdfReader

from cases.errors import WorkflowError
from cases.intake.email import email_intake
from cases.models import Attachment, DataSubjectRequest, InboundMessage
from cases.records.subject_access import PersonQuery, case_access_data, match_select, person_find, subject_access_export
from cases.workflow.registration import Sender, register_item
from cms.roles import EDITORS, MAILROOM
from tests.factories import CaseFactory, UserFactory, officer

pytestmark = pytest.mark.django_db

JAN = {"name": "Jan de Vries", "email": "jan.devries@voorbeeld.nl", "address": "Voorstraat 12\n8861 BL Harlingen"}
# People who are not Jan, each a near miss of one kind.
OTHERS = [
    {"name": "Piet de Vries", "email": "piet.devries@voorbeeld.nl", "address": "Voorstraat 14\n8861 BL Harlingen"},
    {"name": "Jan de Vries-Bakker", "email": "jan.devries@voorbeeld.com", "address": "Noorderhaven 3\n8861 AL Harlingen"},
    {"name": "J. de Vries", "email": "an.devries@voorbeeld.nl", "address": "Kerkpad 1\n8861 AA Harlingen"},
    {"name": "Jannes de Vries", "email": "jan.devries@voorbeeld.nl.example", "address": "Kerkpad 2\n8861 AA Harlingen"},
    {"name": "Johan Visser", "email": "jan.devries1@voorbeeld.nl", "address": "Kerkpad 3\n8861 AA Harlingen"},
]


def case_of(person: dict, text: str, **traits):
    return CaseFactory(name=person["name"], email=person["email"], address=person["address"], text=text, **traits)


def attach(case, name: str, content: bytes) -> Attachment:
    attachment = Attachment(registration=case.registration, filename=name, content_type="application/pdf", size=len(content))
    attachment.file.save(name, ContentFile(content), save=True)
    return attachment


@pytest.fixture
def people(gemeente):
    jan = [
        case_of(JAN, "Jans eerste klacht over de wachttijd", closed=True),
        case_of(JAN, "Jans suggestie voor de website", suggestion=True, acknowledged=True),
        case_of({**JAN, "email": "Jan.DeVries@Voorbeeld.NL"}, "Jans derde bericht, met hoofdletters gemaild"),
    ]
    attach(jan[0], "jan-bewijs.pdf", b"%PDF jan")
    others = [case_of(person, f"Bericht van {person['name']}") for person in OTHERS]
    attach(others[0], "piet-bewijs.pdf", b"%PDF piet")
    stray = InboundMessage.objects.create(
        source="eml", from_address=JAN["email"], from_name="Jan", subject="Vraag", text="Jans losse vraag", outcome="quarantine"
    )
    InboundMessage.objects.create(source="eml", from_address=OTHERS[0]["email"], subject="Vraag", text="Piets losse vraag", outcome="quarantine")
    return {"jan": jan, "others": others, "stray": stray}


def unzip(archive: bytes) -> tuple[dict, str, list[str]]:
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        data = json.loads(bundle.read("inzage.json"))
        pdf = PdfReader(io.BytesIO(bundle.read("inzage.pdf")))
        return data, "\n".join(page.extract_text() for page in pdf.pages), bundle.namelist()


def test_the_pdf_is_a_tagged_dutch_document_with_its_title(people):
    _filename, archive, _match = subject_access_export(query=PersonQuery(email=JAN["email"]), actor=officer())
    pdf = PdfReader(io.BytesIO(zipfile.ZipFile(io.BytesIO(archive)).read("inzage.pdf")))
    root = pdf.trailer["/Root"]
    assert (str(root["/Lang"]), "/StructTreeRoot" in root, bool(root["/ViewerPreferences"]["/DisplayDocTitle"])) == ("nl", True, True)
    assert pdf.metadata.title.startswith("Inzage persoonsgegevens")


def assert_only_jan(people, data: dict, pdf_text: str, names: list[str]) -> None:
    assert {row["number"] for row in data["registrations"]} == {case.registration.number for case in people["jan"]}
    dumped = json.dumps(data, ensure_ascii=False)
    for person, case in zip(OTHERS, people["others"], strict=True):
        for value in (person["name"], person["email"], case.registration.number, f"Bericht van {person['name']}"):
            # As a whole: "an.devries@voorbeeld.nl" is part of Jan's own address, and must only not stand alone.
            alone = re.compile(rf"(?<![\w.]){re.escape(value)}(?![\w.-])", re.IGNORECASE)
            assert not alone.search(dumped) and not alone.search(pdf_text), value
    assert "Piets losse vraag" not in dumped and not any("piet" in name for name in names)


def test_the_export_by_e_mail_holds_every_case_of_the_person_and_nothing_of_anyone_else(people):
    filename, archive, match = subject_access_export(query=PersonQuery(email="JAN.devries@voorbeeld.nl "), actor=officer())
    data, pdf_text, names = unzip(archive)
    assert filename.startswith("inzage-") and filename.endswith(".zip")
    assert_only_jan(people, data, pdf_text, names)
    assert [message["text"] for message in data["messages_without_case"]] == ["Jans losse vraag"]
    assert "Jans eerste klacht over de wachttijd" in pdf_text and "Jans suggestie voor de website" in pdf_text
    assert any(name.endswith("jan-bewijs.pdf") for name in names)
    first = next(row for row in data["registrations"] if row["number"] == people["jan"][0].registration.number)
    assert first["case"]["retention"]["destroy_on"] and first["case"]["timeline"]


def mail(*, sender: str, name: str, subject: str, text: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = f"{name} <{sender}>", "info@harlingen.nl", subject
    message["Message-ID"], message["Date"] = make_msgid(domain="voorbeeld.nl"), "Mon, 02 Nov 2026 10:00:00 +0100"
    message.set_content(text)
    return message.as_bytes()


def test_mail_someone_else_sent_about_the_persons_case_stays_out_of_their_export(people):
    """AVG art. 15 lid 4: Piet mails with Jan's number; his mail joins Jan's case for the officer, not Jan's export.
    Jan's own reply is his, and is in the export."""
    case = people["jan"][0]
    number = case.registration.number
    piet = email_intake(raw=mail(sender="piet.bakker@voorbeeld.nl", name="Piet Bakker", subject=f"Over {number}", text="Piet heeft schulden."), source="eml")
    own = email_intake(raw=mail(sender=JAN["email"], name="Jan de Vries", subject=f"Re: {number}", text="Jans aanvulling."), source="eml")
    assert piet.outcome == own.outcome == "thread"
    _filename, archive, _match = subject_access_export(query=PersonQuery(email=JAN["email"]), actor=officer())
    data, pdf_text, names = unzip(archive)
    dumped = json.dumps(data, ensure_ascii=False)
    assert [needle for needle in ("Piet Bakker", "piet.bakker@voorbeeld.nl", "schulden") if needle in dumped + pdf_text] == []
    assert "Jans aanvulling." in dumped
    assert len([name for name in names if name.endswith(".eml")]) == 1  # Jan's, not Piet's


def test_the_export_by_registration_number_finds_the_persons_other_cases(people):
    _filename, archive, _match = subject_access_export(query=PersonQuery(number=people["jan"][1].registration.number.lower()), actor=officer())
    assert_only_jan(people, *unzip(archive))


def test_a_name_matches_the_same_words_only(people):
    match = person_find(PersonQuery(name="  jan DE   vries "))
    assert set(match.numbers) == {case.registration.number for case in people["jan"]}


def test_a_namesake_is_found_by_name_and_the_officer_leaves_him_out(people):
    namesake = case_of({**JAN, "email": "", "address": "Havenweg 9\n1781 AA Den Helder"}, "Een andere Jan de Vries", channel="post")
    match = person_find(PersonQuery(name="Jan de Vries"))
    assert namesake.registration.number in match.numbers
    chosen = [registration.pk for registration in match.registrations if registration.pk != namesake.registration_id]
    _filename, archive, _match = subject_access_export(query=PersonQuery(name="Jan de Vries"), registration_ids=chosen, actor=officer())
    data, pdf_text, _names = unzip(archive)
    assert namesake.registration.number not in {row["number"] for row in data["registrations"]}
    assert "Den Helder" not in pdf_text


def test_the_officer_can_only_choose_among_the_matches(people):
    match = person_find(PersonQuery(email=JAN["email"]))
    with pytest.raises(ValidationError):
        match_select(match, [people["others"][0].registration_id])


def test_a_letter_without_e_mail_is_found_by_its_number_with_name_and_address(people):
    letter, _ = register_item(channel="letter", kind="complaint", text="Brief van Jan", sender=Sender(name="Jan de Vries", address=JAN["address"]))
    other, _ = register_item(channel="letter", kind="complaint", text="Brief van een andere Jan", sender=Sender(name="Jan de Vries", address="Havenweg 9"))
    match = person_find(PersonQuery(number=letter.number))
    assert letter.number in match.numbers and other.number not in match.numbers


def test_the_export_is_logged_without_the_persons_data(people):
    subject_access_export(query=PersonQuery(email=JAN["email"]), actor=officer(), reason="verzoek per brief van 3 maart")
    request = DataSubjectRequest.objects.get()
    assert (request.kind, request.matched_on) == ("access", "e-mailadres")
    assert set(request.numbers.split(", ")) == {case.registration.number for case in people["jan"]}
    assert JAN["email"] not in f"{request.numbers} {request.matched_on} {request.refused}"


def test_nothing_found_and_no_criteria_are_clear_refusals(people):
    with pytest.raises(WorkflowError, match="niets gevonden"):
        subject_access_export(query=PersonQuery(email="niemand@voorbeeld.nl"), actor=officer())
    with pytest.raises(ValidationError):
        PersonQuery(email=" ", name="", number="")


@pytest.mark.parametrize("role", [EDITORS, MAILROOM])
def test_editors_and_the_mailroom_may_not_export(people, role):
    with pytest.raises(PermissionDenied):
        subject_access_export(query=PersonQuery(email=JAN["email"]), actor=UserFactory(username=f"u-{role}", role=role))


def test_other_capabilities_add_what_they_keep_about_each_case(people):
    """The conversation (questions and replies) adds its own sections through ``case_access_data``."""
    asked = []

    def questions(sender, case, **kwargs):
        asked.append(case.pk)
        return [{"title": "Vragen aan u en uw antwoorden", "items": [f"Vraag over {case.registration.number}: welke balie?"]}]

    case_access_data.connect(questions)
    try:
        _filename, archive, _match = subject_access_export(query=PersonQuery(email=JAN["email"]), actor=officer())
    finally:
        case_access_data.disconnect(questions)
    data, pdf_text, _names = unzip(archive)
    assert sorted(asked) == sorted(case.pk for case in people["jan"])
    first = people["jan"][0].registration.number
    (row,) = [row for row in data["registrations"] if row["number"] == first]
    assert row["case"]["more"] == [{"title": "Vragen aan u en uw antwoorden", "items": [f"Vraag over {first}: welke balie?"]}]
    assert f"Vraag over {first}: welke balie?" in pdf_text and "Vragen aan u en uw antwoorden" in pdf_text
