"""The target in machine form: how the charter file and the norm's editor say how a norm is measured."""

import pytest
import yaml
from django.core.exceptions import ValidationError

from cms.charter_loading import CharterFileError, parse_charter
from cms.models import ServiceNorm
from tests.conftest import HARLINGEN

pytestmark = pytest.mark.django_db


def parsed_norms(text: str | None = None) -> dict[str, dict]:
    return {norm["code"]: norm for norm in parse_charter(text or HARLINGEN.read_text(encoding="utf-8"))["norms"]}


def with_target(code: str, target: dict) -> str:
    data = yaml.safe_load(HARLINGEN.read_text(encoding="utf-8"))
    next(norm for norm in data["norms"] if norm["code"] == code)["target"] = target
    return yaml.safe_dump(data, allow_unicode=True)


def test_the_harlingen_file_says_how_each_measurable_norm_is_measured():
    norms = parsed_norms()
    assert (norms["TEL-25SEC"]["measurement_period"], norms["TEL-25SEC"]["measured_from"]) == ("month", "import")  # from 'per maand'
    assert (norms["POST-ONTVANGSTBEVESTIGING"]["measurement_period"], norms["POST-ONTVANGSTBEVESTIGING"]["measured_from"]) == ("quarter", "acknowledgements")
    assert (norms["POST-REACTIE"]["measurement_period"], norms["POST-REACTIE"]["measured_from"]) == ("quarter", "answers")
    assert norms["BALIE-AFSPRAAK"]["target_percentage"] is None  # every visit within 3 minutes


def test_loading_the_charter_stores_the_measuring_on_the_norm(harlingen):
    norm = ServiceNorm.objects.get(code="POST-REACTIE")
    assert (norm.measurement_period, norm.measured_from) == ("quarter", "answers")
    assert norm.latest_revision.content["measured_from"] == "answers"


def test_counting_from_the_cases_needs_a_term_in_days_or_weeks():
    with pytest.raises(CharterFileError, match="measured_from: answers"):
        parse_charter(with_target("TEL-25SEC", {"kind": "share_within", "percentage": 80, "amount": 25, "unit": "seconds", "measured_from": "answers"}))


def test_an_unknown_period_is_refused_with_the_norm_and_field():
    with pytest.raises(CharterFileError, match="norm TEL-25SEC: field 'target.per' is 'week'"):
        parse_charter(with_target("TEL-25SEC", {"kind": "share_within", "percentage": 80, "amount": 25, "unit": "seconds", "per": "week"}))


def test_a_required_share_may_be_set_for_a_maximum_duration():
    norms = parsed_norms(with_target("BALIE-WACHTTIJD", {"kind": "max_duration", "percentage": 95, "amount": 15, "unit": "minutes"}))
    assert norms["BALIE-WACHTTIJD"]["target_percentage"] == 95


def test_a_qualitative_promise_has_no_percentage():
    with pytest.raises(CharterFileError, match="qualitative"):
        parse_charter(with_target("TEL-GROET", {"kind": "qualitative", "percentage": 90}))


def test_the_editor_cannot_count_a_share_within_from_the_cases(harlingen):
    norm = ServiceNorm.objects.get(code="TEL-25SEC")
    norm.measured_from = "acknowledgements"
    with pytest.raises(ValidationError) as caught:
        norm.full_clean()
    assert "measured_from" in caught.value.message_dict


def test_the_target_in_words_shows_a_required_share_below_all(harlingen):
    norm = ServiceNorm.objects.get(code="BALIE-WACHTTIJD")
    assert norm.target_display == "binnen 15 minuten"
    norm.target_percentage = 95
    assert norm.target_display == "95% binnen 15 minuten"


@pytest.mark.parametrize(
    ("amount", "unit", "words"),
    [(1, "working_days", "1 werkdag"), (2, "working_days", "2 werkdagen"), (1, "weeks", "1 week"), (1, "minutes", "1 minuut"), (6, "weeks", "6 weken")],
)
def test_the_target_in_words_is_singular_after_one(harlingen, amount, unit, words):
    norm = ServiceNorm.objects.get(code="POST-ONTVANGSTBEVESTIGING")
    norm.target_kind, norm.target_amount, norm.target_unit, norm.target_percentage = "term", amount, unit, None
    assert norm.target_display.startswith(f"termijn {words}")
