"""The tagger's Django layer: tagging a new case, officers' corrections as training data, activation rules."""

import json

import pytest

from cases.models import CaseNorm, TaggerModel, TagStatus
from cases.tagging import _load, case_tag, tag_confirm, tag_reject, tagger_active, tagger_train, training_examples
from tests.factories import CaseFactory, officer

pytestmark = pytest.mark.django_db

WAIT = [
    "Ik heb een uur gewacht aan de balie zonder afspraak.",
    "Wachttijd bij het loket was weer veel te lang, drie kwartier!",
    "Zonder afspraak moest ik 50 minuten wachten in de hal.",
    "De wachtrij aan de balie was enorm, ik stond er een uur.",
    "Waarom moet je zo lang wachten bij burgerzaken zonder afspraak?",
    "Veertig minuten gewacht op mijn beurt bij de balie.",
    "Wachttijd balie belachelijk lang vandaag.",
    "Ik zat meer dan een half uur in de wachtruimte voor een uittreksel.",
]
PHONE = [
    "Ik hing twintig minuten in de wacht aan de telefoon.",
    "De telefoon werd pas na een kwartier opgenomen.",
    "Bellen met de gemeente: eindeloos wachtmuziek, niemand neemt op.",
    "Telefonisch wachten duurde weer veel te lang.",
    "Na 25 minuten wachten aan de lijn heb ik opgehangen.",
    "Waarom duurt het zo lang voordat de telefoon wordt opgenomen?",
    "Ik stond een half uur in de telefonische wachtrij.",
    "Telefoon wordt nooit snel opgenomen bij jullie.",
]
OTHER = [
    "Graag wil ik mijn nieuwe adres doorgeven.",
    "Hierbij de factuur voor de levering van kantoorartikelen.",
    "Bedankt voor de snelle hulp vorige week!",
    "Wanneer wordt het grofvuil opgehaald in mijn wijk?",
    "Uitnodiging voor de opening van het nieuwe dorpshuis.",
    "Ik wil graag een afspraak maken voor een paspoort.",
]


def write(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")


@pytest.fixture
def tiny_corpus(settings, tmp_path, harlingen):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rows = (
        [{"text": t, "kind": "complaint", "norms": ["BALIE-WACHTTIJD"]} for t in WAIT[:6]]
        + [{"text": t, "kind": "complaint", "norms": ["TEL-25SEC"]} for t in PHONE[:6]]
        + [{"text": t, "kind": "other", "norms": []} for t in OTHER[:4]]
    )
    held = (
        [{"text": t, "kind": "complaint", "norms": ["BALIE-WACHTTIJD"]} for t in WAIT[6:]]
        + [{"text": t, "kind": "complaint", "norms": ["TEL-25SEC"]} for t in PHONE[6:]]
        + [{"text": t, "kind": "other", "norms": []} for t in OTHER[4:]]
    )
    write(corpus / "train-tiny.jsonl", rows)
    write(corpus / "heldout.jsonl", held)
    settings.HANDVEST_CORPUS_DIR = corpus
    settings.HANDVEST_MODEL_DIR = tmp_path / "models"
    _load.cache_clear()
    return corpus


def test_new_case_is_tagged_after_registration_with_scores_and_version(settings, tiny_corpus, django_capture_on_commit_callbacks):
    settings.HANDVEST_TAG_ON_REGISTRATION = True
    with django_capture_on_commit_callbacks(execute=True):
        case = CaseFactory(subject="Klacht over de wachttijd", text="Ik heb vandaag een uur gewacht aan de balie, zonder afspraak.")
    model = TaggerModel.objects.get(active=True)
    result = tagger_active().tag("Klacht over de wachttijd\nIk heb vandaag een uur gewacht aan de balie, zonder afspraak.")
    stored = {t.norm.code: t for t in CaseNorm.objects.filter(case=case)}
    assert set(stored) == set(result.norms)
    assert max(result.norm_scores, key=result.norm_scores.get) == "BALIE-WACHTTIJD"
    for code, tag in stored.items():
        assert tag.model_version == model.version
        assert tag.score == pytest.approx(result.norm_scores[code])
        assert tag.status == TagStatus.SUGGESTED
    assert case.events.filter(kind="tag").exists() == bool(stored)


def test_officer_decisions_become_training_examples(tiny_corpus):
    case = CaseFactory(text="De balie was dicht en ik moest lang wachten.")
    tag_confirm(case_id=case.pk, code="BALIE-WACHTTIJD", actor=officer())
    tag_reject(case_id=case.pk, code="TEL-25SEC", actor=officer())
    [example] = training_examples()
    assert example["norms"] == ["BALIE-WACHTTIJD"]
    assert "lang wachten" in example["text"]
    assert case.events.filter(kind="tag", name="confirmed").count() == 1


def test_retraining_with_an_officer_correction_makes_a_new_model_version(tiny_corpus):
    first, activated, _ = tagger_train(force=True)
    assert activated and first.officer_examples == 0
    case = CaseFactory(text="Telefoon ging eindeloos over, pas na een half uur opgenomen.")
    tag_confirm(case_id=case.pk, code="TEL-25SEC", actor=officer())
    second, _, _ = tagger_train(force=True)
    assert second.version != first.version
    assert second.officer_examples == 1
    assert TaggerModel.objects.filter(active=True).get() == second


def test_a_worse_model_is_not_activated_unless_forced(tiny_corpus):
    from cases.tagging.training import HELDOUT_FILES, heldout_fingerprint

    current, _, _ = tagger_train(force=True)
    # Scores of the same held-out files as now: the guard compares them as they are (not scored again).
    scores = {"norm_micro_f1": 0.999, "kind_accuracy": 0.999, HELDOUT_FILES: heldout_fingerprint()}
    TaggerModel.objects.filter(pk=current.pk).update(version="older", scores=scores)
    current.refresh_from_db()
    new, activated, reason = tagger_train(force=False)
    assert not activated and "worse" in reason
    assert TaggerModel.objects.get(active=True).version == "older"
    forced, activated, _ = tagger_train(force=True)
    assert activated and TaggerModel.objects.get(active=True).pk == forced.pk


def test_the_real_style_held_out_files_are_scored_together_for_the_guard(tiny_corpus):
    """``heldout-real*.jsonl`` count as one set: the guard's ``real_`` scores are those of all of them."""
    from cases.tagging import heldout_scores, real_heldout_paths
    from nlp.core.corpus import read_jsonl
    from nlp.core.evaluate import evaluate

    write(tiny_corpus / "heldout-real.jsonl", [{"text": WAIT[6], "kind": "complaint", "norms": ["BALIE-WACHTTIJD"]}])
    # Labelled against its words on purpose: pooled with the first file, the F1 must drop.
    write(tiny_corpus / "heldout-real-extra.jsonl", [{"text": PHONE[6], "kind": "complaint", "norms": ["BALIE-WACHTTIJD"]}])
    model, _, _ = tagger_train(force=True)
    assert [path.name for path in real_heldout_paths()] == ["heldout-real-extra.jsonl", "heldout-real.jsonl"]
    tagger = tagger_active()
    pooled = evaluate(tagger, read_jsonl(tiny_corpus / "heldout-real-extra.jsonl") + read_jsonl(tiny_corpus / "heldout-real.jsonl"))
    first_only = evaluate(tagger, read_jsonl(tiny_corpus / "heldout-real.jsonl"))
    assert pooled["norm_micro_f1"] != first_only["norm_micro_f1"]
    assert model.scores["real_norm_micro_f1"] == pytest.approx(pooled["norm_micro_f1"])
    assert heldout_scores(tagger)["real_norm_micro_f1"] == pytest.approx(pooled["norm_micro_f1"])


def test_confirming_an_unknown_norm_code_is_refused(municipality):
    from django.core.exceptions import ValidationError

    case = CaseFactory()
    with pytest.raises(ValidationError, match="Onbekende norm"):
        tag_confirm(case_id=case.pk, code="TEL-BESTAATNIET", actor=officer())
    assert not CaseNorm.objects.filter(case=case).exists()


def test_a_retired_norm_is_no_new_tag_but_a_case_that_had_it_keeps_it(harlingen, caplog):
    import datetime

    from django.core.exceptions import ValidationError

    from cms.models import ServiceNorm

    had_it, new = CaseFactory(), CaseFactory()
    tag_confirm(case_id=had_it.pk, code="TEL-NUMMER", actor=officer())
    tag_reject(case_id=had_it.pk, code="TEL-NUMMER", actor=officer())
    ServiceNorm.objects.filter(code="TEL-NUMMER").update(active=False, retired_on=datetime.date(2026, 1, 1))
    with pytest.raises(ValidationError, match="TEL-NUMMER geldt niet meer"), caplog.at_level("WARNING"):
        tag_confirm(case_id=new.pk, code="TEL-NUMMER", actor=officer())
    assert "retired norm TEL-NUMMER refused" in caplog.text
    assert not CaseNorm.objects.filter(case=new).exists()
    assert tag_confirm(case_id=had_it.pk, code="TEL-NUMMER", actor=officer()).status == TagStatus.CONFIRMED  # a correction back


def test_tagging_again_after_a_correction_withdraws_only_the_taggers_open_suggestions(harlingen):
    from cases.tagging import tags_store_suggestions

    case = CaseFactory(text="onleesbare scan")
    scores = {"TEL-25SEC": 0.9, "BALIE-WACHTTIJD": 0.8, "WEB-24UUR": 0.7}
    tags_store_suggestions(case_id=case.pk, scores=scores, suggested=list(scores), model_version="v1")
    tag_confirm(case_id=case.pk, code="BALIE-WACHTTIJD", actor=officer())
    tag_reject(case_id=case.pk, code="WEB-24UUR", actor=officer())
    # Without replace (a repeated delivery of the same task) nothing is withdrawn.
    tags_store_suggestions(case_id=case.pk, scores={"TEL-TERUGBELLEN": 0.9}, suggested=["TEL-TERUGBELLEN"], model_version="v1")
    assert CaseNorm.objects.filter(case=case).count() == 4
    tags_store_suggestions(case_id=case.pk, scores={"TEL-TERUGBELLEN": 0.95}, suggested=["TEL-TERUGBELLEN"], model_version="v2", replace=True)
    tags = {t.norm.code: t.status for t in CaseNorm.objects.filter(case=case)}
    assert tags == {"BALIE-WACHTTIJD": TagStatus.CONFIRMED, "WEB-24UUR": TagStatus.REJECTED, "TEL-TERUGBELLEN": TagStatus.SUGGESTED}
    assert case.events.get(kind="tag", name="withdrawn").note == "TEL-25SEC"


def test_without_a_charter_the_commands_say_so_and_a_case_stays_untagged(db, caplog):
    import logging

    from django.core.management import CommandError, call_command

    for command in ("ensure_tagger", "train_tagger"):
        with pytest.raises(CommandError, match="load a charter first"):
            call_command(command)
    assert not TaggerModel.objects.exists()
    case = CaseFactory(text="Ik hing een uur in de wacht.")
    with caplog.at_level(logging.WARNING, logger="cases.tagging"):
        assert case_tag(case_id=case.pk) == []
    assert "not tagged" in caplog.text and not CaseNorm.objects.filter(case=case).exists()


def test_an_active_model_of_older_feature_code_is_replaced_not_used(tiny_corpus, tmp_path, caplog):
    import logging
    import shutil

    from nlp.core.tagger import CODE_VERSION, META_FILE

    current, _, _ = tagger_train(force=True)
    old_path = tmp_path / "old-model"
    shutil.copytree(current.path, old_path)
    meta = json.loads((old_path / META_FILE).read_text(encoding="utf-8"))
    meta["code_version"] = "1"
    (old_path / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    TaggerModel.objects.update(active=False)
    TaggerModel.objects.create(version="old-features", path=str(old_path), active=True, scores={})
    _load.cache_clear()
    with caplog.at_level(logging.WARNING, logger="cases.tagging"):
        tagger = tagger_active()
    assert tagger.code_version == CODE_VERSION and tagger.is_current
    assert TaggerModel.objects.get(active=True).version == current.version
    assert "code version 1" in caplog.text


def test_make_run_serves_while_the_tagger_trains_and_tags_what_arrived_meanwhile(settings, tiny_corpus, django_capture_on_commit_callbacks, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    from cases.tagging import active, cases_waiting_for_tags

    settings.HANDVEST_TAG_ON_REGISTRATION = True
    settings.HANDVEST_TAGGER_TRAIN_ON_DEMAND = False  # as `make run` sets it
    real_train = active.tagger_train
    monkeypatch.setattr(active, "tagger_train", lambda **kwargs: pytest.fail("a citizen's request trained the tagger"))
    with django_capture_on_commit_callbacks(execute=True):
        waiting = CaseFactory(subject="Wachttijd", text="Ik heb vandaag een uur gewacht aan de balie, zonder afspraak.")
        closed = CaseFactory(text="Ik hing twintig minuten in de wacht aan de telefoon.")
    type(closed).objects.filter(pk=closed.pk).update(state="closed")
    assert not TaggerModel.objects.exists() and not CaseNorm.objects.exists()
    assert list(cases_waiting_for_tags()) == [waiting]
    monkeypatch.setattr(active, "tagger_train", real_train)
    out = StringIO()
    call_command("ensure_tagger", "--tag-waiting", stdout=out)
    assert "1 waiting case(s) tagged" in out.getvalue()
    assert CaseNorm.objects.filter(case=waiting, norm__code="BALIE-WACHTTIJD").exists()
    assert not CaseNorm.objects.filter(case=closed).exists()  # a closed case is not tagged afterwards
    assert not cases_waiting_for_tags().exists()
    again = StringIO()
    call_command("ensure_tagger", "--tag-waiting", stdout=again)
    assert "0 waiting case(s) tagged" in again.getvalue()
    assert waiting.events.filter(kind="tag", name="suggested").count() == 1


def test_the_worker_finds_similar_cases_and_the_case_page_shows_them_and_the_uncertain_norms(client, settings, tiny_corpus, django_capture_on_commit_callbacks):
    from django.urls import reverse

    from cases.models import CaseEvent
    from cases.tagging import similar_stored

    settings.HANDVEST_TAG_ON_REGISTRATION = True
    text = "Ik heb vanochtend weer een uur aan de balie gewacht zonder afspraak, in de hal van het stadhuis aan de Noorderhaven."
    with django_capture_on_commit_callbacks(execute=True):
        first = CaseFactory(text=text, email="sietske@example.nl")
        again = CaseFactory(text=text + " Dit is de tweede keer deze week.", email="sietske@example.nl")
        other = CaseFactory(text="Graag wil ik mijn nieuwe adres doorgeven.", email="iemand@example.nl")
    found = similar_stored(again.pk)
    assert [item["case"] for item in found][:1] == [first]
    assert other not in [item["case"] for item in found]
    assert CaseEvent.objects.filter(case=again, name="similar", internal=True).exists()
    # An uncertain norm (below its threshold) recorded with the tagging is offered to the officer.
    CaseEvent.objects.create(case=again, kind="tag", name="suggested", data={"uncertain": [{"code": "TEL-25SEC", "score": 0.41, "explanation": []}]})
    client.force_login(officer())
    page = client.get(reverse("handvest_workspace:case", args=[again.pk])).content.decode()
    assert "Mogelijk over hetzelfde" in page and reverse("handvest_workspace:case", args=[first.pk]) in page
    assert "Onzeker" in page and 'data-candidate="TEL-25SEC"' in page and "41%" in page
