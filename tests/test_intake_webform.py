"""The citizen's web form: accessible Dutch form, PRG thank-you page, spam defences, exactly-once registration."""

import datetime
import io
import logging
import re
import time
import zipfile
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cases import errors
from cases.intake import rate_limit, thanks, uploads, webform
from cases.models import Attachment, Case, CaseEvent, CaseNorm, Registration, ReplyChannel, TagSource
from cases.signals import case_registered
from cases.workflow.registration import Sender
from cms.models import ServiceNorm, complaint_form_url

pytestmark = pytest.mark.django_db

FORM_URL = "/melding/"
THANKS_URL = "/melding/ontvangen/"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


ANOTHER = "Ook de parkeerautomaat bij de haven was kapot."  # another submission (the same words again are the first one)


def valid_data(**overrides):
    data = {
        "kind": "complaint",
        "description": "Ik heb drie kwartier aan de balie gewacht zonder afspraak.",
        "hint": "",
        "name": "Sietske de Vries",
        "email": "sietske@example.nl",
        "address": "",
        "phone": "",
        "website": "",
    }
    data.update(overrides)
    return data


def html_of(response) -> str:
    return response.content.decode()


def test_form_url_is_the_one_the_charter_pages_link_to():
    assert reverse("intake:complaint_form") == FORM_URL
    assert complaint_form_url() == FORM_URL


def test_form_is_dutch_and_accessible_without_javascript(client, municipality):
    response = client.get(FORM_URL)
    html = html_of(response)
    assert response.status_code == 200
    assert '<html lang="nl">' in html
    assert "<script" not in html
    assert 'enctype="multipart/form-data"' in html
    assert "<fieldset" in html and "<legend>Wat wilt u doorgeven?" in html
    for field in ("description", "hint", "name", "email", "address", "phone", "attachments"):
        assert f'<label for="id_{field}">' in html, field
    assert 'for="id_kind_0">Een klacht</label>' in html and 'for="id_kind_1">Een verbetersuggestie</label>' in html
    assert 'aria-describedby="id_description_hint"' in html and 'id="id_description_hint"' in html
    assert re.search(r'<input type="file" name="attachments"[^>]*multiple', html)
    assert "css/form.css" in html


def test_honeypot_is_hidden_from_people_and_screen_readers(client, municipality):
    html = html_of(client.get(FORM_URL))
    honeypot = re.search(r'<div class="hp" aria-hidden="true">.*?</div>', html, flags=re.S).group(0)
    assert 'name="website"' in honeypot and 'tabindex="-1"' in honeypot and 'autocomplete="off"' in honeypot


def test_valid_complaint_is_registered_once_and_redirected_to_the_thank_you_page(client, municipality):
    response = client.post(FORM_URL, valid_data())
    assert response.status_code == 302 and response["Location"] == THANKS_URL
    registration = Registration.objects.get()
    assert registration.channel == "web" and registration.kind == "complaint"
    assert registration.sender_name == "Sietske de Vries" and registration.sender_email == "sietske@example.nl"
    assert registration.text.startswith("Ik heb drie kwartier")
    assert registration.reply_channel == ReplyChannel.EMAIL
    assert Case.objects.get().state == "received"


def test_thank_you_page_shows_number_date_of_receipt_and_private_link(client, municipality, settings):
    settings.BASE_URL = "https://klachten.harlingen.nl"
    client.post(FORM_URL, valid_data())
    case = Case.objects.select_related("registration").get()
    response = client.get(THANKS_URL)
    html = html_of(response)
    assert response.status_code == 200
    assert case.registration.number in html
    assert "Datum van ontvangst" in html
    private_path = reverse("cases:case_status", kwargs={"token": case.public_token})
    assert f"https://klachten.harlingen.nl{private_path}" in html
    assert response["Referrer-Policy"] == "no-referrer"
    assert "ontvangstbevestiging per e-mail op sietske@example.nl" in html
    # The private link really opens the citizen's page.
    assert client.get(private_path).status_code == 200


def test_reloading_the_thank_you_page_registers_nothing_new(client, municipality):
    client.post(FORM_URL, valid_data())
    first = html_of(client.get(THANKS_URL))
    second = html_of(client.get(THANKS_URL))
    assert Registration.objects.count() == 1
    assert Registration.objects.get().number in first and Registration.objects.get().number in second


def test_thank_you_page_without_a_submission_sends_you_to_the_form(client, municipality):
    response = client.get(THANKS_URL)
    assert response.status_code == 302 and response["Location"] == FORM_URL


def test_thank_you_page_trusts_only_its_own_signed_cookie_for_two_hours(client, municipality, caplog):
    """The page finds the submission in a signed cookie that ends with the browser: a forged or changed
    one, or one older than two hours, shows the form again instead of somebody's private link; sending
    writes no session row."""
    from django.contrib.sessions.models import Session

    from cases.models import WebSubmission

    client.post(FORM_URL, valid_data())
    assert Session.objects.count() == 0
    first = WebSubmission.objects.get()
    client.post(FORM_URL, valid_data(description="Een tweede klacht over de balie."))
    second = WebSubmission.objects.exclude(pk=first.pk).get()
    signed = client.cookies["handvest_thanks"].value
    assert signed.split(":")[0] == str(second.pk)  # an id, signed: no personal data in the browser

    client.cookies["handvest_thanks"] = signed.replace(str(second.pk), str(first.pk), 1)  # someone else's number
    assert client.get(THANKS_URL)["Location"] == FORM_URL
    client.cookies["handvest_thanks"] = str(first.pk)  # unsigned
    assert client.get(THANKS_URL)["Location"] == FORM_URL
    client.cookies["handvest_thanks"] = signed
    assert client.cookies["handvest_thanks"]["max-age"] == "" and client.cookies["handvest_thanks"]["httponly"]
    later = time.time() + thanks.THANKS_MAX_AGE.total_seconds() + 60
    with mock.patch("django.core.signing.time.time", return_value=later):
        assert client.get(THANKS_URL)["Location"] == FORM_URL
    assert second.number in html_of(client.get(THANKS_URL))


def test_suggestion_is_registered_as_a_suggestion(client, municipality):
    client.post(FORM_URL, valid_data(kind="suggestion", description="Zet de openingstijden op de voordeur."))
    assert Case.objects.get().kind == "suggestion"
    assert "Wij bekijken uw suggestie" in html_of(client.get(THANKS_URL))


def test_postal_address_alone_is_enough_and_the_answer_goes_by_post(client, municipality):
    response = client.post(FORM_URL, valid_data(email="", address="Voorstraat 1\n8861 BL Harlingen"))
    assert response.status_code == 302
    registration = Registration.objects.get()
    assert registration.reply_channel == ReplyChannel.POST
    assert registration.sender_address.startswith("Voorstraat 1")
    assert "ontvangstbevestiging per post" in html_of(client.get(THANKS_URL))


def test_without_email_or_address_the_no_contact_error_shows_and_the_text_is_kept(client, municipality, caplog):
    caplog.set_level(logging.INFO, logger="cases.intake.webform")
    response = client.post(FORM_URL, valid_data(email="", address="", phone="0517 123456"))
    html = html_of(response)
    assert response.status_code == 200
    assert str(errors.NO_CONTACT) in html
    assert 'id="id_email_error"' in html and 'href="#id_email"' in html
    assert "Ik heb drie kwartier aan de balie gewacht zonder afspraak." in html
    assert 'value="Sietske de Vries"' in html and 'value="0517 123456"' in html
    assert 'value="complaint"' in html and "checked" in html
    assert Registration.objects.count() == 0
    assert "returned with errors" in caplog.text


def test_empty_form_shows_every_error_next_to_its_field_and_in_the_summary(client, municipality):
    html = html_of(client.post(FORM_URL, {"website": ""}))
    summary = re.search(r'<div class="error-summary" role="alert".*?</div>', html, flags=re.S).group(0)
    for anchor, message in (
        ("id_kind_0", webform.KIND_REQUIRED),
        ("id_description", errors.EMPTY_TEXT),
        ("id_name", webform.NAME_REQUIRED),
        ("id_email", errors.NO_CONTACT),
    ):
        assert f'<a href="#{anchor}">{escape(message)}</a>' in summary
    assert 'id="id_kind_error"' in html and 'aria-describedby="id_kind_hint id_kind_error"' in html
    assert 'aria-describedby="id_description_hint id_description_error"' in html
    assert 'aria-invalid="true"' in html
    assert "<title>Fout: " in html
    assert Registration.objects.count() == 0


def test_a_description_of_only_spaces_is_refused(client, municipality):
    html = html_of(client.post(FORM_URL, valid_data(description="   \n  ")))
    assert str(errors.EMPTY_TEXT) in html
    assert Registration.objects.count() == 0


def test_invalid_email_and_phone_get_clear_dutch_errors(client, municipality):
    html = html_of(client.post(FORM_URL, valid_data(email="sietske-at-example", phone="bel me")))
    assert str(webform.EMAIL_INVALID) in html and str(webform.PHONE_INVALID) in html
    assert 'value="sietske-at-example"' in html
    assert Registration.objects.count() == 0


def test_double_submit_of_the_same_form_makes_one_case_and_shows_the_same_number(client, municipality, django_capture_on_commit_callbacks):
    data = valid_data()
    sent = []
    case_registered.connect(lambda sender, case_id, **kw: sent.append(case_id), dispatch_uid="test-double-submit", weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(FORM_URL, data)
            number = Registration.objects.get().number
            second = client.post(FORM_URL, data)
    finally:
        case_registered.disconnect(dispatch_uid="test-double-submit")
    assert second.status_code == 302
    assert Registration.objects.count() == 1 and Case.objects.count() == 1
    assert number in html_of(client.get(THANKS_URL))
    assert len(sent) == 1  # one acknowledgement, not two


def test_with_a_worker_the_request_renders_no_letter_and_the_worker_acknowledges_once(client, municipality, monkeypatch, django_capture_on_commit_callbacks):
    from cases import dispatch
    from cases.models import OutgoingMessage, WebSubmission
    from cases.tasks import acknowledge, register_web

    queued = []
    monkeypatch.setattr(dispatch, "runs_eagerly", lambda: False)
    monkeypatch.setattr(dispatch, "enqueue", lambda name, *args, **kwargs: queued.append((name, args)))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(FORM_URL, valid_data()).status_code == 302
    submission = WebSubmission.objects.get()
    assert queued == [(dispatch.REGISTER_WEB, (submission.pk,))]  # the web process stored it, and registered nothing
    assert not Case.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert register_web.apply(args=(submission.pk,)).get() == submission.number
        assert register_web.apply(args=(submission.pk,)).get() == "registered before"  # delivered twice
    case = Case.objects.get()
    assert queued.count((dispatch.ACKNOWLEDGE, (case.pk,))) == 1
    assert not OutgoingMessage.objects.exists()  # no process rendered a letter yet
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert acknowledge.apply(args=(case.pk,)).get() == "queued"
        assert acknowledge.apply(args=(case.pk,)).get() == "queued"  # delivered twice: still one letter
    letter = OutgoingMessage.objects.get(case=case)
    assert letter.kind == "acknowledgement" and case.registration.number in letter.subject


def test_the_same_words_from_the_same_sender_on_one_day_are_one_case(client, municipality):
    """Back and send again (the browser puts the text back in a new form) gives the first registration."""
    client.post(FORM_URL, valid_data())
    again = client.post(FORM_URL, valid_data())
    assert again.status_code == 302 and Registration.objects.count() == 1


def test_other_words_or_another_day_are_another_case(client, municipality):
    client.post(FORM_URL, valid_data())
    client.post(FORM_URL, valid_data(description="Ook de parkeerautomaat bij de haven was kapot."))
    assert Registration.objects.count() == 2
    today = timezone.localdate()
    sender = Sender(name="Jan", email="", phone="", address="Zuiderhaven 1")
    first = webform.submission_hash(kind="complaint", description="x", sender=sender, day=today)
    assert first != webform.submission_hash(kind="complaint", description="x", sender=sender, day=today + datetime.timedelta(days=1))
    neighbour = Sender(name="Piet", email="", phone="", address="Zuiderhaven 1")  # the same address: a care home, a family
    assert first != webform.submission_hash(kind="complaint", description="x", sender=neighbour, day=today)


def test_filled_honeypot_gets_a_neutral_page_and_registers_nothing(client, municipality, caplog):
    caplog.set_level(logging.WARNING, logger="cases.intake.webform")
    response = client.post(FORM_URL, valid_data(website="http://spam.example"))
    html = html_of(response)
    assert response.status_code == 200
    assert "Bedankt voor uw bericht" in html
    assert "HLG-" not in html and "/zaak/" not in html
    assert Registration.objects.count() == 0
    assert "honeypot filled" in caplog.text


def test_over_the_rate_limit_gives_429_with_a_dutch_message_and_keeps_the_text(client, gemeente, settings, caplog):
    settings.HANDVEST_FORM_RATE_LIMIT = 2
    for i in range(2):
        assert client.post(FORM_URL, valid_data(description=f"melding {i}")).status_code == 302
    caplog.set_level(logging.WARNING, logger="cases.intake.webform")
    response = client.post(FORM_URL, valid_data(description="de derde melding"))
    html = html_of(response)
    assert response.status_code == 429
    assert response["Retry-After"] == str(settings.HANDVEST_FORM_RATE_WINDOW)
    assert str(webform.RATE_LIMITED % {"phone": "14 0517"}) in html
    assert "de derde melding" in html
    assert Registration.objects.count() == 2
    assert "rate limit reached" in caplog.text


def test_the_rate_limit_counts_per_ip_address(client, municipality, settings):
    settings.HANDVEST_FORM_RATE_LIMIT = 1
    assert client.post(FORM_URL, valid_data(), REMOTE_ADDR="192.0.2.1").status_code == 302
    assert client.post(FORM_URL, valid_data(description=ANOTHER), REMOTE_ADDR="192.0.2.1").status_code == 429
    assert client.post(FORM_URL, valid_data(description=ANOTHER), REMOTE_ADDR="192.0.2.2").status_code == 302


def test_the_rate_limit_reads_the_configured_proxy_header(client, municipality, settings):
    settings.HANDVEST_FORM_RATE_LIMIT = 1
    settings.HANDVEST_CLIENT_IP_HEADER = "X-Forwarded-For"
    assert client.post(FORM_URL, valid_data(), HTTP_X_FORWARDED_FOR="198.51.100.7, 10.0.0.1").status_code == 302
    assert client.post(FORM_URL, valid_data(description=ANOTHER), HTTP_X_FORWARDED_FOR="198.51.100.8, 10.0.0.1").status_code == 429
    assert client.post(FORM_URL, valid_data(description=ANOTHER), HTTP_X_FORWARDED_FOR="10.0.0.2").status_code == 302


def test_form_errors_do_not_count_towards_the_rate_limit(client, municipality, settings):
    settings.HANDVEST_FORM_RATE_LIMIT = 1
    for _ in range(3):
        assert client.post(FORM_URL, valid_data(email="")).status_code == 200
    assert client.post(FORM_URL, valid_data()).status_code == 302


def test_attachments_are_checked_by_content_and_stored_privately(client, municipality, settings):
    files = [
        SimpleUploadedFile("foto zonder extensie", PNG_BYTES, content_type="application/octet-stream"),
        SimpleUploadedFile("brief.pdf", PDF_BYTES, content_type="application/pdf"),
        SimpleUploadedFile("verslag.docx", docx_bytes(), content_type="application/octet-stream"),
    ]
    response = client.post(FORM_URL, valid_data(attachments=files))
    assert response.status_code == 302
    stored = {a.filename: a for a in Attachment.objects.filter(registration=Registration.objects.get())}
    assert stored["foto zonder extensie"].content_type == uploads.PNG
    assert stored["brief.pdf"].content_type == uploads.PDF
    assert stored["verslag.docx"].content_type == uploads.DOCX
    assert all(len(a.sha256) == 64 for a in stored.values())
    assert str(settings.PRIVATE_MEDIA_ROOT) in stored["brief.pdf"].file.path
    with pytest.raises(ValueError):
        _ = stored["brief.pdf"].file.url  # private: no public URL


def test_a_program_renamed_to_pdf_is_refused_and_nothing_is_registered(client, municipality):
    fake = SimpleUploadedFile("factuur.pdf", b"MZ\x90\x00" + b"\x00" * 100, content_type="application/pdf")
    html = html_of(client.post(FORM_URL, valid_data(attachments=[fake])))
    assert escape(uploads.FILE_TYPE_NOT_ALLOWED % {"name": "factuur.pdf"}) in html
    assert 'href="#id_attachments"' in html
    assert Registration.objects.count() == 0 and Attachment.objects.count() == 0


def test_a_zip_that_is_no_word_document_is_refused(client, municipality):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("virus.exe", "MZ")
    fake = SimpleUploadedFile("brief.docx", buffer.getvalue())
    html = html_of(client.post(FORM_URL, valid_data(attachments=[fake])))
    assert escape(uploads.FILE_TYPE_NOT_ALLOWED % {"name": "brief.docx"}) in html
    assert Registration.objects.count() == 0


def test_more_than_five_files_are_refused(client, municipality):
    files = [SimpleUploadedFile(f"foto{i}.png", PNG_BYTES) for i in range(6)]
    html = html_of(client.post(FORM_URL, valid_data(attachments=files)))
    assert str(uploads.TOO_MANY_FILES % {"max": 5, "count": 6}) in html
    assert Registration.objects.count() == 0


def test_a_file_over_ten_megabytes_is_refused(client, municipality):
    big = SimpleUploadedFile("groot.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024))
    html = html_of(client.post(FORM_URL, valid_data(attachments=[big])))
    assert "Het bestand &#x27;groot.pdf&#x27; is te groot (10,0 MB)" in html
    assert Registration.objects.count() == 0


def test_after_another_error_the_citizen_is_asked_to_choose_the_files_again(client, municipality):
    html = html_of(client.post(FORM_URL, valid_data(name="", attachments=[SimpleUploadedFile("foto.png", PNG_BYTES)])))
    assert str(uploads.FILES_CHOOSE_AGAIN) in html
    assert 'aria-describedby="id_attachments_hint id_attachments_note"' in html


def test_a_request_body_beyond_all_file_limits_is_refused_with_413(client, municipality):
    response = client.post(FORM_URL, valid_data(), CONTENT_LENGTH=str(webform.MAX_REQUEST_BYTES + 1))
    assert response.status_code == 413
    assert str(webform.REQUEST_TOO_LARGE) in html_of(response)
    assert Registration.objects.count() == 0


def test_hint_lists_only_published_active_norms_grouped_by_channel(client, harlingen):
    assert 'value="norm:BALIE-AVOND"' in html_of(client.get(FORM_URL))  # the list is now kept by this process
    norm = ServiceNorm.objects.get(code="BALIE-AVOND")
    norm.active = False
    norm.retired_on = datetime.date(2026, 1, 1)
    norm.save_revision().publish()
    html = html_of(client.get(FORM_URL))
    assert '<optgroup label="Telefoon">' in html
    assert 'value="norm:TEL-25SEC"' in html and 'value="kanaal:telefoon"' in html
    assert 'value="norm:BALIE-AVOND"' not in html


def test_a_long_promise_in_the_list_is_cut_between_words(client, harlingen):
    from cases.intake.webform import hint_choices

    labels = [str(label) for group in hint_choices(fresh=True)[1:] for _value, label in group[1]]
    long_ones = [label for label in labels if label.endswith(" …")]
    assert long_ones, "the Harlingen charter has promises longer than 110 characters"
    promises = set(ServiceNorm.objects.values_list("promise", flat=True))
    for label in long_ones:
        kept = label.removesuffix(" …")
        assert len(label) <= 110 and any(promise.startswith(kept + " ") for promise in promises), label


def test_the_list_of_norms_is_read_once_a_minute_and_a_norm_published_elsewhere_is_accepted_at_once(client, harlingen, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cms import kept as keeping

    def norm_queries(response_of) -> int:
        """Reads of the whole list (ordered as the form shows it), not the lookup of one hinted norm."""
        with CaptureQueriesContext(connection) as captured:
            response_of()
        # (The list's own query ends in its ORDER BY; the charter version it filters on is a subquery with a LIMIT.)
        sqls = [query["sql"] for query in captured.captured_queries]
        return sum('"cms_servicenorm"."sort_order" ASC' in sql and not sql.rstrip().endswith("LIMIT 1") for sql in sqls)

    ServiceNorm.objects.filter(code="WEB-24UUR").update(live=False)
    assert norm_queries(lambda: client.get(FORM_URL)) == 1
    assert norm_queries(lambda: client.get(FORM_URL)) == 0
    # Another process publishes WEB-24UUR and retires BALIE-AVOND (no signal reaches this process).
    ServiceNorm.objects.filter(code="WEB-24UUR").update(live=True)
    ServiceNorm.objects.filter(code="BALIE-AVOND").update(active=False)
    html = html_of(client.get(FORM_URL))
    assert 'value="norm:WEB-24UUR"' not in html and 'value="norm:BALIE-AVOND"' in html  # the kept list
    # A submission naming the new norm is not refused: the charter is read again.
    assert norm_queries(lambda: client.post(FORM_URL, valid_data(hint="norm:WEB-24UUR"))) == 1
    assert CaseNorm.objects.get().norm.code == "WEB-24UUR"
    assert 'value="norm:WEB-24UUR"' in html_of(client.get(FORM_URL))
    # A minute later the form reads the charter again by itself.
    ServiceNorm.objects.filter(code="WEB-24UUR").update(active=False)
    later = time.monotonic() + keeping.KEPT_SECONDS + 1
    monkeypatch.setattr(keeping.time, "monotonic", lambda: later)
    html = html_of(client.get(FORM_URL))
    assert 'value="norm:WEB-24UUR"' not in html and 'value="norm:BALIE-AVOND"' not in html


def test_a_norm_hint_is_kept_as_the_citizens_tag_and_on_the_timeline(client, harlingen):
    client.post(FORM_URL, valid_data(hint="norm:BALIE-WACHTTIJD"))
    case = Case.objects.get()
    tag = CaseNorm.objects.get(case=case)
    assert tag.norm.code == "BALIE-WACHTTIJD" and tag.source == TagSource.CITIZEN and tag.status == "suggested"
    assert CaseEvent.objects.filter(case=case, name="citizen_hint", note="norm:BALIE-WACHTTIJD").exists()


def test_a_channel_hint_is_kept_on_the_timeline_without_a_norm_tag(client, harlingen):
    client.post(FORM_URL, valid_data(hint="kanaal:balie"))
    case = Case.objects.get()
    assert not CaseNorm.objects.filter(case=case).exists()
    assert CaseEvent.objects.get(case=case, name="citizen_hint").data == {"hint": "kanaal:balie"}


def test_an_unknown_hint_is_refused_with_a_clear_error(client, harlingen):
    html = html_of(client.post(FORM_URL, valid_data(hint="norm:BESTAAT-NIET")))
    assert escape(str(webform.HINT_INVALID)) in html
    assert Registration.objects.count() == 0


# --- the rate limit's cache ---------------------------------------------------------------------
def test_a_cache_that_is_down_does_not_keep_a_complaint_out(client, municipality, settings, monkeypatch, caplog):
    class Down:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise ConnectionError("redis is down")

            return fail

    monkeypatch.setattr(rate_limit, "cache", Down())
    settings.HANDVEST_FORM_RATE_LIMIT = 1
    with caplog.at_level(logging.ERROR, logger="cases.intake.rate_limit"):
        assert client.post(FORM_URL, valid_data(description="de straatlamp is kapot")).status_code == 302
    assert Registration.objects.count() == 1
    assert "rate limit not checked" in caplog.text


def test_the_cache_url_chooses_a_shared_redis_cache_or_one_per_process():
    from config.env import cache_settings

    assert cache_settings("")["default"]["BACKEND"].endswith("LocMemCache")
    redis_cache = cache_settings("redis://127.0.0.1:6379/1")["default"]
    assert redis_cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert redis_cache["LOCATION"] == "redis://127.0.0.1:6379/1"
    with pytest.raises(RuntimeError, match="CACHE_URL"):
        cache_settings("memcached://127.0.0.1:11211")


@pytest.mark.skipif(not django_settings.CELERY_BROKER_URL, reason="needs Redis: set CELERY_BROKER_URL=redis://127.0.0.1:6379/15 (CI does)")
def test_with_redis_the_rate_limit_is_counted_where_every_web_process_sees_it(client, municipality, settings):
    import redis

    from config.env import cache_settings

    location = django_settings.CELERY_BROKER_URL.rsplit("/", 1)[0] + "/14"
    settings.CACHES = cache_settings(location)
    cache.clear()
    try:
        settings.HANDVEST_FORM_RATE_LIMIT = 1
        assert client.post(FORM_URL, valid_data(), REMOTE_ADDR="192.0.2.9").status_code == 302
        # Another web process has its own memory but the same Redis: it finds the count there.
        stored = redis.Redis.from_url(location).keys("handvest:*webform:rate:*")
        assert len(stored) == 2  # one counter for the address, one for the e-mail address
        assert client.post(FORM_URL, valid_data(description=ANOTHER), REMOTE_ADDR="192.0.2.9").status_code == 429
    finally:
        cache.clear()
