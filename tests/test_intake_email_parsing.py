"""Reading e-mail without the database: charsets, headers, HTML, bounces and the kind rules."""

from pathlib import Path

import pytest

from cases.intake import classify
from cases.intake.parsing.decode import decode_bytes, decode_header_text, normalize_message_id
from cases.intake.parsing.html import html_to_text
from cases.intake.parsing.mime import UnparseableEmail, parse_email
from cases.intake.parsing.rules import bounce_info, is_bounce, loop_reason, registration_numbers, thread_ids

FIXTURES = Path(__file__).parent / "fixtures" / "eml"


def parse(name: str):
    return parse_email((FIXTURES / name).read_bytes())


@pytest.mark.parametrize(
    ("payload", "declared", "expected"),
    [
        ("geïrriteerd café € 25".encode(), "utf-8", "geïrriteerd café € 25"),
        ("geïrriteerd café € 25".encode("cp1252"), "windows-1252", "geïrriteerd café € 25"),
        ("‘twee werkdagen’ – € 25".encode("cp1252"), "iso-8859-1", "‘twee werkdagen’ – € 25"),
        ("geïrriteerd café".encode("cp1252"), "utf-8", "geïrriteerd café"),
        ("geïrriteerd café € 25".encode(), "iso-8859-1", "geïrriteerd café € 25"),
        ("één".encode("cp1252"), None, "één"),
        ("zażółć".encode("iso-8859-2"), "iso-8859-2", "zażółć"),
        ("café".encode("cp1252"), "x-onbekende-tekenset", "café"),
    ],
)
def test_text_is_decoded_whatever_the_declaration_says(payload, declared, expected):
    assert decode_bytes(payload, declared) == expected


def test_undefined_windows_1252_bytes_do_not_break_decoding():
    assert decode_bytes(b"a\x81b\x9dc", "windows-1252") == "a\x81b\x9dc"


def test_encoded_and_raw_8bit_headers_are_decoded():
    assert decode_header_text("=?iso-8859-1?Q?Ren=E9e_Wijnstra?=") == "Renée Wijnstra"
    assert decode_header_text("=?UTF-8?B?S2xhY2h0OiDDqcOpbiBsb2tldA==?=") == "Klacht: één loket"
    raw_8bit = "Klacht – niet teruggebeld".encode("cp1252").decode("ascii", "surrogateescape")
    assert decode_header_text(raw_8bit) == "Klacht – niet teruggebeld"
    assert decode_header_text("=?x-unknown?Q?caf=E9?=") == "café"


def test_html_becomes_readable_text():
    html = (
        "<html><head><title>x</title><style>p{color:red}</style></head>"
        "<body><p>Beste&nbsp;gemeente,</p><ul><li>één</li><li>twee</li></ul>Groet<br>Jan</body></html>"
    )
    assert html_to_text(html) == "Beste gemeente,\n\n- één\n\n- twee\n\nGroet\nJan"


def test_message_ids_are_normalised_to_angle_brackets():
    assert normalize_message_id("  <abc@example.nl> ") == "<abc@example.nl>"
    assert normalize_message_id("abc@example.nl") == "<abc@example.nl>"
    assert normalize_message_id("") == "" and normalize_message_id("<>") == ""


def test_registration_numbers_are_found_in_a_subject_in_any_case():
    assert registration_numbers("Re: AW: uw klacht hlg-2026-000042 en HLG-2025-000007") == ["HLG-2026-000042", "HLG-2025-000007"]
    assert registration_numbers("Factuur 2026-000042") == []


def test_thread_ids_are_in_reply_to_first_then_references_from_the_nearest():
    parsed = parse("reply-in-reply-to.eml")
    assert thread_ids(parsed) == ["<letter.acknowledgement.42.7f3a9c@handvest.harlingen.nl>", "<CAF3k9Zx_plain-klacht-7d1e@mail.gmail.com>"]


def test_a_dsn_bounce_names_the_returned_message_and_is_permanent():
    parsed = parse("bounce.eml")
    assert is_bounce(parsed)
    info = bounce_info(parsed)
    assert info.returned_message_ids == ["<letter.acknowledgement.42.7f3a9c@handvest.harlingen.nl>"]
    assert info.permanent and info.recipients == ["a.dijkstra@ziggo.nl"] and "User unknown" in info.diagnostic


def test_a_bounce_with_only_the_returned_headers_is_read_too():
    original = (FIXTURES / "bounce.eml").read_bytes()
    headers_only = original.replace(b"Content-Type: message/rfc822", b"Content-Type: text/rfc822-headers")
    info = bounce_info(parse_email(headers_only))
    assert info.returned_message_ids == ["<letter.acknowledgement.42.7f3a9c@handvest.harlingen.nl>"]


def test_an_ordinary_message_is_no_loop():
    assert loop_reason(parse("plain-klacht.eml"), own_domain="handvest.harlingen.nl") is None


def test_the_sender_of_our_own_letters_is_a_loop():
    reason = loop_reason(parse("plain-klacht.eml"), own_domain="handvest.harlingen.nl", own_addresses={"A.Dijkstra@ziggo.nl"})
    assert reason is not None and "eigen adres" in reason.reason


def test_bytes_without_any_header_are_no_email():
    with pytest.raises(UnparseableEmail):
        parse_email(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(UnparseableEmail):
        parse_email(b"   \r\n ")


def test_the_date_of_arrival_is_read_from_the_topmost_received_header():
    parsed = parse("plain-klacht.eml")
    assert parsed.received_at.isoformat() == "2026-11-02T09:14:07+01:00"


def test_advertising_needs_a_mailing_and_an_offer():
    headers = {"List-Unsubscribe": "<https://x.nl/afmelden>"}
    assert classify.advertising_reason(subject="30% korting op bureaustoelen", text="Bestel nu.", headers=headers)
    assert not classify.advertising_reason(subject="Klacht", text="Uw nieuwsbrief kwam niet aan, ik wil klagen.", headers={})
    assert not classify.advertising_reason(subject="Aanbieding", text="Ik zag uw aanbieding van de sportzaal.", headers={})


def test_a_citizen_who_wants_to_unsubscribe_something_for_free_is_not_advertising():
    text = "Ik wil mijn zoon uitschrijven uit de BRP en mijn hond afmelden. Is dat gratis?"
    assert not classify.advertising_reason(subject="Uitschrijven", text=text, headers={})


def test_a_newsletter_without_an_offer_is_not_advertising():
    text = "NIEUWSBRIEF Ondernemersvereniging Harlingen: terugblik op de havendagen. Afmelden voor deze nieuwsbrief kan hier."
    assert not classify.advertising_reason(subject="Nieuwsbrief najaar", text=text, headers={"List-Unsubscribe": "<mailto:x@y.nl>"})


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Ik dien een klacht in: ik ben niet teruggebeld terwijl dat was toegezegd.", "complaint"),
        ("Suggestie: zou het mogelijk zijn om ook 's avonds paspoorten op te halen?", "suggestion"),
        ("Bijgaand het ingevulde formulier voor de buurtbarbecue.", "other"),
        ("Hartelijk dank voor de fijne samenwerking bij de intocht.", "other"),
    ],
)
def test_the_rule_fallback_sorts_plain_cases(text, kind):
    assert classify.rule_kind(text) == kind
