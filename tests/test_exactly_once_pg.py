"""Double clicks and twin deliveries at the same moment, on PostgreSQL: the database keeps it to one.

Twenty identical web-form posts at once, and twenty deliveries of one e-mail without a
Message-ID at once, make one case and one acknowledgement; the web form's rate limit holds when
twenty different posts arrive at once. Needs PostgreSQL (CI sets DATABASE_URL).
"""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client

from cases.intake.email import email_intake
from cases.models import Case, InboundMessage, InboundOutcome, OutgoingMessage, Registration
from cms.models import MunicipalitySettings
from config.env import cache_settings
from tests.conftest import requires_postgres
from tests.support import parallel

pytestmark = [pytest.mark.postgres, requires_postgres(), pytest.mark.django_db(transaction=True, serialized_rollback=True)]

AT_ONCE = 20
FORM_URL = "/melding/"
NO_MESSAGE_ID = (
    b"From: Sietse de Boer <s.deboer@outlook.com>\r\nTo: info@harlingen.nl\r\nSubject: Klacht: stoep al weken open\r\n"
    b"Date: Tue, 3 Nov 2026 20:02:03 +0100\r\n\r\nDe stoep voor mijn huis ligt al drie weken open en niemand reageert op mijn klacht.\r\n"
)


@pytest.fixture(autouse=True)
def municipality_prefix():
    municipality = MunicipalitySettings.load()
    municipality.name, municipality.registration_prefix, municipality.phone = "Gemeente Harlingen", "HLG", "14 0517"
    municipality.save()
    cache.clear()
    yield
    cache.clear()


def at_once(function, count: int = AT_ONCE) -> list:
    return parallel.at_once(function, count)


def form_data(description: str = "De straatverlichting in de Voorstraat doet het al twee weken niet.") -> dict:
    return {
        "kind": "complaint",
        "description": description,
        "name": "Anneke Dijkstra",
        "email": "a.dijkstra@ziggo.nl",
        "address": "",
        "phone": "",
        "hint": "",
    }


def test_twenty_identical_web_form_posts_at_once_make_one_case_and_one_acknowledgement():
    statuses = at_once(lambda _: Client().post(FORM_URL, form_data()).status_code)
    assert statuses == [302] * AT_ONCE  # every click lands on the one confirmation page
    assert Registration.objects.count() == 1 and Case.objects.count() == 1
    assert OutgoingMessage.objects.filter(kind="acknowledgement").count() == 1


def test_twenty_deliveries_of_one_e_mail_without_a_message_id_at_once_make_one_case():
    results = at_once(lambda _: email_intake(raw=NO_MESSAGE_ID, source="webhook:mailgun").outcome)
    assert sorted(results) == sorted([InboundOutcome.CASE] + [InboundOutcome.DUPLICATE] * (AT_ONCE - 1))
    assert Registration.objects.count() == 1 and InboundMessage.objects.count() == 1
    assert OutgoingMessage.objects.filter(kind="acknowledgement").count() == 1


def test_twenty_copies_with_other_bytes_and_the_same_content_at_once_make_one_case():
    def deliver(number):
        hop = f"Received: from mx{number}.example.net; Tue, 3 Nov 2026 20:02:{number:02d} +0100\r\n".encode()
        return email_intake(raw=hop + NO_MESSAGE_ID, source="webhook:mailgun").outcome

    results = at_once(deliver)
    assert results.count(InboundOutcome.CASE) == 1 and results.count(InboundOutcome.DUPLICATE) == AT_ONCE - 1
    assert Registration.objects.count() == 1 and InboundMessage.objects.count() == 1
    assert OutgoingMessage.objects.filter(kind="acknowledgement").count() == 1


def test_the_rate_limit_holds_when_twenty_different_posts_arrive_at_once(settings):
    settings.HANDVEST_FORM_RATE_LIMIT = 5
    # Different people on one town-hall PC: one address, twenty e-mail addresses.
    statuses = at_once(
        lambda n: Client().post(FORM_URL, form_data(f"Melding nummer {n} over de haven.") | {"email": f"inwoner{n}@example.nl"}).status_code
    )
    assert statuses.count(302) == 5 and statuses.count(429) == AT_ONCE - 5
    assert Registration.objects.count() == 5


@pytest.mark.redis
@pytest.mark.skipif(not django_settings.CELERY_BROKER_URL, reason="needs Redis: set CELERY_BROKER_URL=redis://127.0.0.1:6379/15 (CI does)")
def test_the_rate_limit_holds_at_once_in_the_shared_redis_cache(settings):
    settings.CACHES = cache_settings(django_settings.CELERY_BROKER_URL.rsplit("/", 1)[0] + "/13")
    cache.clear()
    settings.HANDVEST_FORM_RATE_LIMIT = 100
    settings.HANDVEST_FORM_RATE_LIMIT_EMAIL = 3
    statuses = at_once(lambda n: Client().post(FORM_URL, form_data(f"Melding {n} van dezelfde inwoner.")).status_code)
    assert statuses.count(302) == 3 and Registration.objects.count() == 3


# --- a webhook with a worker: stored in one statement (cases.one_statement), or refused whole ----------------
@pytest.fixture
def stored_by_the_web_process(settings, monkeypatch):
    """gunicorn with a broker: the webhook only stores; the tasks it queues are counted, not run."""
    from cases import dispatch
    from cases.intake import webhooks
    from tests.test_intake_hostile import BASIC_AUTH, SIGNING_KEY

    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY, "WEBHOOK_SECRET": BASIC_AUTH}
    monkeypatch.setattr(webhooks, "models_stay_out", lambda: True)
    queued = []
    monkeypatch.setattr(dispatch, "enqueue", lambda name, *args, **kwargs: queued.append(args))
    return queued


def stored_files() -> list:
    return sorted(Path(django_settings.PRIVATE_MEDIA_ROOT).rglob("*.eml"))


@pytest.mark.parametrize("tokens", ["one token (the provider's retry)", "a token each (retries with new signatures)"])
def test_twenty_webhook_posts_of_one_message_at_once_store_it_once_with_one_audit_entry(stored_by_the_web_process, tokens):
    from auditlog.models import LogEntry

    from cases.models import WebhookToken
    from tests.test_intake_hostile import MAILGUN_URL, auth, mailgun

    one_token = tokens.startswith("one")
    statuses = at_once(lambda n: Client().post(MAILGUN_URL, data=mailgun(NO_MESSAGE_ID, token="t" * 50 if one_token else f"{n:050d}"), **auth()).status_code)
    assert statuses == [200] * AT_ONCE  # a retry is answered 200, or the provider retries for hours
    stored = InboundMessage.objects.get()
    assert LogEntry.objects.get_for_object(stored).count() == 1
    assert WebhookToken.objects.count() == (1 if one_token else AT_ONCE)  # each new token used up
    assert {args for args in stored_by_the_web_process} == {(stored.pk,)}
    assert stored_files() == [Path(stored.raw.path)]  # no second copy of the mail on disk


def test_twenty_different_messages_on_one_token_at_once_store_one_and_refuse_the_rest(stored_by_the_web_process):
    from auditlog.models import LogEntry

    from cases.models import WebhookToken
    from tests.test_intake_hostile import MAILGUN_URL, auth, mailgun

    def post(number):
        raw = NO_MESSAGE_ID.replace(b"drie weken", f"{number + 2} weken".encode())
        return Client().post(MAILGUN_URL, data=mailgun(raw, token="r" * 50), **auth()).status_code

    statuses = at_once(post)
    assert statuses.count(200) == 1 and statuses.count(400) == AT_ONCE - 1  # one post, nineteen replays
    stored = InboundMessage.objects.get()
    assert WebhookToken.objects.count() == 1 and LogEntry.objects.filter(object_repr__startswith="e-mail ").count() == 1
    assert stored_files() == [Path(stored.raw.path)]  # the refused posts' files are gone
