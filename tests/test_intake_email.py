"""E-mail intake rules, each with a realistic message from tests/fixtures/eml/ (made for this project)."""

import datetime
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.db.models.signals import post_save

from cases.intake import classify
from cases.intake import routing as intake_routing
from cases.intake.email import email_intake
from cases.models import (
    Attachment,
    Case,
    CaseEvent,
    EventKind,
    InboundMessage,
    InboundOutcome,
    Kind,
    OutgoingMessage,
    Registration,
    RegistrationCounter,
    TriageState,
)
from cases.signals import case_registered
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "eml"
OUR_LETTER_ID = "<letter.acknowledgement.42.7f3a9c@handvest.harlingen.nl>"


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def take_in(name: str, **kwargs):
    return email_intake(raw=raw(name), source="eml", **kwargs)


@pytest.fixture
def acknowledged_signals():
    """Registrations announced to the acknowledgement machinery (case_registered receivers)."""
    sent = []

    def record(sender, case_id, **kwargs):
        sent.append(case_id)

    case_registered.connect(record, dispatch_uid="test_intake_record")
    yield sent
    case_registered.disconnect(dispatch_uid="test_intake_record")


@pytest.fixture
def case_42(municipality):
    """Complaint HLG-2026-000042 of Anneke Dijkstra, with the acknowledgement we sent her by e-mail."""
    RegistrationCounter.objects.create(prefix="HLG", year=2026, last=41)
    case = CaseFactory(received_on=datetime.date(2026, 11, 2), email="a.dijkstra@ziggo.nl")
    assert case.registration.number == "HLG-2026-000042"
    OutgoingMessage.objects.create(
        case=case,
        kind="acknowledgement",
        channel="email",
        status="sent",
        dedupe_key=f"ack-{case.pk}",
        automatic=True,
        to_email="a.dijkstra@ziggo.nl",
        subject="Ontvangstbevestiging van uw klacht HLG-2026-000042",
        body_text="Wij hebben uw klacht ontvangen.",
        message_id=OUR_LETTER_ID,
    )
    return case


def nothing_registered():
    return Registration.objects.count() == 0 and Case.objects.count() == 0


# --- registering --------------------------------------------------------------------------------


def test_a_plain_complaint_becomes_a_case_with_the_sender_and_message_id(municipality, django_capture_on_commit_callbacks, acknowledged_signals):
    with django_capture_on_commit_callbacks(execute=True):
        result = take_in("plain-klacht.eml")
    assert result.outcome == InboundOutcome.CASE
    registration = Registration.objects.get()
    assert result.reference == registration.number
    assert registration.channel == "email" and registration.kind == Kind.COMPLAINT
    assert registration.sender_name == "Anneke Dijkstra" and registration.sender_email == "a.dijkstra@ziggo.nl"
    assert registration.message_id == "<CAF3k9Zx_plain-klacht-7d1e@mail.gmail.com>"
    assert registration.subject == "Klacht over de balie: drie kwartier gewacht"
    assert "drie kwartier na mijn afspraak" in registration.text
    assert acknowledged_signals == [registration.case.pk]
    inbound = InboundMessage.objects.get()
    assert inbound.outcome == InboundOutcome.CASE and inbound.registration == registration and inbound.case == registration.case
    assert inbound.raw.read() == raw("plain-klacht.eml")


def test_other_mail_is_registered_and_waits_in_triage_without_a_case(municipality):
    result = take_in("other-question.eml")
    assert result.outcome == InboundOutcome.TRIAGE
    registration = Registration.objects.get()
    assert registration.kind == Kind.OTHER and registration.triage_state == TriageState.PENDING
    assert not Case.objects.exists()


def test_a_suggestion_becomes_a_suggestion_case(municipality):
    result = take_in("iso-8859-1.eml")
    assert result.outcome == InboundOutcome.CASE
    assert Case.objects.get().kind == Kind.SUGGESTION


def test_the_reply_to_address_is_where_the_answer_goes(municipality):
    message = email.message_from_bytes(raw("plain-klacht.eml"), policy=email.policy.compat32)
    message["Reply-To"] = "Anneke Dijkstra <anneke.werk@harlingen-haven.nl>"
    email_intake(raw=message.as_bytes(), source="eml")
    assert Registration.objects.get().sender_email == "anneke.werk@harlingen-haven.nl"


def test_an_imported_message_keeps_the_date_it_arrived(municipality):
    take_in("plain-klacht.eml", date_from_headers=True)
    assert Registration.objects.get().received_on == datetime.date(2026, 11, 2)


# --- idempotent -------------------------------------------------------------------------------------


def test_the_same_message_id_never_makes_a_second_item(municipality):
    first = take_in("plain-klacht.eml")
    second = take_in("duplicate-of-plain-klacht.eml")
    assert (first.outcome, second.outcome) == (InboundOutcome.CASE, InboundOutcome.DUPLICATE)
    assert second.reference == first.reference
    assert Registration.objects.count() == 1 and InboundMessage.objects.count() == 1


def test_without_a_message_id_the_same_content_is_a_duplicate(municipality):
    first = take_in("missing-headers.eml")
    second = take_in("missing-headers.eml")
    assert first.outcome in (InboundOutcome.CASE, InboundOutcome.TRIAGE)
    assert second.outcome == InboundOutcome.DUPLICATE
    assert Registration.objects.count() == 1 and InboundMessage.objects.count() == 1


def test_without_a_message_id_different_content_is_a_new_item(municipality):
    take_in("missing-headers.eml")
    other = raw("missing-headers.eml").replace(b"dinsdagavond", b"woensdagavond")
    assert email_intake(raw=other, source="eml").outcome != InboundOutcome.DUPLICATE
    assert Registration.objects.count() == 2


def test_a_duplicate_changes_nothing_on_the_case(case_42):
    take_in("reply-in-reply-to.eml")
    events = CaseEvent.objects.filter(case=case_42).count()
    result = take_in("reply-in-reply-to.eml")
    assert result.outcome == InboundOutcome.DUPLICATE and result.reference == "HLG-2026-000042"
    assert CaseEvent.objects.filter(case=case_42).count() == events


def test_an_unparseable_message_received_twice_is_kept_once(municipality):
    assert take_in("garbage-bytes.eml").outcome == InboundOutcome.ERROR
    assert take_in("garbage-bytes.eml").outcome == InboundOutcome.DUPLICATE
    assert InboundMessage.objects.count() == 1


# --- threading ----------------------------------------------------------------------------------------


def test_a_reply_with_the_registration_number_in_the_subject_joins_the_case(case_42, acknowledged_signals):
    result = take_in("reply-with-registration-number.eml")
    assert result.outcome == InboundOutcome.THREAD and result.reference == "HLG-2026-000042"
    assert Registration.objects.count() == 1
    event = CaseEvent.objects.get(case=case_42, kind=EventKind.MESSAGE_IN)
    assert "Anneke Dijkstra" in event.note and event.data["subject"].endswith("HLG-2026-000042")
    assert "maar één van de vier loketten" in event.data["text"]
    inbound = InboundMessage.objects.get()
    assert inbound.case == case_42 and inbound.outcome == InboundOutcome.THREAD
    assert acknowledged_signals == []


def test_a_reply_by_in_reply_to_our_letter_joins_the_case(case_42):
    result = take_in("reply-in-reply-to.eml")
    assert result.outcome == InboundOutcome.THREAD and result.reference == "HLG-2026-000042"
    assert Registration.objects.count() == 1
    event = CaseEvent.objects.get(case=case_42, kind=EventKind.MESSAGE_IN)
    assert event.data["how"].startswith("antwoord op onze brief")


def test_a_reply_by_references_only_joins_the_case(case_42):
    message = raw("reply-in-reply-to.eml").replace(b"In-Reply-To: " + OUR_LETTER_ID.encode() + b"\n", b"")
    assert b"In-Reply-To" not in message
    assert email_intake(raw=message, source="eml").outcome == InboundOutcome.THREAD


def test_a_reply_to_a_number_that_does_not_exist_is_registered_as_new(municipality):
    result = take_in("reply-with-registration-number.eml")
    assert result.outcome in (InboundOutcome.CASE, InboundOutcome.TRIAGE)
    assert Registration.objects.count() == 1


def test_a_reply_from_another_address_is_flagged_for_the_officer(case_42):
    message = raw("reply-with-registration-number.eml").replace(b"<a.dijkstra@ziggo.nl>", b"<onbekend@example.nl>")
    email_intake(raw=message, source="eml")
    event = CaseEvent.objects.get(case=case_42, kind=EventKind.MESSAGE_IN)
    assert "niet het adres van de indiener" in event.note


def test_attachments_of_a_reply_join_the_registration(case_42):
    message = EmailMessage()
    message["From"] = "Anneke Dijkstra <a.dijkstra@ziggo.nl>"
    message["To"] = "info@harlingen.nl"
    message["Subject"] = "Foto wachtnummers bij HLG-2026-000042"
    message["Message-ID"] = "<foto-nasturen-1@mail.gmail.com>"
    message.set_content("Hierbij de foto van het scherm met de wachtnummers.")
    message.add_attachment(b"\xff\xd8\xff\xe0fakejpeg", maintype="image", subtype="jpeg", filename="wachtnummers.jpg")
    assert email_intake(raw=message.as_bytes(), source="eml").outcome == InboundOutcome.THREAD
    attachment = Attachment.objects.get()
    assert attachment.registration == case_42.registration and attachment.filename == "wachtnummers.jpg"


# --- no loops --------------------------------------------------------------------------------------------

LOOP_HEADERS = [
    ("Auto-Submitted", "auto-generated"),
    ("X-Autoreply", "yes"),
    ("X-Autorespond", "Ik ben afwezig"),
    ("X-Loop", "info@harlingen.nl"),
    ("Precedence", "auto_reply"),
    ("Precedence", "bulk"),
    ("Precedence", "junk"),
    ("Precedence", "list"),
    ("X-Auto-Response-Suppress", "All"),
]


def with_header(name: str, value: str, base: str = "plain-klacht.eml") -> bytes:
    message = email.message_from_bytes(raw(base), policy=email.policy.compat32)
    message[name] = value
    return message.as_bytes()


@pytest.mark.parametrize(("header", "value"), LOOP_HEADERS, ids=[f"{h}:{v}" for h, v in LOOP_HEADERS])
def test_an_automatic_message_is_never_registered_and_never_acknowledged(municipality, header, value, django_capture_on_commit_callbacks, acknowledged_signals):
    with django_capture_on_commit_callbacks(execute=True):
        result = email_intake(raw=with_header(header, value), source="eml")
    assert result.outcome == InboundOutcome.AUTO_REPLY
    assert header in InboundMessage.objects.get().reason
    assert nothing_registered() and acknowledged_signals == [] and not OutgoingMessage.objects.exists()


def test_auto_submitted_no_is_an_ordinary_message(municipality):
    assert email_intake(raw=with_header("Auto-Submitted", "no"), source="eml").outcome == InboundOutcome.CASE


def test_x_auto_response_suppress_without_all_is_an_ordinary_message(municipality):
    assert email_intake(raw=with_header("X-Auto-Response-Suppress", "OOF, AutoReply"), source="eml").outcome == InboundOutcome.CASE


def test_a_message_with_our_own_message_id_is_a_loop(municipality, settings):
    settings.HANDVEST_MAIL_DOMAIN = "handvest.harlingen.nl"
    looped = raw("plain-klacht.eml").replace(b"<CAF3k9Zx_plain-klacht-7d1e@mail.gmail.com>", b"<letter.answer.7.aa11@handvest.harlingen.nl>")
    result = email_intake(raw=looped, source="eml")
    assert result.outcome == InboundOutcome.AUTO_REPLY and "eigen domein" in result.message
    assert nothing_registered()


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx1.ziggo.nl", "postmaster@hetnet.nl", "noreply@mijn.overheid.nl", "no-reply@digid.nl"])
def test_robot_senders_are_never_registered(municipality, sender):
    message = email.message_from_bytes(raw("plain-klacht.eml"), policy=email.policy.compat32)
    message.replace_header("From", sender)
    result = email_intake(raw=message.as_bytes(), source="eml")
    assert result.outcome == InboundOutcome.AUTO_REPLY
    assert nothing_registered()


def test_a_read_receipt_report_is_never_registered(municipality):
    message = EmailMessage()
    message["From"] = "Anneke Dijkstra <a.dijkstra@ziggo.nl>"
    message["To"] = "info@harlingen.nl"
    message["Subject"] = "Gelezen: Ontvangstbevestiging"
    message["Message-ID"] = "<mdn-1@ziggo.nl>"
    message.set_content("Uw bericht is gelezen.")
    message.make_mixed()
    message.replace_header("Content-Type", 'multipart/report; report-type=disposition-notification; boundary="b1"')
    assert email_intake(raw=message.as_bytes(), source="eml").outcome == InboundOutcome.AUTO_REPLY
    assert nothing_registered()


def test_an_out_of_office_reply_to_our_letter_joins_the_case_and_gets_no_answer(case_42, django_capture_on_commit_callbacks, acknowledged_signals):
    with django_capture_on_commit_callbacks(execute=True):
        result = take_in("out-of-office.eml")
    assert result.outcome == InboundOutcome.AUTO_REPLY and result.reference == "HLG-2026-000042"
    event = CaseEvent.objects.get(case=case_42, kind=EventKind.MESSAGE_IN)
    assert event.name == "auto_reply" and "Automatisch antwoord" in event.note
    assert Registration.objects.count() == 1 and OutgoingMessage.objects.count() == 1
    assert acknowledged_signals == []


def test_an_out_of_office_reply_to_nothing_of_ours_is_not_registered(municipality):
    result = take_in("out-of-office.eml")
    assert result.outcome == InboundOutcome.AUTO_REPLY and result.reference == ""
    assert nothing_registered()


def test_a_bounce_of_our_letter_marks_the_address_undeliverable_and_tells_the_officer(case_42, acknowledged_signals):
    result = take_in("bounce.eml")
    assert result.outcome == InboundOutcome.AUTO_REPLY and result.reference == "HLG-2026-000042"
    registration = Registration.objects.get()
    assert registration.email_undeliverable
    note = CaseEvent.objects.get(case=case_42, kind=EventKind.NOTE, name="bounce")
    assert "a.dijkstra@ziggo.nl" in note.note and "per post" in note.note and "5.1.1" in note.note
    assert note.data["returned_message_id"] == OUR_LETTER_ID
    inbound = InboundMessage.objects.get()
    assert inbound.case == case_42 and inbound.outcome == InboundOutcome.AUTO_REPLY
    assert acknowledged_signals == [] and Registration.objects.count() == 1


def test_the_bounce_handler_sends_the_bounced_letter_again_by_post_once(case_42, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        take_in("bounce.eml")
    with django_capture_on_commit_callbacks(execute=True):
        assert take_in("bounce.eml").outcome == InboundOutcome.DUPLICATE
    copy = OutgoingMessage.objects.exclude(message_id=OUR_LETTER_ID).get(case=case_42)
    assert (copy.kind, copy.channel) == ("acknowledgement", "post")
    assert copy.body_text == "Wij hebben uw klacht ontvangen."


def test_a_delayed_delivery_report_sends_nothing_by_post(case_42, django_capture_on_commit_callbacks):
    delayed = raw("bounce.eml").replace(b"Action: failed", b"Action: delayed").replace(b"Status: 5.1.1", b"Status: 4.4.1")
    with django_capture_on_commit_callbacks(execute=True):
        email_intake(raw=delayed, source="eml")
    assert list(OutgoingMessage.objects.values_list("message_id", flat=True)) == [OUR_LETTER_ID]


def test_a_delayed_delivery_report_does_not_mark_the_address_undeliverable(case_42):
    delayed = raw("bounce.eml").replace(b"Action: failed", b"Action: delayed").replace(b"Status: 5.1.1", b"Status: 4.4.1")
    assert email_intake(raw=delayed, source="eml").outcome == InboundOutcome.AUTO_REPLY
    assert not Registration.objects.get().email_undeliverable
    assert "vertraagd" in CaseEvent.objects.get(case=case_42, name="bounce").note


def test_a_bounce_of_a_message_that_is_not_ours_is_not_registered(municipality):
    result = take_in("bounce.eml")
    assert result.outcome == InboundOutcome.AUTO_REPLY and result.reference == ""
    assert nothing_registered()


# --- advertising --------------------------------------------------------------------------------------------


def test_advertising_is_not_registered_but_counted_in_the_log(municipality, caplog):
    caplog.set_level("INFO", logger="cases.intake.email")
    result = take_in("newsletter-advertising.eml")
    assert result.outcome == InboundOutcome.IGNORED
    assert nothing_registered()
    assert InboundMessage.objects.get().outcome == InboundOutcome.IGNORED
    assert "advertising not registered" in caplog.text and "1 advertising message(s) received on" in caplog.text
    # Its id, not its sender or subject: a complaint taken for advertising would put personal data in the log.
    assert "kantoorplein" not in caplog.text.lower() and "bureaustoelen" not in caplog.text


def test_a_complaint_that_mentions_a_newsletter_is_not_advertising(municipality):
    message = raw("plain-klacht.eml").replace(b"Ik wil hierover een klacht indienen.", b"Ik wil hierover een klacht indienen. Uw nieuwsbrief las ik ook al.")
    assert email_intake(raw=message, source="eml").outcome == InboundOutcome.CASE


# --- classification ------------------------------------------------------------------------------------------


def test_the_tagger_kind_classifier_decides_when_it_is_plugged_in(municipality):
    classify.set_kind_classifier(lambda text: "suggestion")
    try:
        assert take_in("plain-klacht.eml").outcome == InboundOutcome.CASE
    finally:
        classify.set_kind_classifier(None)
    assert Registration.objects.get().kind == Kind.SUGGESTION


def test_a_failing_kind_classifier_falls_back_to_the_rules(municipality):
    def broken(text):
        raise RuntimeError("model not loaded")

    classify.set_kind_classifier(broken)
    try:
        take_in("plain-klacht.eml")
    finally:
        classify.set_kind_classifier(None)
    assert Registration.objects.get().kind == Kind.COMPLAINT


def test_a_classifier_answer_outside_the_kinds_falls_back_to_the_rules(municipality):
    classify.set_kind_classifier(lambda text: "spam")
    try:
        take_in("other-question.eml")
    finally:
        classify.set_kind_classifier(None)
    assert Registration.objects.get().kind == Kind.OTHER


def test_the_classifier_never_overrules_advertising(municipality):
    classify.set_kind_classifier(lambda text: "complaint")
    try:
        assert take_in("newsletter-advertising.eml").outcome == InboundOutcome.IGNORED
    finally:
        classify.set_kind_classifier(None)


# --- robust parsing -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected_text", "expected_subject"),
    [
        ("html-only.eml", "Op de laptop van mijn buurvrouw lukt het wél.", "Website werkt niet op mijn telefoon"),
        ("windows-1252.eml", "(€ 312,48)", "Klacht: niet teruggebeld na toezegging – al acht dagen"),
        ("iso-8859-1.eml", "café 't Havenhoofd", "Suggestie voor de avondopenstelling van het gemeentehuis"),
        ("wrong-charset-declared-utf8.eml", "überhaupt iemand sprak", "Klacht over de behandeling aan de telefoon"),
        ("wrong-charset-declared-latin1.eml", "(€ 41,90)", "Verbetersuggestie website"),
        ("quoted-printable.eml", "weet ik nog steeds niet of mijn mail überhaupt is aangekomen", "Geen ontvangstbevestiging – nog steeds geen reactie"),
        ("base64.eml", "een compliment én een verbetersuggestie", "Tip voor de balie"),
    ],
)
def test_text_and_subject_are_readable_whatever_the_encoding(municipality, name, expected_text, expected_subject):
    result = take_in(name)
    assert result.outcome in (InboundOutcome.CASE, InboundOutcome.TRIAGE)
    registration = Registration.objects.get()
    assert expected_text in registration.text
    assert registration.subject == expected_subject
    assert "Ã" not in registration.text and "\ufffd" not in registration.text


def test_html_only_mail_is_converted_to_text_without_markup_or_scripts(municipality):
    take_in("html-only.eml")
    text = Registration.objects.get().text
    assert "<div" not in text and "&quot;" not in text and "alert(" not in text and "margin-top" not in text
    assert 'de knop "Afspraak maken" is niet te zien' in text
    assert "Met vriendelijke groet,\nSietse de Boer" in text


def test_an_encoded_sender_name_is_decoded(municipality):
    take_in("windows-1252.eml")
    assert Registration.objects.get().sender_name == "J. Hoekstra–Bakker"


def test_a_message_with_missing_headers_is_still_registered(municipality):
    result = take_in("missing-headers.eml")
    assert result.outcome in (InboundOutcome.CASE, InboundOutcome.TRIAGE)
    registration = Registration.objects.get()
    assert registration.sender_email == "b.visser@planet.nl" and registration.message_id is None
    assert registration.subject == "" and "avondopenstelling" in registration.text


def test_an_inline_image_is_kept_as_an_attachment(municipality):
    take_in("inline-image.eml")
    attachment = Attachment.objects.get()
    assert attachment.filename == "container.png" and attachment.content_type == "image/png"
    assert attachment.file.read().startswith(b"\x89PNG")
    assert attachment.registration == Registration.objects.get() and attachment.inbound_message == InboundMessage.objects.get()


def test_an_attachment_is_kept_with_its_encoded_name(municipality):
    take_in("attachment-pdf.eml")
    attachment = Attachment.objects.get()
    assert attachment.filename == "verzendbewijs PostNL – maart.pdf"
    content = attachment.file.read()
    assert content.startswith(b"%PDF") and attachment.size == len(content)
    assert len(attachment.sha256) == 64 and len(attachment.file.name) <= 100


def big_message(*sizes: int) -> bytes:
    message = EmailMessage()
    message["From"] = "Hendrik Posthuma <h.posthuma@gmail.com>"
    message["To"] = "info@harlingen.nl"
    message["Subject"] = "Klacht over de bouwvergunning, met alle stukken"
    message["Message-ID"] = f"<stukken-{'-'.join(map(str, sizes))}@mail.gmail.com>"
    message.set_content("Ik dien een klacht in: al maanden geen antwoord op mijn aanvraag. De stukken zitten in de bijlagen.")
    for number, size in enumerate(sizes, start=1):
        message.add_attachment(b"%PDF-1.4\n" + b"0" * (size - 9), maintype="application", subtype="pdf", filename=f"stuk-{number}.pdf")
    return message.as_bytes()


def test_a_30_mb_attachment_is_dropped_with_a_note_and_the_mail_is_still_registered(municipality):
    result = email_intake(raw=big_message(30 * 1024 * 1024, 2000), source="eml")
    assert result.outcome == InboundOutcome.CASE
    assert "stuk-1.pdf" in result.message and "groter dan 10,0 MB" in result.message
    assert list(Attachment.objects.values_list("filename", flat=True)) == ["stuk-2.pdf"]
    case = Case.objects.get()
    note = CaseEvent.objects.get(case=case, name="attachments_dropped")
    assert "stuk-1.pdf" in note.note
    assert InboundMessage.objects.get().raw_size > 30 * 1024 * 1024


def test_attachments_beyond_the_total_limit_are_dropped(municipality, settings):
    settings.HANDVEST_MAIL_MAX_ATTACHMENT_BYTES = 1000
    settings.HANDVEST_MAIL_MAX_ATTACHMENTS_BYTES = 1500
    result = email_intake(raw=big_message(800, 800, 300), source="eml")
    assert result.outcome == InboundOutcome.CASE
    assert sorted(Attachment.objects.values_list("filename", flat=True)) == ["stuk-1.pdf", "stuk-3.pdf"]
    assert "stuk-2.pdf" in result.message and "samen met de andere bijlagen" in result.message


@pytest.mark.parametrize(("name", "reason"), [("garbage-bytes.eml", "Geen e-mail"), ("empty.eml", "Leeg bericht")])
def test_a_message_that_cannot_be_parsed_is_stored_raw_with_the_reason(municipality, name, reason, caplog):
    result = take_in(name)
    assert result.outcome == InboundOutcome.ERROR and reason in result.message
    inbound = InboundMessage.objects.get()
    assert inbound.outcome == InboundOutcome.ERROR and reason in inbound.reason and not inbound.handled
    assert inbound.raw.read() == raw(name)
    assert nothing_registered()
    assert "could not be processed" in caplog.text


def test_a_message_over_the_maximum_size_is_stored_raw_with_its_headers(municipality, settings):
    settings.HANDVEST_MAIL_MAX_MESSAGE_BYTES = 500
    result = take_in("plain-klacht.eml")
    # An e-mail, but not processed safely: quarantine (an "error" is mail that is no e-mail at all).
    assert result.outcome == InboundOutcome.QUARANTINE and "te groot" in result.message
    inbound = InboundMessage.objects.get()
    assert inbound.subject == "Klacht over de balie: drie kwartier gewacht" and inbound.from_address == "a.dijkstra@ziggo.nl"
    assert inbound.message_id == "<CAF3k9Zx_plain-klacht-7d1e@mail.gmail.com>" and inbound.raw.read() == raw("plain-klacht.eml")
    assert nothing_registered()


def test_a_failure_while_registering_keeps_the_message_for_an_officer(municipality, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(intake_routing, "register_item", explode)
    result = take_in("plain-klacht.eml")
    assert result.outcome == InboundOutcome.QUARANTINE and "RuntimeError" in result.message
    inbound = InboundMessage.objects.get()
    assert inbound.outcome == InboundOutcome.QUARANTINE and not inbound.handled
    assert "drie kwartier" in inbound.text and inbound.raw.read() == raw("plain-klacht.eml")
    assert nothing_registered()


def test_nul_bytes_never_reach_the_database(municipality):
    message = raw("plain-klacht.eml").replace(b"Ik wil hierover", b"Ik\x00 wil hierover")
    email_intake(raw=message, source="eml")
    assert "\x00" not in Registration.objects.get().text


def test_saving_an_inbound_message_is_not_repeated_on_a_duplicate(municipality):
    saves = []

    def count(sender, **kwargs):
        saves.append(kwargs["instance"].pk)

    take_in("plain-klacht.eml")
    post_save.connect(count, sender=InboundMessage, dispatch_uid="test_count_inbound")
    try:
        take_in("plain-klacht.eml")
    finally:
        post_save.disconnect(dispatch_uid="test_count_inbound")
    assert saves == []
