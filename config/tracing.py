"""A trace id per request, for the audit trail and the read log (Logboek Dataverwerkingen).

The Logboek Dataverwerkingen standard links log lines of one processing across systems by an
OpenTelemetry trace id. When the municipality's proxy sends a W3C ``traceparent`` header we keep
its trace id; otherwise we start one. django-auditlog stores it as the entry's correlation id
(``AUDITLOG_CID_GETTER``), and the response carries it back in ``traceparent`` so a complaint about
a request can be found in the log.

Written here rather than with the OpenTelemetry SDK: we need the id and the header only, not
exporters or spans.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

_TRACE_ID: ContextVar[str | None] = ContextVar("handvest_trace_id", default=None)
TRACEPARENT = re.compile(r"^[0-9a-f]{2}-(?P<trace>[0-9a-f]{32})-(?P<span>[0-9a-f]{16})-[0-9a-f]{2}$")


def trace_id_from(header: str) -> str | None:
    """The trace id of a valid ``traceparent`` header (not all zeros), else None."""
    match = TRACEPARENT.match(header.strip().lower()) if header else None
    if not match or set(match["trace"]) == {"0"}:
        return None
    return match["trace"]


def current_trace_id() -> str | None:
    """The trace id of the request being served (None outside a request: a Celery task, a command)."""
    return _TRACE_ID.get()


class TraceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        trace = trace_id_from(request.headers.get("traceparent", "")) or secrets.token_hex(16)
        token = _TRACE_ID.set(trace)
        request.trace_id = trace
        try:
            response = self.get_response(request)
        finally:
            _TRACE_ID.reset(token)
        response["traceparent"] = f"00-{trace}-{secrets.token_hex(8)}-01"
        return response
