import datetime
import re

import pytest
import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from wagtail.models import Revision

from cms.charter_loading import CharterFileError, load_charter, parse_charter
from cms.models import Channel, CharterPage, MunicipalitySettings, ServiceNorm
from tests.conftest import HARLINGEN, ROOT

pytestmark = pytest.mark.django_db

DESIGN_CHANNEL_OF_PREFIX = {"TEL": "telefoon", "POST": "post", "BALIE": "balie", "WEB": "website", "OVERIG": "overig", "KLACHT": "klachten"}


def design_codes() -> list[str]:
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    return re.findall(r"^\| ([A-Z]+-[A-Z0-9]+) \|", design, flags=re.M)


def write_variant(tmp_path, mutate) -> str:
    data = yaml.safe_load(HARLINGEN.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_harlingen_file_has_every_design_norm_in_its_channel():
    codes = design_codes() or [n["code"] for n in parse_charter(HARLINGEN.read_text())["norms"]]
    parsed = {n["code"]: n for n in parse_charter(HARLINGEN.read_text(encoding="utf-8"))["norms"]}
    assert len(parsed) == 29
    assert set(codes) <= set(parsed)
    for code, norm in parsed.items():
        assert norm["channel"] == DESIGN_CHANNEL_OF_PREFIX[code.split("-")[0]], code


def test_loading_publishes_all_norms_and_the_municipality(harlingen):
    assert ServiceNorm.objects.published_active().count() == 29
    assert harlingen.name == "Gemeente Harlingen"
    assert harlingen.registration_prefix == "HLG"
    assert harlingen.phone == "14 0517"
    norm = ServiceNorm.objects.get(code="TEL-25SEC")
    assert (norm.target_percentage, norm.target_amount, norm.target_unit) == (80, 25, "seconds")
    assert norm.target_display == "80% binnen 25 seconden (per maand)"


def test_loading_twice_changes_nothing(harlingen):
    revisions = Revision.objects.count()
    report = load_charter(path=HARLINGEN)
    assert report.created == [] and report.updated == []
    assert len(report.unchanged) == 29
    assert Revision.objects.count() == revisions


def test_a_changed_promise_makes_a_new_published_revision(harlingen, tmp_path):
    def change(data):
        data["norms"][2]["promise"] = "Wij nemen 90% van de telefoontjes binnen 20 seconden op."

    before = ServiceNorm.objects.get(code="TEL-25SEC").revisions.count()
    report = load_charter(path=write_variant(tmp_path, change))
    norm = ServiceNorm.objects.get(code="TEL-25SEC")
    assert report.updated == ["TEL-25SEC"]
    assert norm.revisions.count() == before + 1
    assert norm.promise.startswith("Wij nemen 90%")
    assert norm.live and not norm.has_unpublished_changes


def test_a_norm_missing_from_the_file_is_reported_not_deleted(harlingen, tmp_path):
    path = write_variant(tmp_path, lambda data: data["norms"].pop(0))
    report = load_charter(path=path)
    assert report.missing == ["TEL-OPENINGSTIJDEN"]
    assert ServiceNorm.objects.get(code="TEL-OPENINGSTIJDEN").active


def test_retire_missing_retires_with_a_date(harlingen, tmp_path):
    path = write_variant(tmp_path, lambda data: data["norms"].pop(0))
    report = load_charter(path=path, retire_missing=True, today=datetime.date(2026, 3, 1))
    norm = ServiceNorm.objects.get(code="TEL-OPENINGSTIJDEN")
    assert report.retired == ["TEL-OPENINGSTIJDEN"]
    assert not norm.active and norm.retired_on == datetime.date(2026, 3, 1)
    assert ServiceNorm.objects.count() == 29


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["norms"][3].update(channel="fax"), r"norm TEL-DOORVERBINDEN: field 'channel' is 'fax'"),
        (lambda d: d["norms"][4].update(code="TEL-25SEC"), r"norm TEL-25SEC: field 'code' is a duplicate"),
        (lambda d: d["norms"][5].pop("promise"), r"norm TEL-GROET: field 'promise' is missing"),
        (lambda d: d["norms"][6].pop("target"), r"norm TEL-BEJEGENING: field 'target' is missing"),
        (lambda d: d["norms"][2]["target"].pop("percentage"), r"norm TEL-25SEC, target: field 'percentage' is missing"),
        (lambda d: d["norms"][2]["target"].update(unit="lightyears"), r"norm TEL-25SEC: field 'target.unit' is 'lightyears'"),
        (lambda d: d["norms"][0].update(colour="red"), r"norm TEL-OPENINGSTIJDEN: unknown field\(s\) colour"),
        (lambda d: d["municipality"].pop("registration_prefix"), r"municipality: field 'registration_prefix' is missing"),
        (lambda d: d["norms"][0].update(code="tel 1"), r"field 'code' must look like"),
        (lambda d: d["charter"].update(year=20177), r"charter: field 'year' must be a year from 1990 to 2100"),
        (lambda d: d.update(key="Sneek 2024 (concept)"), r"field 'key' must be lower-case letters"),
        (lambda d: d["norms"][1].update(promise=["a", "b"]), r"norm TEL-NUMMER: field 'promise' must be text"),
        (lambda d: d["charter"].update(title={"nl": "Handvest"}), r"charter: field 'title' must be text, not a dict"),
        (lambda d: d["municipality"].update(complaint_email="klachten-at-sneek"), r"complaint_email: .*e-mailadres"),
        (lambda d: d["charter"].update(title="H" * 201), r"title: .*200"),
    ],
)
def test_a_bad_file_names_norm_and_field_and_writes_nothing(tmp_path, mutate, expected):
    with pytest.raises(CharterFileError, match=expected):
        load_charter(path=write_variant(tmp_path, mutate))
    assert ServiceNorm.objects.count() == 0
    assert MunicipalitySettings.load().name == "Gemeente"


def test_a_field_written_twice_is_refused_not_half_read(tmp_path):
    """YAML keeps the last of two equal keys without a word: the first promise would be lost."""
    text = HARLINGEN.read_text(encoding="utf-8")
    path = tmp_path / "twice.yaml"
    path.write_text(text.replace("  promise:", "  promise: Eerste tekst\n    promise:", 1), encoding="utf-8")
    with pytest.raises(CommandError, match=r"field 'promise' appears twice"):
        call_command("load_charter", str(path))
    assert ServiceNorm.objects.count() == 0


def test_bad_yaml_fails_and_writes_nothing(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("key: x\nnorms: [\n  - code: A-B\n", encoding="utf-8")
    with pytest.raises(CommandError, match="not valid YAML"):
        call_command("load_charter", str(path))
    assert ServiceNorm.objects.count() == 0


def test_a_bad_file_leaves_a_loaded_charter_as_it_was(harlingen, tmp_path):
    def break_it(data):
        data["norms"][0]["promise"] = "Nieuwe tekst"
        data["norms"][10]["channel"] = "duif"

    with pytest.raises(CharterFileError):
        load_charter(path=write_variant(tmp_path, break_it))
    assert ServiceNorm.objects.get(code="TEL-OPENINGSTIJDEN").promise.startswith("U kunt de gemeente")


def test_dry_run_writes_nothing(db):
    call_command("load_charter", str(HARLINGEN), "--dry-run")
    assert ServiceNorm.objects.count() == 0


def test_a_norm_code_cannot_change(harlingen):
    norm = ServiceNorm.objects.get(code="TEL-GROET")
    norm.code = "TEL-HALLO"
    with pytest.raises(ValidationError):
        norm.save()
    assert ServiceNorm.objects.filter(code="TEL-GROET").exists()


def test_a_norm_cannot_be_deleted(harlingen):
    norm = ServiceNorm.objects.get(code="TEL-GROET")
    with pytest.raises(PermissionDenied):
        norm.delete()
    with pytest.raises(PermissionDenied):
        ServiceNorm.objects.filter(code="TEL-GROET").delete()
    assert ServiceNorm.objects.filter(code="TEL-GROET").exists()


def test_retired_norm_needs_a_date(harlingen):
    norm = ServiceNorm.objects.get(code="TEL-GROET")
    norm.active = False
    with pytest.raises(ValidationError, match="retired_on"):
        norm.full_clean()


def test_channels_follow_the_charter_order(harlingen):
    page = CharterPage.objects.get()
    labels = [label for label, _ in page.norms_by_channel()]
    assert labels == [str(choice.label) for choice in Channel]
