"""Every read of personal data by staff, logged (who, which case, which view, when).

The entries are django-auditlog's ``LogEntry`` rows with action ``access`` (so one table holds the
whole trail), and carry the fields of the *Logboek Dataverwerkingen* standard so that a
municipality's log can take them over later:

* ``cid`` — the trace id of the request (``config.tracing``; a W3C ``traceparent`` from the proxy is kept);
* ``additional_data.activity`` / ``activity_id`` — the processing activity of the verwerkingsregister
  (``docs/verwerkingsregister.md``);
* ``additional_data.data_subject`` — a pseudonym of the person the data is about (an HMAC of their
  e-mail address, or of the registration when there is none): reads concerning one person can be
  found together without the log holding their address;
* ``additional_data.view`` — the page that showed the data.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from auditlog.models import LogEntry
from django.conf import settings

from cases.models import Registration

logger = logging.getLogger("handvest.audit")

# The processing activities of docs/verwerkingsregister.md, by the id used there.
ACTIVITIES = {
    "klachtbehandeling": "Behandelen van klachten en verbetersuggesties (Awb hoofdstuk 9)",
    "postregistratie": "Registreren van binnengekomen post en e-mail",
    "inzageverzoek": "Behandelen van een verzoek om inzage, correctie of wissing (AVG art. 15-17)",
}


# What a read of wiped data keeps of the person: nothing that ties it to them.
UNLINKED = "gewist"


def data_subject(email: str, reference: str) -> str:
    """A stable pseudonym of the person: of their e-mail address, or else of the item (a registration number)."""
    identity = (email or "").strip().lower() or f"item:{reference}"
    digest = hmac.new(settings.SECRET_KEY.encode(), identity.encode(), hashlib.sha256).hexdigest()
    return f"hv-{digest[:32]}"


def record_read(request, obj, registration: Registration | None = None, *, email: str = "", activity: str = "klachtbehandeling") -> LogEntry:
    """Log that ``request.user`` saw ``obj`` (a case, a message, a letter, a file) about the sender of
    ``registration`` (or, for mail not registered, the sender ``email``)."""
    if registration is not None:
        subject = data_subject(registration.sender_email, registration.number)
    else:
        subject = data_subject(email, str(obj))
    match = getattr(request, "resolver_match", None)
    entry = LogEntry.objects.log_create(
        obj,
        force_log=True,
        action=LogEntry.Action.ACCESS,
        actor=request.user,
        remote_addr=request.META.get("REMOTE_ADDR") or None,
        additional_data={
            "activity_id": activity,
            "activity": ACTIVITIES[activity],
            "data_subject": subject,
            "view": match.view_name if match else request.path,
            "path": request.path,
            "trace_id": getattr(request, "trace_id", None),
        },
    )
    logger.info("read: user %s (id %s) saw %s via %s", request.user.get_username(), request.user.pk, entry.object_repr, entry.additional_data["view"])
    return entry


def read_log_unlink(entries) -> int:
    """Destruction or erasure: the reads among ``entries`` (LogEntry rows) no longer carry the person's pseudonym.

    With the server's key and an e-mail address it tied the kept registration number, and so the case's
    dates and outcome, back to the person. Who read what, and when, stays. Returns how many changed.
    """
    changed = 0
    reads = entries.filter(action=LogEntry.Action.ACCESS).exclude(additional_data__data_subject=UNLINKED)
    for pk, data in reads.values_list("pk", "additional_data"):
        if isinstance(data, dict) and "data_subject" in data:
            LogEntry.objects.filter(pk=pk).update(additional_data={**data, "data_subject": UNLINKED})
            changed += 1
    return changed
