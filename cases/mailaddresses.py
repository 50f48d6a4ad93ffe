"""Addresses of machines rather than people: never sent an automatic message, and a weak sign that
an incoming message is automatic (the loop rules of cases.intake.email)."""

import re

# noreply@, no-reply+x@, do-not-reply@, postmaster@, mailer-daemon@, mail-daemon@, bounces-…@
AUTOMATIC_LOCAL_PART = re.compile(r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|postmaster|mailer[-_.]?daemon|mail-?daemon|bounces?)([-+._].*)?$", re.I)


def local_part(address: str) -> str:
    address = (address or "").strip()
    return address.rpartition("@")[0] if "@" in address else address


def is_automatic_address(address: str) -> bool:
    """True for an address that belongs to a mail system, not to a person."""
    return bool(AUTOMATIC_LOCAL_PART.match(local_part(address)))
