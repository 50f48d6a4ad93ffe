import datetime

import pytest
from django.contrib.auth.models import Group, Permission

from cms.models import ServiceNorm
from cms.roles import ALL_ROLES, EDITORS

pytestmark = pytest.mark.django_db


def test_charter_page_shows_all_29_norms_in_their_channel(client, harlingen):
    response = client.get("/kwaliteitshandvest/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-code="') == 29
    telefoon = html.index(">Telefoon</h3>")
    balie = html.index(">Balie</h3>")
    assert telefoon < html.index('data-code="TEL-25SEC"') < balie
    assert html.index('data-code="BALIE-AVOND"') > balie
    assert "Klachten" in html and "Verbetersuggesties" in html
    assert "14 0517" in html


def test_charter_page_hides_retired_norms(client, harlingen):
    norm = ServiceNorm.objects.get(code="BALIE-AVOND")
    norm.active = False
    norm.retired_on = datetime.date(2026, 1, 1)
    norm.save_revision().publish()
    html = client.get("/kwaliteitshandvest/").content.decode()
    assert 'data-code="BALIE-AVOND"' not in html
    assert html.count('data-code="') == 28


def test_charter_page_hides_unpublished_drafts(client, harlingen):
    norm = ServiceNorm.objects.get(code="TEL-GROET")
    norm.promise = "CONCEPTTEKST nog niet gepubliceerd"
    norm.save_revision()  # a draft only
    html = client.get("/kwaliteitshandvest/").content.decode()
    assert "CONCEPTTEKST" not in html
    assert "Wij nemen de telefoon altijd op met een groet" in html


def test_public_pages_are_dutch_and_have_landmarks(client, harlingen):
    for url in ("/", "/kwaliteitshandvest/"):
        html = client.get(url).content.decode()
        assert '<html lang="nl">' in html
        assert 'href="#inhoud"' in html and 'id="inhoud"' in html
        assert "<main" in html and "<header" in html and "<footer" in html
        assert html.count("<h1") == 1


def test_role_groups_exist_with_admin_access(db):
    for name in ALL_ROLES:
        group = Group.objects.get(name=name)
        assert group.permissions.filter(codename="access_admin").exists()


def test_editors_may_edit_and_publish_norms_but_not_delete_them(db):
    codes = set(Group.objects.get(name=EDITORS).permissions.values_list("codename", flat=True))
    assert {"add_servicenorm", "change_servicenorm", "publish_servicenorm"} <= codes
    assert "delete_servicenorm" not in codes
    assert Permission.objects.filter(codename="publish_servicenorm").count() == 1


def test_demo_users_are_created_once_per_role(db):
    from io import StringIO

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    out = StringIO()
    call_command("create_demo_users", stdout=out)
    assert out.getvalue().count("password ") == 5
    again = StringIO()
    call_command("create_demo_users", stdout=again)
    assert "password " not in again.getvalue().replace("password was printed", "")
    assert get_user_model().objects.get(username="redacteur").groups.filter(name=EDITORS).exists()
    assert get_user_model().objects.get(username="archivaris").groups.filter(name="Archivarissen").exists()
