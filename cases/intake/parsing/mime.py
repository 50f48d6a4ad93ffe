"""Reading raw bytes into a ``ParsedEmail``: every fact the intake needs, read once.

``parse_email`` decodes the headers, the body as plain text (HTML-only mail converted), the
attachments, and what a delivery report says about the message it returns. It is forgiving on
purpose: quoted-printable and base64, utf-8 / iso-8859-1 / windows-1252, wrong charset
declarations, 8-bit headers and missing headers all give readable text. Only bytes that are no
e-mail at all (empty, or without a single header) raise ``UnparseableEmail``. After this step
nothing looks at the raw message again: the rules (``cases.intake.parsing.rules``) and the
routing read the ``ParsedEmail``.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import email.utils
import re
from dataclasses import dataclass, field
from email.message import Message

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cases.intake.parsing.decode import (
    clean_text,
    decode_bytes,
    decode_header_text,
    header_value,
    header_values,
    message_id_tokens,
    normalize_message_id,
    parse_address,
    parse_date,
)
from cases.intake.parsing.html import html_to_text

# Reasons an officer reads in the list of mail that could not be processed (InboundMessage.reason).
TOO_DEEP = _("Te diep geneste bijlagen (meer dan %(limit)s niveaus): niet verwerkt, wel bewaard.")
TOO_MANY_PARTS = _("Te veel onderdelen (meer dan %(limit)s): niet verwerkt, wel bewaard.")
HEADERS_TOO_LARGE = _("Te grote kopregels (meer dan %(limit)s kB): niet verwerkt, wel bewaard.")
PARSER_GAVE_UP = _("Het bericht is zo beschadigd dat het niet te lezen is (%(error)s): niet verwerkt, wel bewaard.")
EMPTY_MESSAGE = _("Leeg bericht: er kwam niets binnen.")
NOT_AN_EMAIL = _("Geen e-mail: het bericht heeft geen enkele kopregel (From, To, Subject, Date of Message-ID).")
DELIVERY_REPORT_TYPES = ("message/delivery-status", "message/disposition-notification", "text/rfc822-headers")


class UnparseableEmail(Exception):
    """The bytes are no e-mail; ``reason`` says why (for the officer)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class UnsafeEmail(UnparseableEmail):
    """An e-mail that is not processed because of its shape (nesting, parts, header size, or the
    parser gave up on it); it is stored raw and put in quarantine for a person."""


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes
    inline: bool = False
    content_id: str = ""

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass
class ParsedEmail:
    """What the intake needs of a message, decoded once; ``headers`` maps each lower-cased header
    name to its first value (decoded), so a rule can ask for any header and for its presence."""

    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    from_name: str = ""
    from_address: str = ""
    reply_to_address: str = ""
    to_address: str = ""
    subject: str = ""
    date: datetime.datetime | None = None
    received_at: datetime.datetime | None = None
    text: str = ""
    html_only: bool = False
    attachments: list[ParsedAttachment] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain"
    report_type: str = ""
    delivery_status: list[dict[str, str]] = field(default_factory=list)
    returned_message_ids: list[str] = field(default_factory=list)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def has_header(self, name: str) -> bool:
        return name.lower() in self.headers

    @property
    def reply_address(self) -> str:
        """Where an answer goes: Reply-To when it is a valid address, else From."""
        return self.reply_to_address or self.from_address


# --- the tree -------------------------------------------------------------------------------------


def _disposition(part: Message) -> str:
    value = header_value(part, "Content-Disposition")
    return value.split(";", 1)[0].strip().lower()


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = part.get_payload()
        if isinstance(payload, str):
            payload = payload.encode("utf-8", "surrogateescape")
        else:
            return ""
    return clean_text(decode_bytes(payload, part.get_content_charset() or part.get_param("charset")))


def _attachment_name(part: Message, index: int) -> str:
    name = part.get_filename() or part.get_param("name")
    if isinstance(name, tuple):  # RFC 2231 (charset, language, value) that compat32 left undecoded
        name = email.utils.collapse_rfc2231_value(name)
    name = decode_header_text(name) if name else ""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name:
        content_id = (part.get("Content-ID") or "").strip("<> ")
        stem = content_id.split("@", 1)[0] if content_id else f"bijlage-{index}"
        extension = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "application/pdf": ".pdf", "message/rfc822": ".eml"}.get(
            part.get_content_type(), ".bin"
        )
        name = stem + extension
    return name[:255]


def _part_bytes(part: Message) -> bytes:
    if part.get_content_maintype() == "message":
        payload = part.get_payload()
        if isinstance(payload, list) and payload:
            try:
                return payload[0].as_bytes(policy=email.policy.compat32)
            except (UnicodeError, LookupError, ValueError):
                return bytes(str(payload[0]), "utf-8", "surrogateescape")
    data = part.get_payload(decode=True)
    if data is None:
        data = b""
    return data


def _walk_body(message: Message) -> tuple[list[str], list[str], list[ParsedAttachment]]:
    """Plain parts, HTML parts and attachments of a message; a forwarded message/rfc822 is one attachment."""
    plain: list[str] = []
    html: list[str] = []
    attachments: list[ParsedAttachment] = []

    def visit(part: Message) -> None:
        content_type = part.get_content_type()
        disposition = _disposition(part)
        if part.is_multipart() and part.get_content_maintype() == "multipart":
            for child in part.get_payload():
                if isinstance(child, Message):
                    visit(child)
            return
        is_body_text = content_type in ("text/plain", "text/html") and disposition != "attachment" and not part.get_filename()
        if is_body_text:
            (plain if content_type == "text/plain" else html).append(_part_text(part))
            return
        if content_type in DELIVERY_REPORT_TYPES:
            plain.append(_part_text(part) if content_type == "text/rfc822-headers" else "")
            return
        content = _part_bytes(part)
        inline = disposition == "inline" or (disposition == "" and bool(part.get("Content-ID")))
        attachments.append(
            ParsedAttachment(
                filename=_attachment_name(part, len(attachments) + 1),
                content_type=content_type[:100],
                content=content,
                inline=inline,
                content_id=(part.get("Content-ID") or "").strip()[:200],
            )
        )

    visit(message)
    return plain, html, attachments


def _received_at(message: Message) -> datetime.datetime | None:
    # The topmost Received header was written by the last server: ours, when the mail arrived.
    for value in header_values(message, "Received"):
        if ";" in value:
            parsed = parse_date(value.rsplit(";", 1)[1].strip())
            if parsed is not None:
                return parsed
    return None


def _delivery_status_fields(part: Message) -> list[dict[str, str]]:
    """The per-message and per-recipient field groups of a message/delivery-status part."""
    payload = part.get_payload()
    groups: list[dict[str, str]] = []
    if isinstance(payload, list):  # the email package parses the blocks as header-only messages
        for block in payload:
            if isinstance(block, Message):
                groups.append({key.lower(): decode_header_text(value) for key, value in block.raw_items()})
        return groups
    text = payload if isinstance(payload, str) else ""
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        fields = {}
        for line in block.split("\n"):
            key, sep, value = line.partition(":")
            if sep and key.strip():
                fields[key.strip().lower()] = value.strip()
        if fields:
            groups.append(fields)
    return groups


def _returned_message_id(part: Message) -> str:
    """The Message-ID of the message a report returns (a whole message, or just its headers)."""
    content_type = part.get_content_type()
    if content_type in ("message/rfc822", "message/global"):
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            return normalize_message_id(header_value(inner[0], "Message-ID"))
    elif content_type in ("text/rfc822-headers", "message/rfc822-headers"):
        headers = email.message_from_string(_part_text(part) + "\n\n", policy=email.policy.compat32)
        return normalize_message_id(header_value(headers, "Message-ID"))
    return ""


def _delivery_report(message: Message) -> tuple[list[dict[str, str]], list[str]]:
    """The delivery-status field groups and the returned Message-IDs found in the parts of a message."""
    groups: list[dict[str, str]] = []
    returned: list[str] = []
    for part in message.walk():
        if part is message:
            continue
        if part.get_content_type() == "message/delivery-status":
            groups += _delivery_status_fields(part)
        else:
            message_id = _returned_message_id(part)
            if message_id:
                returned.append(message_id)
    return groups, returned


def _header_map(message: Message) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in message.raw_items():
        headers.setdefault(key.lower(), decode_header_text(value))
    return headers


def _report_type(message: Message) -> str:
    if message.get_content_type() != "multipart/report":
        return ""
    return (message.get_param("report-type") or "unknown").lower()


def has_headers(message: Message) -> bool:
    return any(message.get(name) for name in ("From", "To", "Subject", "Date", "Message-ID", "Sender", "Reply-To"))


def _envelope(message: Message) -> ParsedEmail:
    """The header facts of a message (no body)."""
    from_name, from_address = parse_address(header_value(message, "From") or header_value(message, "Sender"))
    _, reply_to = parse_address(header_value(message, "Reply-To"))
    _, to_address = parse_address(header_value(message, "To"))
    in_reply_to = message_id_tokens(header_value(message, "In-Reply-To"))
    return ParsedEmail(
        message_id=normalize_message_id(header_value(message, "Message-ID")),
        in_reply_to=in_reply_to[0] if in_reply_to else "",
        references=message_id_tokens(" ".join(header_values(message, "References"))),
        from_name=from_name,
        from_address=from_address,
        reply_to_address=reply_to,
        to_address=to_address,
        subject=header_value(message, "Subject")[:500],
        date=parse_date(header_value(message, "Date")),
        received_at=_received_at(message),
        headers=_header_map(message),
        content_type=message.get_content_type(),
        report_type=_report_type(message),
    )


def parse_headers_only(raw: bytes) -> ParsedEmail:
    """Just the header block (for messages too large to parse whole)."""
    head = raw[:65536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    return _envelope(email.message_from_bytes(head + b"\n\n", policy=email.policy.compat32))


def _header_block_size(raw: bytes) -> int:
    ends = [position for position in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if position >= 0]
    return min(ends) if ends else len(raw)


def _check_shape(message: Message) -> None:
    """Refuse a tree too deep or too wide to read safely (counted without recursion)."""
    max_depth, max_parts = settings.HANDVEST_MAIL_MAX_DEPTH, settings.HANDVEST_MAIL_MAX_PARTS
    stack, parts = [(message, 0)], 0
    while stack:
        part, depth = stack.pop()
        parts += 1
        if depth > max_depth:
            raise UnsafeEmail(str(TOO_DEEP % {"limit": max_depth}))
        if parts > max_parts:
            raise UnsafeEmail(str(TOO_MANY_PARTS % {"limit": max_parts}))
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend((child, depth + 1) for child in payload if isinstance(child, Message))


def _message_tree(raw: bytes) -> Message:
    limit = settings.HANDVEST_MAIL_MAX_HEADER_KB
    if _header_block_size(raw) > limit * 1024:
        raise UnsafeEmail(str(HEADERS_TOO_LARGE % {"limit": limit}))
    try:
        # compat32 never raises on broken headers; we decode header values ourselves.
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except (RecursionError, MemoryError, ValueError, TypeError, LookupError, IndexError) as exc:
        raise UnsafeEmail(str(PARSER_GAVE_UP % {"error": type(exc).__name__})) from exc
    if not has_headers(message):
        raise UnparseableEmail(str(NOT_AN_EMAIL))
    _check_shape(message)
    return message


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse raw bytes into a ``ParsedEmail``; raise ``UnparseableEmail`` when they are no e-mail,
    ``UnsafeEmail`` when its shape is beyond the limits (``HANDVEST_MAIL_MAX_*``)."""
    if not raw or not raw.strip():
        raise UnparseableEmail(str(EMPTY_MESSAGE))
    message = _message_tree(raw.lstrip(b"\r\n\t "))
    parsed = _envelope(message)
    plain, html, parsed.attachments = _walk_body(message)
    plain_text = "\n\n".join(part.strip() for part in plain if part.strip())
    html_text = "\n\n".join(html_to_text(part) for part in html if part.strip())
    parsed.text = plain_text or html_text
    parsed.html_only = not plain_text and bool(html_text)
    parsed.delivery_status, parsed.returned_message_ids = _delivery_report(message)
    return parsed
