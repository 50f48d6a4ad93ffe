"""Decoding the parts of an e-mail whatever state they are in: charsets, encoded headers,
Message-IDs, addresses and dates. Forgiving on purpose: a wrong charset declaration or raw
8-bit bytes give readable text, never an exception."""

from __future__ import annotations

import codecs
import datetime
import email.errors
import email.header
import email.utils
import re
from email.message import Message

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

MESSAGE_ID_TOKEN = re.compile(r"<[^<>\s]+>")
# Charsets that are in practice windows-1252: mail clients label cp1252 text as latin-1 or even ascii.
WINDOWS_1252_ALIASES = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii", "windows-1252", "cp1252", "x-user-defined"}
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip('"').lower()
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _decode_cp1252(payload: bytes) -> str:
    # cp1252 leaves five bytes undefined; read those as latin-1 (every byte is a character there).
    text = payload.decode("cp1252", errors="surrogateescape")
    if not _has_surrogates(text):
        return text
    return "".join(chr(ord(ch) - 0xDC00) if "\udc80" <= ch <= "\udcff" else ch for ch in text)


def decode_bytes(payload: bytes, declared: str | None = None) -> str:
    """Decode text whatever its declaration says: valid UTF-8 wins, then the declared charset, then windows-1252.

    Valid UTF-8 with non-ASCII characters is almost never anything else, so a message that says
    iso-8859-1 but is UTF-8 is read right; a message that says UTF-8 but is not valid UTF-8 is
    read as windows-1252, which is what Dutch mail clients write when they get it wrong.
    """
    if not payload:
        return ""
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        pass
    codec = _codec(declared)
    if codec and declared and declared.strip().strip('"').lower() not in WINDOWS_1252_ALIASES and codec not in ("utf-8", "ascii", "latin-1", "cp1252"):
        try:
            return payload.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
    return _decode_cp1252(payload)


def clean_text(text: str) -> str:
    """Text safe for the database (PostgreSQL refuses NUL) and for people: no control characters, \\n line ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return CONTROL_CHARACTERS.sub("", text)


def _has_surrogates(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def decode_header_text(value: str | None) -> str:
    """A header as readable text: RFC 2047 encoded words decoded, raw 8-bit bytes decoded by ``decode_bytes``."""
    if value is None:
        return ""
    value = str(value)
    if _has_surrogates(value):
        value = decode_bytes(value.encode("ascii", "surrogateescape"))
    try:
        decoded = str(email.header.make_header(email.header.decode_header(value)))
    except (email.errors.HeaderParseError, LookupError, UnicodeError, ValueError, AssertionError):
        try:
            parts = email.header.decode_header(value)
        except (email.errors.HeaderParseError, ValueError, AssertionError):
            parts = [(value, None)]
        decoded = "".join(decode_bytes(part, charset) if isinstance(part, bytes) else part for part, charset in parts)
    return " ".join(clean_text(decoded).split())


def header_value(message: Message, name: str) -> str:
    """The first header ``name`` as decoded text, '' when absent (raw value: works on any policy)."""
    lowered = name.lower()
    for key, value in message.raw_items():
        if key.lower() == lowered:
            return decode_header_text(value)
    return ""


def header_values(message: Message, name: str) -> list[str]:
    lowered = name.lower()
    return [decode_header_text(value) for key, value in message.raw_items() if key.lower() == lowered]


def normalize_message_id(value: str | None) -> str:
    """``<local@domain>`` form of a Message-ID, or '' when there is none."""
    if not value:
        return ""
    match = MESSAGE_ID_TOKEN.search(value)
    token = match.group(0) if match else "<" + value.strip().strip("<>").strip() + ">"
    if token in ("<>", "< >") or " " in token:
        return ""
    return token


def message_id_tokens(value: str) -> list[str]:
    return MESSAGE_ID_TOKEN.findall(value or "")


def message_id_domain(message_id: str) -> str:
    return message_id.strip("<>").rpartition("@")[2].lower()


def valid_address(address: str) -> str:
    address = (address or "").strip()
    if not address or len(address) > 254:
        return ""
    try:
        validate_email(address)
    except ValidationError:
        return ""
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def parse_address(value: str) -> tuple[str, str]:
    """(display name, valid address or '') of the first address in a header."""
    if not value:
        return "", ""
    try:
        pairs = email.utils.getaddresses([value])
    except (ValueError, TypeError, IndexError):
        pairs = []
    for name, address in pairs:
        if address:
            return " ".join(name.split())[:200], valid_address(address)
    return value.strip()[:200] if "@" not in value else "", ""


def parse_date(value: str) -> datetime.datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed
