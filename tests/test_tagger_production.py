"""The tagger at work in the Django layer: the trained kind classifier deciding e-mail intake,
uncertain suggestions the officer can confirm, and cases probably about the same event."""

import datetime
import json
import sys
import types
from pathlib import Path

import pytest

from cases import dispatch, tagging
from cases.intake import classify
from cases.intake.email import email_intake
from cases.models import Case, CaseEvent, CaseNorm, InboundMessage, InboundOutcome, Kind, Registration, TaggerModel, TagSource, TagStatus
from cases.tagging import similar_cases, tag_candidates, tag_confirm, tagger_train, tags_store_suggestions
from tests.factories import CaseFactory, officer

pytestmark = pytest.mark.django_db

EML = Path(__file__).parent / "fixtures" / "eml"

# A tiny corpus in which mail about events and forms is, on purpose, labelled a complaint: the
# rules call such mail 'other', so a case proves that the trained classifier decided.
EVENT_COMPLAINTS = [
    "Bijgaand het formulier voor ons buurtfeest, graag wil ik weten wat ik nog moet aanvragen.",
    "Het formulier voor de barbecue in onze straat stuur ik mee, wat moet ik nog aanvragen?",
    "Voor het evenement op zaterdag in de straat heb ik het formulier ingevuld, bijgaand.",
    "Graag wil ik weten of ik voor ons buurtevenement nog een vergunning moet aanvragen, formulier bijgevoegd.",
    "Ingevuld formulier melding klein evenement voor de buurt, wat moet ik nog aanvragen?",
    "Wij houden een straatfeest met barbecue; het formulier zit in de bijlage, moet er nog iets geregeld?",
    "Bijgaand de melding van ons evenement op zaterdag, graag weten of ik nog iets moet aanvragen.",
]
OTHER = [
    "Per 1 mei woon ik aan de Voorstraat 12, graag mijn adres wijzigen.",
    "Hierbij de factuur van de schilder voor het werk aan de school.",
    "Dank voor de fijne ontvangst bij de nieuwjaarsreceptie!",
    "Wanneer is de milieustraat open op zaterdag?",
    "Ik wil mij afmelden voor de nieuwsbrief over de haven.",
    "Mijn nieuwe telefoonnummer is 06 12345678, wilt u dat noteren?",
    "Uitnodiging voor de opening van het dorpshuis op vrijdag.",
]


def write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


@pytest.fixture
def trained(settings, tmp_path, harlingen):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rows = [{"text": t, "kind": "complaint", "norms": []} for t in EVENT_COMPLAINTS] + [{"text": t, "kind": "other", "norms": []} for t in OTHER]
    write(corpus / "train-tiny.jsonl", rows)
    settings.HANDVEST_CORPUS_DIR = corpus
    settings.HANDVEST_MODEL_DIR = tmp_path / "models"
    tagging._load.cache_clear()
    return corpus


def take_in(name: str):
    return email_intake(raw=(EML / name).read_bytes(), source="eml")


def test_intake_uses_the_rules_while_no_model_is_ready_and_never_trains_one(trained, monkeypatch):
    monkeypatch.setattr(tagging.active, "tagger_train", lambda **kwargs: pytest.fail("intake must not train a model"))
    assert classify.get_kind_classifier() is None
    result = take_in("other-question.eml")
    assert result.outcome == InboundOutcome.TRIAGE
    assert InboundMessage.objects.get().reason.startswith("other (rules)")
    assert not TaggerModel.objects.exists()


def test_intake_uses_the_trained_kind_classifier_when_a_model_is_present(trained):
    text = (EML / "other-question.eml").read_text(encoding="utf-8").split("\n\n", 1)[1]
    assert classify.rule_kind(text, "Vraag over melding klein evenement") == classify.OTHER
    tagger_train(force=True)
    result = take_in("other-question.eml")
    assert result.outcome == InboundOutcome.CASE
    registration = Registration.objects.get()
    assert registration.kind == Kind.COMPLAINT
    assert InboundMessage.objects.get().reason.startswith("complaint (classifier)")


def test_a_web_process_with_a_worker_never_loads_the_kind_classifier(trained, monkeypatch):
    """Issue 20: the web process stays lean; its mail is decided by the rules, the worker's by the model."""
    tagger_train(force=True)
    tagging._load.cache_clear()
    monkeypatch.setitem(sys.modules, "config.wsgi", types.ModuleType("config.wsgi"))
    monkeypatch.setattr(dispatch, "runs_eagerly", lambda: False)
    assert tagging.models_stay_out()
    assert classify.get_kind_classifier() is None
    assert tagging._load.cache_info().currsize == 0
    assert take_in("other-question.eml").outcome == InboundOutcome.TRIAGE
    monkeypatch.setattr(dispatch, "runs_eagerly", lambda: True)  # make run: this process tags anyway
    assert classify.get_kind_classifier() is not None


def test_a_model_of_older_feature_code_is_not_used_for_intake(trained, monkeypatch):
    model, _, _ = tagger_train(force=True)
    meta_file = Path(model.path) / "tagger.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    meta_file.write_text(json.dumps({**meta, "code_version": "1"}), encoding="utf-8")
    tagging._load.cache_clear()
    monkeypatch.setattr(tagging.active, "tagger_train", lambda **kwargs: pytest.fail("intake must not train a model"))
    assert classify.get_kind_classifier() is None
    assert take_in("other-question.eml").outcome == InboundOutcome.TRIAGE


def test_a_complaint_the_classifier_is_unsure_of_waits_in_triage_with_its_guess(municipality):
    classify.set_kind_classifier(lambda text: ("complaint", 0.41))
    try:
        result = take_in("plain-klacht.eml")
    finally:
        classify.set_kind_classifier(None)
    assert result.outcome == InboundOutcome.TRIAGE
    assert Registration.objects.get().kind == Kind.OTHER
    assert not Case.objects.exists()
    assert InboundMessage.objects.get().reason.startswith("other (classifier, uncertain: complaint? ")


def test_a_confident_classifier_answer_makes_a_case(municipality):
    classify.set_kind_classifier(lambda text: ("suggestion", 0.93))
    try:
        assert take_in("plain-klacht.eml").outcome == InboundOutcome.CASE
    finally:
        classify.set_kind_classifier(None)
    assert Registration.objects.get().kind == Kind.SUGGESTION


# --- uncertain suggestions ------------------------------------------------------------------------


def test_uncertain_suggestions_are_offered_but_are_no_tags(harlingen):
    case = CaseFactory(text="Ik stond lang te wachten.")
    scores = {"BALIE-WACHTTIJD": 0.82, "TEL-25SEC": 0.44, "BALIE-AFSPRAAK": 0.31}
    tags_store_suggestions(
        case_id=case.pk,
        scores=scores,
        suggested=["BALIE-WACHTTIJD"],
        uncertain=["BALIE-AFSPRAAK", "TEL-25SEC"],
        model_version="v1",
        explanations={"TEL-25SEC": ["wachten"]},
    )
    assert list(CaseNorm.objects.filter(case=case).values_list("norm__code", flat=True)) == ["BALIE-WACHTTIJD"]
    candidates = tag_candidates(case_id=case.pk)
    assert [(c.code, c.score, c.uncertain) for c in candidates] == [("TEL-25SEC", 0.44, True), ("BALIE-AFSPRAAK", 0.31, True)]
    assert candidates[0].explanation == ["wachten"] and candidates[0].promise
    event = CaseEvent.objects.get(case=case, kind="tag", name="suggested")
    assert "onzeker" in event.note and "TEL-25SEC (0.44)" in event.note


def test_confirming_an_uncertain_suggestion_keeps_the_taggers_score(harlingen):
    case = CaseFactory(text="Ik stond lang te wachten.")
    tags_store_suggestions(case_id=case.pk, scores={"TEL-25SEC": 0.44}, suggested=[], uncertain=["TEL-25SEC"], model_version="v7")
    tag = tag_confirm(case_id=case.pk, code="TEL-25SEC", actor=officer())
    assert (tag.status, tag.source, tag.score, tag.model_version) == (TagStatus.CONFIRMED, TagSource.TAGGER, 0.44, "v7")
    assert tag_candidates(case_id=case.pk) == []  # a tag now, no longer a candidate
    added = tag_confirm(case_id=case.pk, code="WEB-24UUR", actor=officer())
    assert added.source == TagSource.OFFICER and added.score is None


# --- similar cases ----------------------------------------------------------------------------------


def lift_case(text: str, **kwargs) -> Case:
    return CaseFactory(subject="Lift stadhuis", text=text, **kwargs)


def test_similar_cases_finds_the_same_event_and_leaves_the_rest(harlingen):
    today = datetime.date.today()
    first = lift_case("De lift in het stadhuis is al twee weken kapot, met mijn rolstoel kon ik niet naar de eerste verdieping.")
    second = lift_case("Vanochtend was de lift van het stadhuis weer buiten gebruik; mijn moeder in haar rolstoel kwam niet boven.")
    same_sender = CaseFactory(subject="Nog een vraag", text="Wanneer hoor ik iets over mijn aanvraag?", email="a.visser@example.nl")
    mine = lift_case("Weer die kapotte lift in het stadhuis! Met de rolstoel kom je niet op de eerste verdieping.", email="a.visser@example.nl")
    other = CaseFactory(subject="Container", text="Mijn groene container aan de Kerkpad is niet geleegd.")
    old = lift_case(
        "De lift van het stadhuis is kapot, ik kon met mijn rolstoel niet naar boven.", received_on=today - datetime.timedelta(days=200), closed=True
    )
    found = similar_cases(mine.pk)
    keys = [s.case.pk for s in found]
    assert set(keys[:2]) == {first.pk, second.pk}
    assert same_sender.pk in keys and "sender" in next(s for s in found if s.case.pk == same_sender.pk).reasons
    assert other.pk not in keys  # about something else
    assert old.pk not in keys  # closed long ago: not compared
    assert mine.pk not in keys
    assert len(found) <= 5 and [s.score for s in found] == sorted((s.score for s in found), reverse=True)


def test_similar_cases_on_the_same_street_share_the_street(harlingen):
    one = CaseFactory(subject="Straatverlichting", text="In de Kerkpad is het 's avonds aardedonker, alle lantaarns zijn uit.")
    two = CaseFactory(subject="Donker", text="Sinds vrijdag brandt er geen enkele lamp meer in de Kerkpad.")
    found = similar_cases(one.pk)
    assert [s.case.pk for s in found] == [two.pk]
    assert "street" in found[0].reasons


def test_similar_cases_compare_a_bounded_pool_of_the_most_recent_cases(harlingen, monkeypatch):
    from cases.tagging import similar

    today = datetime.date.today()
    older = lift_case("De lift in het stadhuis is kapot, met mijn rolstoel kon ik niet naar boven.", received_on=today - datetime.timedelta(days=3))
    newer = lift_case("Vandaag weer: de lift van het stadhuis kapot, met de rolstoel niet naar boven.", received_on=today - datetime.timedelta(days=1))
    mine = lift_case("Die lift in het stadhuis is nog steeds kapot; met mijn rolstoel kom ik niet boven.")
    assert {s.case.pk for s in similar_cases(mine.pk)} == {older.pk, newer.pk}
    monkeypatch.setattr(similar, "SIMILAR_POOL_LIMIT", 1)
    assert [s.case.pk for s in similar_cases(mine.pk)] == [newer.pk]  # only the most recent candidate was compared
