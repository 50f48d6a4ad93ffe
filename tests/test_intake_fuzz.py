"""Fuzzed mail: mutations of the real fixture messages (bytes flipped, NULs, truncation, deep nesting,
huge or 8-bit headers, broken charsets and encodings) through the webhook and through ``import_eml``.

Over 2,000 messages in all: no exception escapes, the webhook never answers 5xx, and every
message is stored — as an item, in quarantine, or as a duplicate of one that is.
"""

import hashlib
import io
import itertools
import json
import logging
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.intake.email import _content_key
from cases.intake.parsing.mime import UnparseableEmail, parse_email
from cases.models import InboundMessage
from cases.workflow.registration import message_key
from tests.test_intake_hostile import auth, mailgun, nested

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailWarning")]

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "eml").glob("*.eml"))
SEEDS = [path.read_bytes() for path in FIXTURES]
BATCH = 10
EXAMPLES = 110  # 110 batches of 10, on each path: 2,200 messages
SIGNING_KEY = "key-3f1e2d9c8b7a6f5e4d3c2b1a09f8e7d6"
BASIC_AUTH = "harlingen-inbound:Zw4rt3-K4t-op-de-D1jk"
TOKENS = itertools.count()  # every post a fresh Mailgun token: a token used twice is refused as a replay
HOSTILE_BYTES = [b"\x00", b"\xff", b"\r", b"\n", b"\r\n\r\n", b"=?", b"?=", b"--", b"\x1b", b"\xc3", b"<", b">", b";"]


@st.composite
def mutated_message(draw) -> bytes:
    raw = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        mutation = draw(st.sampled_from(["flip", "insert", "truncate", "header", "nest", "charset", "drop_separator", "huge_header"]))
        if mutation == "flip" and raw:
            for _ in range(draw(st.integers(min_value=1, max_value=20))):
                raw[draw(st.integers(min_value=0, max_value=len(raw) - 1))] = draw(st.integers(min_value=0, max_value=255))
        elif mutation == "insert":
            position = draw(st.integers(min_value=0, max_value=len(raw)))
            raw[position:position] = draw(st.sampled_from(HOSTILE_BYTES)) * draw(st.integers(min_value=1, max_value=50))
        elif mutation == "truncate" and raw:
            raw = raw[: draw(st.integers(min_value=0, max_value=len(raw)))]
        elif mutation == "header":
            value = draw(st.binary(min_size=0, max_size=200))
            raw[0:0] = b"X-Fuzz: " + value.replace(b"\n", b" ") + b"\r\n"
        elif mutation == "nest":
            raw = bytearray(nested(draw(st.sampled_from([1, 5, 30, 600, 2500]))))
        elif mutation == "charset":
            raw = bytearray(
                bytes(raw).replace(b"charset=", b"charset=" + draw(st.sampled_from([b"x-bogus", b"utf-7", b"\xff\xfe", b"", b"utf-16"])) + b";old=")
            )
        elif mutation == "drop_separator":
            raw = bytearray(bytes(raw).replace(b"\r\n\r\n", b"\r\n", 1).replace(b"\n\n", b"\n", 1))
        elif mutation == "huge_header":
            raw[0:0] = b"X-Huge: " + b"a" * draw(st.sampled_from([1000, 70_000, 300_000])) + b"\r\n"
    return bytes(raw)


def is_stored(raw: bytes) -> bool:
    """Stored as its own item (also in quarantine), or a duplicate of an item that holds its identity."""
    if InboundMessage.objects.filter(raw_sha256=hashlib.sha256(raw).hexdigest()).exists():
        return True
    try:
        parsed = parse_email(raw)
    except UnparseableEmail:
        return False
    key = message_key(parsed.message_id)
    if key:
        return InboundMessage.objects.filter(message_key=key).exists()
    return InboundMessage.objects.filter(content_hash=_content_key(parsed)).exists()


@pytest.fixture
def secrets(settings, municipality):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY, "WEBHOOK_SECRET": BASIC_AUTH}
    settings.HANDVEST_TAG_ON_REGISTRATION = False
    logging.disable(logging.CRITICAL)  # thousands of expected warnings
    yield
    logging.disable(logging.NOTSET)


@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(batch=st.lists(mutated_message(), min_size=BATCH, max_size=BATCH))
def test_fuzzed_mail_through_the_webhook_is_stored_and_answered_without_5xx(client, secrets, batch):
    for raw in batch:
        # The form post carries the MIME as text; the view stores exactly these bytes.
        text = raw.decode("latin-1")
        token = f"fuzz-{next(TOKENS):045d}"
        response = client.post("/anymail/mailgun/inbound_mime/", data=mailgun(raw, token=token) | {"body-mime": text}, **auth())
        assert response.status_code == 200, response.status_code
        assert is_stored(text.encode("utf-8"))


@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(batch=st.lists(mutated_message(), min_size=BATCH, max_size=BATCH))
def test_fuzzed_mail_through_import_eml_is_reported_file_by_file_and_stored(secrets, tmp_path_factory, batch):
    folder = tmp_path_factory.mktemp("fuzz")
    for number, raw in enumerate(batch):
        (folder / f"{number:02d}.eml").write_bytes(raw)
    out = io.StringIO()
    call_command("import_eml", str(folder), "--json", "--no-progress", stdout=out, stderr=io.StringIO())
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [row["path"] for row in rows] == [str(folder / f"{number:02d}.eml") for number in range(BATCH)]
    for raw in batch:
        assert is_stored(raw)
