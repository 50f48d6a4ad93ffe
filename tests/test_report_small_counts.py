"""The annual report gives no small count away by subtraction (found by the privacy review of stop 31)."""

import csv
import io
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "eml"
OUR_LETTER_ID = "<letter.acknowledgement.42.7f3a9c@handvest.harlingen.nl>"
CITIZEN_EMAIL = "a.dijkstra@ziggo.nl"
CITIZEN_NAME = "Anneke Dijkstra"


def _logged(caplog) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


# --- figures that give a suppressed count away ------------------------------------------------------


def test_the_annual_report_does_not_give_away_a_suppressed_count(harlingen, client):
    """A small count ('<3') in the report cannot be worked out as the whole minus the other parts: where every other
    channel is shown exactly, the whole or another part is hidden too. The editor downloads this CSV."""
    from cases.reporting.rollup import rollup_refresh
    from cms.roles import EDITORS
    from tests.factories import UserFactory

    today = timezone.localdate()
    for _ in range(4):
        CaseFactory(received_on=today)
    CaseFactory(received_on=today, channel="letter", email="")
    rollup_refresh()
    client.force_login(UserFactory(username="redacteur", role=EDITORS))
    response = client.get(reverse("handvest_revision:report", args=[today.year, "csv"]))
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    value = {(row["section"], row["row"], row["column"]): row["value"] for row in rows}
    received = value[("summary", "received", "complaint")]
    per_channel = [row["value"] for row in rows if row["section"] == "per_channel" and row["column"] == "complaint"]
    suppressed = [cell for cell in per_channel if not cell.isdigit()]
    derivable = received.isdigit() and len(suppressed) == 1 and suppressed[0].startswith("<")
    worked_out = int(received) - sum(int(cell) for cell in per_channel if cell.isdigit()) if derivable else None
    assert not derivable, f"letter complaints shown as {suppressed[0]}, but received {received} minus the rest gives {worked_out}"


