"""No log line carries a citizen's private link.

A private link (``/zaak/<token>/``) opens a complaint, its letters and its conversation to whoever holds
it, and logs are read by more people than the case (operations, log shipping). Django's request logger
writes the path of every 4xx/5xx response, gunicorn's access log the path and the referrer of every
request. Every log record is made by one factory (``logging.setLogRecordFactory``), so the token is
replaced there, whichever logger or handler the record goes to.
"""

from __future__ import annotations

import logging
import re

PRIVATE_LINK = re.compile(r"(/zaak/)[^/\s?#\"'<>]+")
HIDDEN = r"\1[verborgen]"


def hide_private_links(text: str) -> str:
    return PRIVATE_LINK.sub(HIDDEN, text)


def install() -> None:
    """Make every log record of this process with its private links hidden (once per process)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "hides_private_links", False):
        return

    def record(*args, **kwargs) -> logging.LogRecord:
        made = factory(*args, **kwargs)
        try:
            message = made.getMessage()
        except Exception:  # a malformed call: the handler reports it when it formats the record, as always
            return made
        if "/zaak/" in message:
            made.msg, made.args = hide_private_links(message), ()
        return made

    record.hides_private_links = True
    logging.setLogRecordFactory(record)
