"""Where the measurements show: the public report page, the officer's upload, the editor's figures panel."""

import io
import re
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.measurements.importing import UNKNOWN_NORM, measurements_import
from cases.models import Measurement
from cms.models import CharterReportPage, HomePage, ServiceNorm
from cms.roles import EDITORS, MAILROOM, QUALITY_OFFICERS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

GOOD = b"norm,observed_at,value\nTEL-25SEC,2025-03-02T09:15:00,18\nTEL-25SEC,2025-03-02T09:20:00,40\n"
BAD = b"norm,observed_at,value\nTEL-25SEC,2025-03-02T09:15:00,18\nTEL-99,2025-03-02T09:20:00,40\n"


class Structure(HTMLParser):
    """What an accessibility check looks at first: tables, header cells, charts and the ids they point at."""

    def __init__(self):
        super().__init__()
        self.tables = self.captions = 0
        self.header_cells_without_scope = 0
        self.svgs: list[dict] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag == "th" and "scope" not in attrs:
            self.header_cells_without_scope += 1
        elif tag == "svg":
            self.svgs.append(attrs)


def parsed(html: str) -> Structure:
    structure = Structure()
    structure.feed(html)
    return structure


@pytest.fixture
def report_page(harlingen):
    measurements_import(stream=io.BytesIO(b"TEL-25SEC,2025-03-01,2025-03-31,1000,783\nTEL-25SEC,2025-04-01,2025-04-30,1000,850\n"), file_name="t.csv")
    home = HomePage.objects.get()
    page = CharterReportPage(title="Hoe hielden wij ons aan onze beloften?", slug="beloften", year=2025)
    home.add_child(instance=page)
    page.save_revision().publish()
    return page


def test_the_public_report_page_renders_accessible_tables_and_charts(client, report_page):
    response = client.get(report_page.get_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Hoe hielden wij ons aan onze beloften?</h1>" in html
    structure = parsed(html)
    assert structure.tables >= 6 and structure.captions == structure.tables
    assert structure.header_cells_without_scope == 0
    assert structure.svgs, "a measured norm has a chart"
    for svg in structure.svgs:
        assert svg["role"] == "img"
        assert all(ident in structure.ids for ident in svg["aria-labelledby"].split())
    assert "Gehaald in 1 van de 2 perioden met metingen" in html
    assert re.search(r'<tr data-attainment-period="2025-03"><th scope="row">maart 2025</th><td>783 van 1000</td><td>78,3%</td><td>niet gehaald</td></tr>', html)


def test_a_report_page_for_a_year_not_yet_begun_says_there_are_no_figures(client, report_page):
    report_page.year = 2099
    report_page.save_revision().publish()
    response = client.get(report_page.get_url())
    assert "Voor 2099 zijn er nog geen cijfers." in response.content.decode()


def test_the_home_page_may_hold_a_report_page(harlingen):
    assert CharterReportPage in HomePage.allowed_subpage_models()


# --- the officer's upload --------------------------------------------------------------------------------


@pytest.fixture
def officer_client(client, harlingen):
    client.force_login(UserFactory(username="kwaliteit", role=QUALITY_OFFICERS))
    return client


@pytest.fixture
def editor_client(client, harlingen):
    client.force_login(UserFactory(username="redacteur", role=EDITORS))
    return client


def upload(client, content: bytes, name: str = "telefonie.csv"):
    return client.post(reverse("handvest_measurements:upload"), {"file": SimpleUploadedFile(name, content, content_type="text/csv"), "source": "telephony"})


def test_an_officer_uploads_a_measurement_file(officer_client):
    response = upload(officer_client, GOOD)
    assert response.status_code == 302
    assert Measurement.objects.filter(source="telephony").count() == 2
    page = officer_client.get(reverse("handvest_measurements:overview")).content.decode()
    assert "telefonie.csv geïmporteerd: 2 regels, 2 nieuw" in page
    assert 'data-code="TEL-25SEC"' in page


def test_a_bad_upload_lists_its_lines_in_dutch_and_imports_nothing(officer_client):
    response = upload(officer_client, BAD)
    assert response.status_code == 400
    html = response.content.decode()
    assert "telefonie.csv is geweigerd; er is niets geïmporteerd." in html
    assert f"regel 3: {UNKNOWN_NORM % {'code': 'TEL-99'}}" in html
    assert Measurement.objects.count() == 0


def test_a_file_too_large_for_the_web_upload_is_refused_with_the_way_to_import_it(officer_client, settings, caplog):
    """A file over HANDVEST_MEASUREMENT_UPLOAD_MB would run past the web server's timeout: it is refused before it is
    read, in Dutch, naming the command that imports it, with a log line, and nothing is stored."""
    settings.HANDVEST_MEASUREMENT_UPLOAD_MB = 1
    big = GOOD + GOOD.splitlines(keepends=True)[-1] * (1024 * 1024 // len(GOOD.splitlines()[-1]) + 1)
    assert len(big) > 1024 * 1024
    with caplog.at_level("WARNING"):
        response = upload(officer_client, big)
    assert response.status_code == 400
    html = response.content.decode()
    assert "telefonie.csv is te groot om hier te importeren" in html and "python manage.py import_measurements" in html
    assert Measurement.objects.count() == 0
    assert any("over the upload limit" in record.getMessage() for record in caplog.records)
    settings.HANDVEST_MEASUREMENT_UPLOAD_MB = 25
    assert upload(officer_client, GOOD).status_code == 302  # under the limit it goes


def test_editors_see_the_measurements_but_cannot_upload(editor_client):
    page = editor_client.get(reverse("handvest_measurements:overview"))
    assert page.status_code == 200 and "Metingen importeren" not in page.content.decode()
    assert upload(editor_client, GOOD).status_code == 403
    assert Measurement.objects.count() == 0


def test_the_editors_figures_panel_shows_attainment_beside_the_complaints(editor_client):
    norm = ServiceNorm.objects.get(code="TEL-25SEC")
    html = editor_client.get(reverse("handvest_revision:norm_panel", args=[norm.pk])).content.decode()
    assert "Gehaald?" in html and "80% binnen 25 seconden (per maand)" in html
    assert f'aria-labelledby="norm-{norm.pk}-attainment-t norm-{norm.pk}-attainment-d"' in html


def test_a_qualitative_norm_has_no_attainment_chart(editor_client):
    norm = ServiceNorm.objects.get(code="TEL-GROET")
    html = editor_client.get(reverse("handvest_revision:norm_panel", args=[norm.pk])).content.decode()
    assert "wordt niet als gehaald of niet gehaald beoordeeld" in html
    assert "-attainment-t" not in html


def test_the_mailroom_does_not_see_the_measurements(client, harlingen):
    client.force_login(UserFactory(username="postkamer", role=MAILROOM))
    assert client.get(reverse("handvest_measurements:overview")).status_code == 403
    assert upload(client, GOOD).status_code == 403
