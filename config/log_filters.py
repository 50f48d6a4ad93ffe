"""Filters of the logging configuration (``LOGGING`` in ``config.settings``)."""

from __future__ import annotations

import logging


class RefusedWebhook(logging.Filter):
    """A forged, unsigned or replayed webhook post is refused (400) and logged, by Django, as an ERROR with a
    traceback of some thirty lines. Scanners on the internet post such things all day: each becomes one WARNING
    line that says what was refused, so the real errors stand out."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info, record.exc_text = None, None
        return True
