"""The tagger in the Django layer as the quality officer meets it: norms no longer in force, the kind
classifier's guess in triage, a corrupt model file at intake, suggestions of a corrected text, a retrain
judged on the same held-out files as the active model, and similar-case hints in a citizen's access export."""

import io
import json
import zipfile
from io import StringIO
from pathlib import Path

import pytest
import yaml

from cases import tagging
from cases.models import CaseNorm, TaggerModel, TagStatus
from cases.tagging import tag_candidates, tag_confirm, tags_store_suggestions
from tests.conftest import HARLINGEN
from tests.factories import CaseFactory, officer
from tests.test_tagger_django import PHONE, WAIT, tiny_corpus, write  # noqa: F401 (the tiny corpus fixture)

pytestmark = pytest.mark.django_db

EML = Path(__file__).parent / "fixtures" / "eml"


def publish_charter_without(tmp_path, code: str, *, retire_missing: bool):
    """Load a newer charter version (2027) that no longer lists ``code``, as `load_charter` does."""
    from cms.charter_loading import load_charter

    data = yaml.safe_load(HARLINGEN.read_text(encoding="utf-8"))
    data["key"] = "harlingen-2027"
    data["charter"]["year"] = 2027
    data["charter"]["title"] = "Kwaliteitshandvest Gemeente Harlingen 2027"
    data["norms"] = [norm for norm in data["norms"] if norm["code"] != code]
    path = tmp_path / "harlingen-2027.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_charter(path=path, retire_missing=retire_missing)


@pytest.mark.parametrize("retire_missing", [True, False], ids=["retired", "left-out-by-2027-version"])
def test_a_norm_no_longer_in_force_is_not_suggested_for_a_new_case(harlingen, tmp_path, retire_missing):
    """A model trained while TEL-25SEC held still suggests it; once the norm is retired, or a newer charter
    version left it out, a new case gets it neither as a tag nor as an uncertain suggestion."""
    from cms.models import ServiceNorm

    publish_charter_without(tmp_path, "TEL-25SEC", retire_missing=retire_missing)
    assert not ServiceNorm.objects.published_active().filter(code="TEL-25SEC").exists()
    case = CaseFactory(subject="Telefoon", text="Ik hing drie kwartier in de wacht toen ik belde.")
    scores = {"TEL-25SEC": 0.9, "TEL-BEJEGENING": 0.6, "TEL-OPENINGSTIJDEN": 0.3}
    suggested, uncertain = ["TEL-25SEC", "TEL-BEJEGENING"], ["TEL-25SEC", "TEL-OPENINGSTIJDEN"]
    tags_store_suggestions(case_id=case.pk, scores=scores, suggested=suggested, uncertain=uncertain, model_version="v1")
    assert set(CaseNorm.objects.filter(case=case).values_list("norm__code", flat=True)) == {"TEL-BEJEGENING"}
    assert [c.code for c in tag_candidates(case_id=case.pk)] == ["TEL-OPENINGSTIJDEN"]


def test_confirming_a_norm_a_newer_charter_version_left_out_is_refused(harlingen, tmp_path):
    """A norm the charter in force no longer holds (the 2027 version left it out) is refused as a new tag with a
    Dutch message, as a retired norm is, and nothing is stored."""
    from django.core.exceptions import ValidationError

    publish_charter_without(tmp_path, "TEL-NUMMER", retire_missing=False)
    case = CaseFactory(subject="Telefoonnummer", text="Het nummer 14 0517 werkt niet vanaf mijn mobiel.")
    with pytest.raises(ValidationError, match="TEL-NUMMER geldt niet meer"):
        tag_confirm(case_id=case.pk, code="TEL-NUMMER", actor=officer())
    assert not CaseNorm.objects.filter(case=case).exists()


def test_a_complaint_the_classifier_is_unsure_of_waits_in_triage_with_its_guess_and_confidence(municipality, client):
    """Mail the kind classifier thinks is a complaint, with less than 0.6, waits in triage with its guess: the
    officer who triages it reads, in Dutch, what the classifier thought and how sure it was."""
    from django.urls import reverse

    from cases.intake import classify
    from cases.intake.email import email_intake
    from cases.models import InboundMessage, InboundOutcome

    classify.set_kind_classifier(lambda text: ("complaint", 0.41))
    try:
        result = email_intake(raw=(EML / "plain-klacht.eml").read_bytes(), source="eml")
    finally:
        classify.set_kind_classifier(None)
    assert result.outcome == InboundOutcome.TRIAGE
    assert InboundMessage.objects.get().reason.startswith("other (classifier, uncertain: complaint? 0.41)")
    client.force_login(officer())
    page = client.get(reverse("handvest_triage:list")).content.decode()
    assert result.reference in page
    assert "Inschatting van de intake:</strong> misschien een klacht (41% zeker)" in page


def test_a_corrupt_model_file_does_not_break_the_import_of_mail(tiny_corpus, settings, django_capture_on_commit_callbacks):  # noqa: F811
    """The tagger never blocks or breaks intake: with a corrupt model file (a disk that filled up while it was
    written) an imported complaint is registered as a case, reported as such, and gets its acknowledgement;
    only its tagging waits."""
    from django.core.management import call_command

    from cases.models import Case, InboundMessage, OutgoingMessage
    from cases.tagging import tagger_train

    model, _activated, _reason = tagger_train(force=True)
    for path in Path(model.path).rglob("*"):
        if path.is_file() and path.suffix != ".json":
            path.write_bytes(b"\x00cut short")
    settings.HANDVEST_TAG_ON_REGISTRATION = True
    tagging._load.cache_clear()

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):  # as each commit runs them (robust ones logged, not raised)
        call_command("import_eml", str(EML / "plain-klacht.eml"), "--json", stdout=out)
    line = json.loads(out.getvalue().strip().splitlines()[0])
    case = Case.objects.get()
    assert line["outcome"] == "case", line
    assert InboundMessage.objects.get().outcome == "case"
    assert OutgoingMessage.objects.filter(case=case, kind="acknowledgement").exists()
    assert not CaseNorm.objects.filter(case=case).exists()  # its tagging waits


def test_uncertain_suggestions_of_the_old_text_go_when_a_letters_text_is_corrected(harlingen):
    """When a letter's text is corrected and the new text gives no suggestion at all, the uncertain ones of the
    old text ("onzeker") are no longer offered: the officer is not shown norms found in the wrong text."""
    case = CaseFactory(channel="post", subject="", text="Telefoon wordt nooit snel opgenomen bij jullie.")
    tags_store_suggestions(case_id=case.pk, scores={"TEL-OPENINGSTIJDEN": 0.3}, suggested=[], uncertain=["TEL-OPENINGSTIJDEN"], model_version="v1")
    assert [c.code for c in tag_candidates(case_id=case.pk)] == ["TEL-OPENINGSTIJDEN"]
    tags_store_suggestions(case_id=case.pk, scores={}, suggested=[], uncertain=[], model_version="v1", replace=True)  # the corrected text
    assert tag_candidates(case_id=case.pk) == []
    assert not CaseNorm.objects.filter(case=case, status=TagStatus.SUGGESTED).exists()


def test_a_retrain_is_judged_on_the_same_held_out_files_as_the_active_model(tiny_corpus):  # noqa: F811
    """A retrained model is activated unless it scores worse than the active model on the held-out files, both
    scored on the same files: an upgrade that ships a new, harder real-style held-out file does not make every
    later retrain look worse than the active model's old scores."""
    from cases.tagging import heldout_scores, tagger_train

    write(
        tiny_corpus / "heldout-real.jsonl",
        [{"text": WAIT[6], "kind": "complaint", "norms": ["BALIE-WACHTTIJD"]}, {"text": PHONE[6], "kind": "complaint", "norms": ["TEL-25SEC"]}],
    )
    active, _, _ = tagger_train(force=True)
    harder = [
        {"text": "Ik heb een uur gewacht in de hal voordat ik aan de beurt was.", "kind": "complaint", "norms": ["BALIE-WACHTTIJD"]},
        {"text": "Het duurde eindeloos voor er iemand opnam.", "kind": "complaint", "norms": ["TEL-25SEC"]},
        {"text": "Weer lang in de rij gestaan bij het loket.", "kind": "complaint", "norms": ["BALIE-WACHTTIJD"]},
    ]
    write(tiny_corpus / "heldout-real-new.jsonl", harder)  # the upgrade's new held-out file
    case = CaseFactory(text="Telefoon ging eindeloos over, pas na een half uur opgenomen.")
    tag_confirm(case_id=case.pk, code="TEL-25SEC", actor=officer())  # the weekly retrain learns from it

    tagging._load.cache_clear()
    active_today = heldout_scores(tagging._load(active.path))
    retrained, activated, reason = tagger_train(force=False)
    assert TaggerModel.objects.get(pk=active.pk).scores["heldout_files"] == retrained.scores["heldout_files"]  # compared on the same files
    for key in ("norm_micro_f1", "kind_accuracy", "real_norm_micro_f1"):
        assert retrained.scores[key] >= active_today[key], key
    assert activated, reason


def test_the_similar_case_hint_never_gives_a_citizen_the_number_of_someone_elses_case(harlingen):
    """Similar-case suggestions are a hint for officers. A citizen who asks for access (AVG art. 15) gets their own
    cases and nothing of anyone else, not even the registration number of a neighbour's case about the same thing."""
    from cases.records.subject_access import PersonQuery, subject_access_export
    from cases.tagging.similar import similar_store

    text = "De lift in het stadhuis is al twee weken kapot, met mijn rolstoel kon ik niet naar de eerste verdieping."
    neighbour = CaseFactory(subject="Lift stadhuis", text=text, name="Piet Bakker", email="piet.bakker@voorbeeld.nl")
    jan = CaseFactory(subject="Lift stadhuis", text=text.replace("twee", "drie"), name="Jan de Vries", email="jan.devries@voorbeeld.nl")
    similar_store(jan.pk)
    assert neighbour.pk in [item["case"].pk for item in tagging.similar_stored(jan.pk)]  # the officer's hint works

    _name, archive, _match = subject_access_export(query=PersonQuery(email="jan.devries@voorbeeld.nl"), actor=officer())
    exported = zipfile.ZipFile(io.BytesIO(archive)).read("inzage.json").decode()
    assert jan.registration.number in exported
    assert neighbour.registration.number not in exported
