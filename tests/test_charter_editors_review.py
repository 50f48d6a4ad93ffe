"""The editors' side of the charter in Wagtail (norm snippets, the charter page, load_charter): found by the review
of stop 31, each test failed before its fix."""

import datetime
from pathlib import Path

import pytest
import yaml
from django.urls import reverse

from cms.charter_loading import CharterFileError, load_charter
from cms.models import Charter, CharterPage, MunicipalitySettings, ServiceNorm
from cms.roles import EDITORS
from tests.conftest import HARLINGEN
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ZUIDPLAS = Path(__file__).resolve().parent / "fixtures" / "zuidplas-2024.yaml"


@pytest.fixture
def editor(db):
    return UserFactory(username="redacteur", role=EDITORS)


def write_variant(tmp_path, mutate, name="variant.yaml"):
    data = yaml.safe_load(HARLINGEN.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def page_codes(client) -> int:
    return client.get("/kwaliteitshandvest/").content.decode().count('data-code="')


# --- load_charter against the editors' work ---------------------------------------------------------------


def test_reloading_the_charter_file_after_editors_published_a_new_version_keeps_the_page_on_that_version(client, editor, harlingen):
    """Editors publish version 2027 in the CMS; a plain reload of harlingen-2017.yaml (say, to pick up a typo fix)
    keeps their work: the live charter page stays on 2027 instead of going back to a version none of the norms
    belong to any more, and the report says it was kept."""
    from cms.versions import charter_publish_version, charter_start_version

    new = charter_start_version(source=Charter.objects.get(key="harlingen-2017"), year=2027, title="Kwaliteitshandvest 2027", actor=editor)
    charter_publish_version(charter=new, actor=editor)
    assert page_codes(client) == 29

    report = load_charter(path=HARLINGEN)

    assert page_codes(client) == 29
    assert CharterPage.objects.live().get().charter == new
    assert [(kept.field, kept.current, kept.in_file) for kept in report.kept if kept.what == "kwaliteitshandvest"] == [("charter", new.key, "harlingen-2017")]


def test_loading_a_second_municipalitys_charter_into_a_loaded_instance_is_refused(client, harlingen):
    """Loading Zuidplas's file into Harlingen's instance by mistake is refused before anything is written: no
    second charter, page or set of norms beside Harlingen's, whose name and prefix stay."""
    with pytest.raises(CharterFileError, match="(?i)gemeente|municipality"):
        load_charter(path=ZUIDPLAS)
    assert ServiceNorm.objects.count() == 29
    assert CharterPage.objects.live().get().charter.key == "harlingen-2017"
    assert MunicipalitySettings.load().registration_prefix == "HLG"




# --- publishing in Wagtail --------------------------------------------------------------------------------


def test_a_scheduled_norm_revision_goes_live_by_beats_task(harlingen):
    """The norm's editor has Wagtail's 'go live at': beat runs Wagtail's publish_scheduled every five minutes, so a
    revision scheduled for a moment that has come is published (before, nothing ran it and it never went live)."""
    from django.utils import timezone

    from cases import tasks
    from config.celery import app

    entry = app.conf.beat_schedule["publish-scheduled"]
    assert entry["task"] == tasks.publish_scheduled.name and entry["schedule"] <= 5 * 60
    norm = ServiceNorm.objects.get(code="BALIE-AVOND")
    norm.promise = "Op donderdag is de balie voortaan open tot 22.00 uur."
    norm.go_live_at = timezone.now() + datetime.timedelta(minutes=10)  # the editor's "go live at"
    revision = norm.save_revision()
    revision.publish()  # with a moment in the future Wagtail only schedules it
    assert ServiceNorm.objects.get(code="BALIE-AVOND").promise != norm.promise
    revision.refresh_from_db()  # ten minutes later: the moment has come
    past = timezone.now() - datetime.timedelta(minutes=1)
    revision.approved_go_live_at, revision.content["go_live_at"] = past, past.isoformat()
    revision.save(update_fields=["approved_go_live_at", "content"])
    tasks.publish_scheduled.apply().get()
    assert ServiceNorm.objects.get(code="BALIE-AVOND").promise == "Op donderdag is de balie voortaan open tot 22.00 uur."


def test_an_editor_cannot_take_a_norm_off_the_charter_without_retiring_it(client, editor, harlingen):
    """'A norm is retired, never deleted' (with a date): Wagtail's Unpublish action of the norm snippet is refused, so
    no norm leaves the charter page, the web form, the terms and the annual report undated."""
    norm = ServiceNorm.objects.get(code="BALIE-AVOND")
    client.force_login(editor)
    client.post(reverse("wagtailsnippets_cms_servicenorm:unpublish", args=[norm.pk]))
    norm.refresh_from_db()
    assert norm.live or (not norm.active and norm.retired_on is not None), (norm.live, norm.active, norm.retired_on)


def test_an_editors_revision_survives_a_reload_after_the_editors_account_is_removed(harlingen):
    """'Editors' work wins over the file' holds after the editor's account is deleted: Wagtail empties the revision's
    user, but its log keeps whose revision it was, so a plain reload keeps her published text."""
    edited = "Wij nemen 80% van de telefoontjes binnen 20 seconden op."
    author = UserFactory(username="oud-redacteur", role=EDITORS)
    norm = ServiceNorm.objects.get(code="TEL-25SEC")
    norm.promise = edited
    norm.save_revision(user=author).publish(user=author)
    author.delete()

    report = load_charter(path=HARLINGEN)

    assert ServiceNorm.objects.get(code="TEL-25SEC").promise == edited
    assert report.kept_norms == ["TEL-25SEC"]


def test_a_norm_left_out_of_the_next_charter_file_leaves_the_web_form_as_it_leaves_the_charter_page(client, harlingen, tmp_path):
    """The next charter (harlingen-2024.yaml) leaves TEL-GROET out. The charter page shows the 2024 version without
    it; the web form's choices, the case terms and the tagger read the same set (``published_active`` follows the
    version the page shows), so no citizen is offered a promise the charter no longer makes."""
    from cases.intake.webform import hint_choices

    def next_version(data):
        data["key"] = "harlingen-2024"
        data["charter"]["year"] = 2024
        data["norms"] = [norm for norm in data["norms"] if norm["code"] != "TEL-GROET"]

    report = load_charter(path=write_variant(tmp_path, next_version, "harlingen-2024.yaml"))
    assert report.missing == ["TEL-GROET"]
    html = client.get("/kwaliteitshandvest/").content.decode()
    assert 'data-code="TEL-GROET"' not in html and 'data-code="TEL-25SEC"' in html
    offered = {value for _group, options in hint_choices(fresh=True)[1:] for value, _label in options}
    assert "norm:TEL-GROET" not in offered and "norm:TEL-25SEC" in offered
    assert set(ServiceNorm.objects.published_active().values_list("code", flat=True)) == set(page_codes_of(html))


def page_codes_of(html: str) -> list[str]:
    import re

    return re.findall(r'data-code="([^"]+)"', html)
