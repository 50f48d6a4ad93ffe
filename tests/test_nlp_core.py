"""The Django-free tagger core (``nlp.core``): no database, a tiny corpus."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from nlp.core import (
    Message,
    Tagger,
    TaggerConfig,
    build_pipeline,
    ensure_model,
    evaluate,
    load_charter_labels,
    model_version,
    train,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
HARLINGEN = REPO_ROOT / "cms" / "charters" / "harlingen-2017.yaml"

LABELS = {
    "TEL-25SEC": ["in de wacht", "wachtmuziek"],
    "BALIE-BEJEGENING": ["onvriendelijk aan de balie", "baliemedewerker"],
    "WEB-24UUR": ["website offline", "storing"],
}
# Small and quick; only the ``tagger`` fixture also trains again on all messages after choosing thresholds.
TINY_CONFIG = TaggerConfig(min_df=1, min_examples=5, refit_on_all=False)

_PHONE = [
    "Ik hing een half uur in de wacht bij de gemeente.",
    "Weer twintig minuten wachtmuziek voordat iemand opnam!!",
    "telefonich kom je er niet door, eindeloos in de wacht",
    "Geachte heer, ik heb drie kwartier gewacht voor de telefoon werd opgenomen.",
    "Waarom duurt het zo lang voor er iemand opneemt als ik bel?",
    "wachtrij telefoon was weer 25 minuten vandaag",
    "Mevr. belde, geeft aan dat zij lang in de wacht stond.",
    "Bij het bellen stond ik een eeuwigheid in de wacht, belachelijk.",
    "Elke keer als ik bel hang ik minstens een kwartier in de wacht.",
    "Ik belde om 9 uur en pas om half 10 nam iemand op.",
]
_COUNTER = [
    "De baliemedewerker was ontzettend bot tegen mij.",
    "Aan de balie werd ik uitgelachen door de medewerker.",
    "onvriendelijk aan de balie, echt schandalig hoe je behandeld wordt",
    "De man achter het loket snauwde me af toen ik een vraag stelde.",
    "Geacht college, de baliemedewerker was onbeleefd en ongeduldig.",
    "Bij burgerzaken aan de balie werd ik heel onvriendelijk geholpen.",
    "Medewerkster aan de balie rolde met haar ogen en zuchtte alleen maar.",
    "Wat een onbeschofte behandeling aan de balie vanochtend.",
    "aan het loket werd ik afgeblaft, nooit meer",
    "De baliemedewerker gaf me een grote mond.",
]
_WEBSITE = [
    "De website lag er het hele weekend uit.",
    "Storing op de site, ik kon zondagavond niets aanvragen.",
    "website offline om 23 uur, foutmelding bij elke pagina",
    "Uw website is 's nachts niet bereikbaar door onderhoud.",
    "Vanavond gaf de site van de gemeente alleen een foutmelding.",
    "De gemeentelijke website werkt al twee dagen niet.",
    "Ik probeerde in het weekend op de website te komen maar die was offline.",
    "site ligt er weer uit, storing zeker",
    "Sinds gisteravond is www.harlingen.nl niet bereikbaar.",
    "Foutmelding 503 op de website van de gemeente, de hele nacht.",
]
_OUTSIDE = [
    "Er zit een groot gat in de weg bij de Kerkpad.",
    "Mijn container is weer niet geleegd deze week.",
    "De lantaarnpaal in onze straat is al weken kapot.",
    "De buren maken elke nacht lawaai.",
    "Mijn WOZ-waarde is veel te hoog vastgesteld.",
    "Er ligt overal hondenpoep in het park.",
]
_OTHER = [
    "Hierbij geef ik mijn nieuwe adres door: Voorstraat 12.",
    "Bedankt voor de snelle hulp bij mijn paspoort!",
    "Wanneer is het gemeentehuis open met Pasen?",
    "Bijgaand de factuur voor de geleverde werkzaamheden.",
    "Graag ontvang ik een uittreksel uit de BRP.",
    "Uitnodiging voor de opening van ons nieuwe buurthuis.",
]
_SUGGESTIONS = [
    ("Zet meer mensen op de telefoon in de ochtend, dan hoeft niemand zo lang in de wacht.", ["TEL-25SEC"]),
    ("Plant meer bomen in de Noorderhaven.", []),
    ("Misschien een training klantvriendelijkheid voor de baliemedewerkers?", ["BALIE-BEJEGENING"]),
    ("Doe het onderhoud aan de website op een doordeweekse nacht.", ["WEB-24UUR"]),
]


def tiny_corpus() -> list[Message]:
    messages = [Message(text, "complaint", ("TEL-25SEC",)) for text in _PHONE]
    messages += [Message(text, "complaint", ("BALIE-BEJEGENING",)) for text in _COUNTER]
    messages += [Message(text, "complaint", ("WEB-24UUR",)) for text in _WEBSITE]
    messages += [Message(text, "complaint", ()) for text in _OUTSIDE]
    messages += [Message(text, "other", ()) for text in _OTHER]
    messages += [Message(text, "suggestion", tuple(norms)) for text, norms in _SUGGESTIONS]
    messages.append(Message("Ik hing in de wacht en daarna was de baliemedewerker ook nog bot.", "complaint", ("BALIE-BEJEGENING", "TEL-25SEC")))
    return messages


def write_jsonl(path: Path, messages: list[Message]) -> Path:
    path.write_text("".join(json.dumps(m.to_dict(), ensure_ascii=False) + "\n" for m in messages), encoding="utf-8")
    return path


def write_charter(path: Path) -> Path:
    """A charter file whose norms are ``LABELS``, for the command-line tests."""
    path.write_text("norms:\n" + "".join(f"  - code: {code}\n    keywords: {json.dumps(words)}\n" for code, words in LABELS.items()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return train(tiny_corpus(), LABELS, config=dataclasses.replace(TINY_CONFIG, refit_on_all=True))


def test_charter_labels_are_the_norm_codes_of_the_file_with_their_keywords():
    labels = load_charter_labels(HARLINGEN)
    assert len(labels) == 29
    assert "wachtmuziek" in labels["TEL-25SEC"]
    assert list(labels)[0] == "TEL-OPENINGSTIJDEN"  # the charter's order


def test_a_norm_that_the_charter_file_no_longer_lists_is_no_label(tmp_path):
    charter = tmp_path / "charter.yaml"
    charter.write_text(
        "norms:\n  - code: TEL-25SEC\n    keywords: [in de wacht]\n  - code: WEB-24UUR\n",
        encoding="utf-8",
    )
    assert load_charter_labels(charter) == {"TEL-25SEC": ["in de wacht"], "WEB-24UUR": []}


def test_pipeline_is_built_from_the_given_label_set():
    nlp = build_pipeline(LABELS, TINY_CONFIG)
    assert nlp.pipe_names == ["lemmatizer", "handvest_features", "kind", "norms", "norm_gate"]
    assert "norm_gate" not in build_pipeline(LABELS, dataclasses.replace(TINY_CONFIG, norm_gate_floor=0.0, norm_gate_top=2.0)).pipe_names
    assert sorted(nlp.get_pipe("norms").labels) == sorted(LABELS)
    assert list(nlp.get_pipe("kind").labels) == ["complaint", "suggestion", "other"]
    assert nlp.get_pipe("lemmatizer").mode == "lookup"


def test_features_are_tf_idf_with_rare_keys_dropped_and_each_group_of_unit_length():
    from spacy.strings import hash_string

    nlp = build_pipeline(LABELS, TINY_CONFIG)
    extractor = nlp.get_pipe("handvest_features")
    texts = ["de wachtrij was lang", "de wachtrij was kort", "de balie was dicht", "zeldzaamheid"]
    extractor.fit([nlp.make_doc(text) for text in texts], min_df=2)
    columns = extractor._column_lookup()

    def features(text):
        row = extractor.featurize([nlp.make_doc(text)]).X[0]
        return dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))

    assert features("wachtrij")
    assert features("zeldzaamheid") == {}  # in one training message only: no column at all
    value = features("de wachtrij")
    # "de" is in three of four messages, "wachtrij" in two: the rarer word weighs more.
    wachtrij, de = columns[hash_string("L:wachtrij")], columns[hash_string("L:de")]
    assert value[wachtrij] > value[de] > 0
    # The lemma group (as every other group) is scaled to unit length.
    assert abs(value[wachtrij] ** 2 + value[de] ** 2 - 1.0) < 1e-5


def test_a_corpus_too_small_for_min_df_gives_a_warning_and_a_model_that_still_tags():
    tagger = train(tiny_corpus(), LABELS, config=dataclasses.replace(TINY_CONFIG, min_df=1000))
    assert any("knows no features" in warning for warning in tagger.report["warnings"])
    result = tagger.tag("Ik hing een half uur in de wacht.")
    assert set(result.norm_scores) == set(LABELS) and result.kind in ("complaint", "suggestion", "other")


def test_training_on_a_tiny_corpus_tags_kind_and_norms(tagger):
    result = tagger.tag("Ik stond vanochtend weer veertig minuten in de wacht toen ik de gemeente belde.")
    assert result.kind == "complaint"
    assert result.norms[0] == "TEL-25SEC"
    assert set(result.norm_scores) == set(LABELS)
    assert abs(sum(result.kind_scores.values()) - 1.0) < 1e-4
    assert result.version == tagger.version


def test_a_message_about_no_norm_gets_none(tagger):
    assert tagger.tag("De vuilniszak is weer niet opgehaald in onze straat.").norms == []


def test_the_explanation_names_the_words_that_weighed_most(tagger):
    result = tagger.tag("De baliemedewerker was heel onvriendelijk.")
    assert "BALIE-BEJEGENING" in result.norms
    assert "baliemedewerker" in result.explain["BALIE-BEJEGENING"]
    assert len(result.explain["BALIE-BEJEGENING"]) <= 5


def test_save_and_load_give_the_same_scores(tagger, tmp_path):
    tagger.save(tmp_path / "model")
    loaded = Tagger.load(tmp_path / "model")
    text = "website offline en daarna ook nog in de wacht bij het bellen"
    assert loaded.version == tagger.version
    assert loaded.thresholds == tagger.thresholds
    assert loaded.tag(text).norm_scores == pytest.approx(tagger.tag(text).norm_scores, abs=1e-6)
    assert loaded.tag(text).kind_scores == pytest.approx(tagger.tag(text).kind_scores, abs=1e-6)


def test_a_loaded_model_reads_its_own_compact_lemma_table_and_leaves_the_lemmatizer_out(tagger, tmp_path):
    from nlp.core.lemmas import LemmaTable

    spacy_table = tagger.nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    compact = LemmaTable.from_table(spacy_table)
    words = ["liep", "huizen", "gebeld", "wachtte", "medewerkers", "xyzzy-onbekend", "", "Balie"]
    assert [compact.get(word, "-") for word in words] == [spacy_table.get(word, "-") for word in words]
    assert len(compact) == len(spacy_table) and len(compact.lemmas) < len(compact)
    tagger.save(tmp_path / "model")
    assert not (tmp_path / "model" / "pipeline" / "lemmatizer").exists()  # its table is saved once, compact
    loaded = Tagger.load(Tagger.load(tmp_path / "model").save(tmp_path / "again"))  # a loaded model saves and loads again
    assert "lemmatizer" not in loaded.nlp.pipe_names
    # Inflected forms that only the lemma table joins: the loaded model weighs them as the trained one does.
    texts = ["Ik werd niet teruggebeld en de medewerkers waren onvriendelijk.", "De websites gaven verkeerde informatie; ik liep naar de balie."]
    assert [(r.norms, r.explain) for r in loaded.pipe(texts, explain=True)] == [(r.norms, r.explain) for r in tagger.pipe(texts, explain=True)]
    assert [r.norm_scores for r in loaded.pipe(texts)] == [pytest.approx(r.norm_scores, abs=1e-9) for r in tagger.pipe(texts)]


def test_tag_many_gives_the_same_result_as_tag(tagger):
    texts = [m.text for m in tiny_corpus()[:12]]
    assert [r.norm_scores for r in tagger.tag_many(texts)] == [tagger.tag(t, explain=False).norm_scores for t in texts]


def test_the_version_changes_when_the_corpus_changes():
    corpus = tiny_corpus()
    version = model_version(corpus, LABELS, TINY_CONFIG)
    assert model_version(tiny_corpus(), dict(reversed(list(LABELS.items()))), TINY_CONFIG) == version
    assert model_version([*corpus, Message("Nog een klacht over de wachttijd.", "complaint", ("TEL-25SEC",))], LABELS, TINY_CONFIG) != version
    assert model_version(corpus[:-1], LABELS, TINY_CONFIG) != version
    assert model_version(corpus, {**LABELS, "WEB-24UUR": ["storing", "onderhoud"]}, TINY_CONFIG) != version
    assert model_version(corpus, LABELS, dataclasses.replace(TINY_CONFIG, C=4.0)) != version


def test_a_retired_norm_drops_out_of_the_labels_and_the_training_data():
    retired = {code: keywords for code, keywords in LABELS.items() if code != "WEB-24UUR"}
    tagger = train(tiny_corpus(), retired, config=TINY_CONFIG)
    assert tagger.labels == sorted(retired)
    assert "WEB-24UUR" not in tagger.tag("De website lag er het hele weekend uit.").norm_scores
    assert tagger.report["dropped_codes"] == {"WEB-24UUR": 11}
    assert tagger.report["messages"] == len(tiny_corpus())  # the messages stay, without that code


def test_a_norm_with_too_few_examples_is_reported(tagger):
    # The tiny corpus is too small for a learned decision (``decision.MIN_MESSAGES``): its only warning.
    assert [warning for warning in tagger.report["warnings"] if not warning.startswith("no learned decision")] == []
    assert len(tagger.report["warnings"]) == 1
    few = train(tiny_corpus(), {**LABELS, "TEL-GROET": ["goedemiddag"]}, config=TINY_CONFIG)
    assert any(warning.startswith("TEL-GROET: 0 training messages") for warning in few.report["warnings"])


def test_ensure_model_trains_once_and_then_loads_the_cached_model(tmp_path):
    corpus = write_jsonl(tmp_path / "train-tiny.jsonl", tiny_corpus())
    first = ensure_model(tmp_path / "models", [corpus], LABELS, config=TINY_CONFIG)
    assert (tmp_path / "models" / first.version / "tagger.json").exists()
    second = ensure_model(tmp_path / "models", [corpus], LABELS, config=TINY_CONFIG, progress=pytest.fail)
    assert second.version == first.version


def test_evaluate_reports_the_contract_keys(tagger):
    result = evaluate(tagger, tiny_corpus())
    for key in ("norm_micro_f1", "norm_macro_f1", "kind_accuracy", "exact_match", "per_norm", "kind_confusion", "no_norm_empty_share"):
        assert key in result
    assert set(result["per_norm"]["TEL-25SEC"]) >= {"precision", "recall", "f1", "support"}
    assert result["per_norm"]["TEL-25SEC"]["support"] == 12
    assert sum(result["kind_confusion"]["other"].values()) == 6


def test_the_command_line_evaluation_prints_one_json_object(tmp_path):
    corpus_dir = tmp_path / "corpus"
    corpus_dir.mkdir()
    write_jsonl(corpus_dir / "train-tiny.jsonl", tiny_corpus())
    test_file = write_jsonl(tmp_path / "heldout.jsonl", tiny_corpus()[::3])
    charter = write_charter(tmp_path / "charter.yaml")
    command = [sys.executable, "-m", "nlp", "evaluate", str(test_file), "--json", "--baseline"]
    command += ["--model-dir", str(tmp_path / "models"), "--corpus-dir", str(corpus_dir), "--charter", str(charter)]
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=300)
    result = json.loads(completed.stdout)
    for key in ("norm_micro_f1", "norm_macro_f1", "kind_accuracy", "exact_match", "per_norm"):
        assert key in result
        assert key in result["baseline"]
    assert set(result["per_norm"]) == set(LABELS)


def test_the_core_imports_no_django():
    code = "import sys, nlp.core, nlp.core.cli; sys.exit(any(m.split('.')[0] == 'django' for m in sys.modules))"
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True, timeout=120)


def test_random_folds_put_every_message_in_exactly_one_test_part():
    from nlp.core.corpus import random_folds

    corpus = tiny_corpus()
    folds = random_folds(corpus, 3)
    tested = [m for fold in folds for m in fold.test]
    assert sorted(m.text for m in tested) == sorted(m.text for m in corpus)
    for fold in folds:
        assert not {m.text for m in fold.test} & {m.text for m in fold.training}
    with pytest.raises(ValueError, match="two folds"):
        random_folds(corpus, 1)


def test_cross_validation_by_file_scores_each_file_with_a_model_that_never_saw_it():
    from nlp.core.crossval import cross_validate, folds_by_group

    corpus = tiny_corpus()
    groups = {"train-a.jsonl": corpus[0::2], "train-b.jsonl": corpus[1::2], "train-none.jsonl": [Message("Dank voor de snelle hulp!", "other", ())]}
    folds = folds_by_group(groups)
    assert [len(fold.training) for fold in folds] == [len(corpus) - len(corpus[0::2]) + 1, len(corpus) - len(corpus[1::2]) + 1, len(corpus)]
    result = cross_validate(folds, LABELS, config=TINY_CONFIG)
    assert result["messages"] == len(corpus) + 1
    assert [fold["name"] for fold in result["folds"]] == list(groups)
    assert result["folds"][2]["norm_micro_f1"] is None  # no norm in that file: no F1, not a zero
    assert 0.5 < result["norm_micro_f1"] <= 1.0  # the tiny corpus's two halves do teach each other
    for key in ("norm_macro_f1", "kind_accuracy", "exact_match", "per_norm"):
        assert key in result


def test_cross_validation_trains_as_production_only_when_asked(monkeypatch):
    """Without ``refit`` a fold's model is the one trained on its validation share's rest (half the time);
    with it, the configuration's own refit on all of the fold's messages is kept."""
    import importlib

    crossval_module = importlib.import_module("nlp.core.crossval")
    seen = []
    real_train = crossval_module.train

    def recording_train(messages, labels, *, config):
        seen.append(config.refit_on_all)
        return real_train(messages, labels, config=config)

    monkeypatch.setattr(crossval_module, "train", recording_train)
    folds = crossval_module.folds_by_group({"train-a.jsonl": tiny_corpus()[0::2], "train-b.jsonl": tiny_corpus()[1::2]})
    config = dataclasses.replace(TINY_CONFIG, refit_on_all=True)
    crossval_module.cross_validate(folds, LABELS, config=config)
    crossval_module.cross_validate(folds, LABELS, config=config, refit=True)
    assert seen == [False, False, True, True]


def test_the_command_line_cross_validation_reads_only_the_training_files(tmp_path):
    corpus_dir = tmp_path / "corpus"
    corpus_dir.mkdir()
    write_jsonl(corpus_dir / "train-a.jsonl", tiny_corpus()[0::2])
    write_jsonl(corpus_dir / "train-b.jsonl", tiny_corpus()[1::2])
    (corpus_dir / "heldout.jsonl").write_text("not json: reading this file would fail\n", encoding="utf-8")
    charter = write_charter(tmp_path / "charter.yaml")
    command = [sys.executable, "-m", "nlp", "crossval", "--json", "--corpus-dir", str(corpus_dir), "--charter", str(charter)]
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=300)
    result = json.loads(completed.stdout)
    assert [fold["name"] for fold in result["folds"]] == ["train-a.jsonl", "train-b.jsonl"]
    assert result["messages"] == len(tiny_corpus())
    # --leave-out: only the named files are left out; the others always train (a new file's worth is
    # measured on the folds of the files that were there before it).
    completed = subprocess.run([*command, "--leave-out", "train-a.jsonl"], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=300)
    result = json.loads(completed.stdout)
    assert [fold["name"] for fold in result["folds"]] == ["train-a.jsonl"] and result["messages"] == len(tiny_corpus()[0::2])
    refused = subprocess.run([*command, "--leave-out", "train-c.jsonl"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "no such training file: train-c.jsonl" in refused.stderr


# --- speed and batches --------------------------------------------------------------------------


def test_importing_the_tagger_does_not_import_scikit_learn():
    code = "import sys, nlp.core.tagger, nlp.core.store, nlp.core; sys.exit(2 if 'sklearn' in sys.modules else 0)"
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, timeout=120)
    assert completed.returncode == 0, "import nlp.core.tagger pulled in scikit-learn"


def test_pipe_gives_exactly_what_tag_gives_whatever_the_batch(tagger):
    texts = [m.text for m in tiny_corpus()] + ["", "   ", "Eén zin.\n\nEn nog een, met een regel ertussen!"]
    alone = [tagger.tag(text, explain=False) for text in texts]
    for batch_size in (1, 4, 256):
        together = list(tagger.pipe(texts, batch_size=batch_size))
        assert [r.norm_scores for r in together] == [r.norm_scores for r in alone]
        assert [r.kind_scores for r in together] == [r.kind_scores for r in alone]
        assert [(r.norms, r.uncertain) for r in together] == [(r.norms, r.uncertain) for r in alone]
    reversed_batch = list(tagger.pipe(list(reversed(texts))))
    assert [r.norm_scores for r in reversed(reversed_batch)] == [r.norm_scores for r in alone]


def test_spacy_pipeline_gives_the_same_scores_as_the_tagger(tagger):
    text = "Ik hing in de wacht.\nDaarna was de baliemedewerker ook nog bot."
    doc = tagger.nlp(text)
    result = tagger.tag(text, explain=False)
    assert {code: doc.cats[code] for code in tagger.labels} == pytest.approx(result.norm_scores, abs=1e-6)
    assert {kind: doc.cats[kind] for kind in tagger.kinds} == pytest.approx(result.kind_scores, abs=1e-6)


def test_explanations_are_given_only_when_asked(tagger):
    text = "De baliemedewerker was heel onvriendelijk."
    assert list(tagger.pipe([text]))[0].explain == {}
    explained = list(tagger.pipe([text], explain=True))[0]
    assert explained.norms and set(explained.explain) == set(explained.norms + explained.uncertain)


def test_the_best_sentence_lifts_a_norm_buried_in_a_long_letter(tagger):
    filler = "Ik woon al dertig jaar in deze mooie stad en heb veel meegemaakt. " * 6
    buried = filler + "\nToen ik belde hing ik een half uur in de wacht."
    without_sentences = Tagger(tagger.nlp, tagger.thresholds, version=tagger.version)
    without_sentences._sentence_weight = 0.0
    column = tagger.labels.index("TEL-25SEC")
    pooled, whole = tagger.raw_scores([buried])[1][0, column], without_sentences.raw_scores([buried])[1][0, column]
    assert pooled > whole
    # A message of one sentence is its own best sentence: pooling changes nothing.
    single = "Toen ik belde hing ik een half uur in de wacht."
    assert tagger.raw_scores([single])[1][0, column] == without_sentences.raw_scores([single])[1][0, column]


# --- calibrated scores and uncertain suggestions -------------------------------------------------


def test_platt_calibration_tames_over_confident_scores():
    import numpy as np

    from nlp.core.calibration import fit_calibration

    rng = np.random.default_rng(0)
    true_logits = rng.normal(-1.0, 2.0, (2000, 2))
    truth = rng.random(true_logits.shape) < 1 / (1 + np.exp(-true_logits))
    # Scores twice as confident as they should be.
    logits = 2 * true_logits
    calibration = fit_calibration(logits, truth, np.ones(len(logits)), prior=10.0)
    assert np.all(np.abs(calibration.slope - 0.5) < 0.1)
    probabilities = calibration.probabilities(logits)
    confident = probabilities > 0.8
    assert abs(truth[confident].mean() - probabilities[confident].mean()) < 0.1


def test_calibration_is_folded_into_the_weights_and_reported(tagger):
    import numpy as np

    from nlp.core.calibration import Calibration

    assert set(tagger.report["calibration"]) == set(tagger.labels)
    calibration = Calibration(np.array([2.0, 0.5, 1.0]), np.array([-1.0, 0.3, 0.0]))
    weights, bias = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 1.0]], dtype="float32"), np.array([0.1, 0.2, 0.3], dtype="float32")
    folded_w, folded_b = calibration.fold(weights, bias)
    x = np.array([0.7, 0.3])
    assert x @ folded_w + folded_b == pytest.approx(calibration.logits(x @ weights + bias), abs=1e-5)


def test_cross_fitted_calibration_scores_every_message_with_a_model_that_did_not_train_on_it(monkeypatch):
    """With ``calibration_folds`` each training message is scored once, by a model trained without it;
    calibration and thresholds rest on all of them, and the model that tags trained on every message."""
    import importlib

    train_module = importlib.import_module("nlp.core.train")
    trained_on: list[set[str]] = []
    scored_by: dict[str, int] = {}
    real_fit, real_probe = train_module.fit, train_module._probe

    def recording_fit(nlp, messages, config, **kwargs):
        trained_on.append({m.text for m in messages})
        nlp._handvest_fit_index = len(trained_on) - 1
        return real_fit(nlp, messages, config, **kwargs)

    def recording_probe(nlp):
        probe = real_probe(nlp)
        validation_scores = probe.validation_scores

        def recording_validation_scores(texts, **kwargs):
            texts = list(texts)
            for text in texts:
                assert text not in scored_by, "a message was scored twice"
                scored_by[text] = nlp._handvest_fit_index
            return validation_scores(texts, **kwargs)

        probe.validation_scores = recording_validation_scores
        return probe

    # The gates the decision is fitted on are the scored messages' own, in the order they were scored.
    scored_gates: list = []
    real_fit_decision = train_module.fit_decision

    def recording_probe_gates(nlp):
        probe = recording_probe(nlp)
        recorded = probe.validation_scores

        def with_gates(texts, **kwargs):
            kinds, logits, gates = recorded(texts, **kwargs)
            scored_gates.extend(gates.tolist())
            return kinds, logits, gates

        probe.validation_scores = with_gates
        return probe

    def checking_fit_decision(probabilities, thresholds, gates, gold, weights, **kwargs):
        assert gates.tolist() == scored_gates and len(gates) == len(probabilities) == len(gold)
        return real_fit_decision(probabilities, thresholds, gates, gold, weights, **kwargs)

    monkeypatch.setattr(train_module, "fit", recording_fit)
    monkeypatch.setattr(train_module, "_probe", recording_probe_gates)
    monkeypatch.setattr(train_module, "fit_decision", checking_fit_decision)
    corpus = tiny_corpus()
    tagger = train(corpus, LABELS, config=dataclasses.replace(TINY_CONFIG, calibration_folds=3))
    texts = {m.text for m in corpus}
    assert len(trained_on) == 4  # three parts, then the model that tags
    assert trained_on[-1] == texts
    assert set(scored_by) == texts
    assert all(text not in trained_on[model] for text, model in scored_by.items())
    assert sorted(len(texts - seen) for seen in trained_on[:3]) == sorted(len([t for t, m in scored_by.items() if m == k]) for k in range(3))
    assert tagger.report["validation_messages"] == len(corpus) and tagger.report["fit_messages"] == len(corpus)
    assert tagger.tag("Ik hing een half uur in de wacht bij de gemeente.").norms == ["TEL-25SEC"]


@pytest.mark.parametrize(
    ("messages", "config", "fits"),
    [
        (3, TINY_CONFIG, 1),  # too few for a validation split: one fit on all of them
        (None, dataclasses.replace(TINY_CONFIG, calibration_folds=0), 1),
        (None, dataclasses.replace(TINY_CONFIG, calibration_folds=0, refit_on_all=True), 2),
        (None, dataclasses.replace(TINY_CONFIG, calibration_folds=3), 4),
    ],
)
def test_the_progress_counts_the_fits_the_training_makes(messages, config, fits):
    """A progress bar over the whole training has ``steps × rounds`` steps: ``rounds`` is the number of
    fits this training makes, also when the corpus is too small to set a validation part apart."""
    corpus = tiny_corpus()[:messages] if messages else tiny_corpus()
    seen = []
    tagger = train(corpus, LABELS, config=config, progress=seen.append)
    assert {step.rounds for step in seen} == {fits}
    assert len(seen) == fits * seen[0].steps
    assert tagger.report["fits"] == fits


@pytest.mark.parametrize("learned", [False, True])
def test_the_training_reports_validation_figures_are_what_tagging_does(monkeypatch, learned):
    """The report's validation figures decide by the same rules as tagging (``TaggingRules``): with a
    strict relative floor and a gate that gives every message not of kind "other" its best norm, the
    report equals tagging the validation messages with the model that scored them, and differs from
    thresholds alone. Before, a model without a learned decision was reported without those two rules."""
    from nlp.core import decision as decision_module
    from nlp.core.corpus import split_validation
    from nlp.core.metrics import norm_scores

    monkeypatch.setattr(decision_module, "MIN_MESSAGES", 0)
    config = dataclasses.replace(TINY_CONFIG, calibration_folds=0, refit_on_all=False, relative_floor=0.9, norm_gate_top=0.0, learned_decision=learned)
    corpus = tiny_corpus()
    tagger = train(corpus, LABELS, config=config)
    assert (tagger.decision is not None) == learned
    _, validation = split_validation(corpus, config.validation_share)
    assert validation and tagger.report["validation_messages"] == len(validation)
    results = list(tagger.pipe([m.text for m in validation]))
    tagged = norm_scores([m.norms for m in validation], [r.norms for r in results], tagger.labels)
    assert tagger.report["validation"]["norm_micro_f1"] == pytest.approx(tagged["norm_micro_f1"])
    assert tagger.report["validation"]["per_norm"] == tagged["per_norm"]
    if not learned:  # the two rules changed something, so the comparison above could fail
        by_threshold = [[c for c in tagger.labels if r.norm_scores[c] >= tagger.thresholds[c]] for r in results]
        assert by_threshold != [r.norms for r in results]


def test_uncertain_norms_are_the_best_scored_below_their_threshold(tagger):
    tagger = Tagger(tagger.nlp, tagger.thresholds, version="no gate", config={**tagger.config, "norm_gate_floor": 0.0, "norm_gate_top": 2.0})
    for text in [m.text for m in tiny_corpus()] + ["Ik hing in de wacht bij de balie.", "Een vraag over mijn paspoort."]:
        result = tagger.tag(text, explain=False)
        top = result.ranked(3)
        assert set(result.uncertain) <= set(top)
        # Uncertain: below its threshold, or held back by a tagging rule (see the test below).
        over = [score for code, score in result.norm_scores.items() if score >= tagger.thresholds[code]]
        best = max(over, default=0.0)
        for code in result.uncertain:
            score = result.norm_scores[code]
            assert score < tagger.thresholds[code] or score < tagger.config.get("relative_floor", 0.0) * best or result.kind == "other"
        assert all(result.norm_scores[code] >= tagger.thresholds[code] for code in result.norms)
        assert not set(result.uncertain) & set(result.norms)


def test_tagging_rules_hold_back_side_norms_and_norms_of_messages_that_are_no_complaint(tagger):
    """``relative_floor``: a norm besides the best suggested one needs half its score; ``other_has_no_norms``:
    a message the kind classifier calls 'other' gets no suggested norm (its best stay visible as uncertain)."""
    everything = {code: 0.0 for code in tagger.labels}  # every norm over its threshold: only the rules decide
    plain = Tagger(tagger.nlp, everything, version="plain", config={"relative_floor": 0.0, "other_has_no_norms": False})
    ruled = Tagger(tagger.nlp, everything, version="ruled", config={"relative_floor": 0.5, "other_has_no_norms": True})
    texts = [m.text for m in tiny_corpus()]
    kinds = set()
    for before, after in zip(plain.pipe(texts), ruled.pipe(texts), strict=True):
        kinds.add(after.kind)
        assert before.norm_scores == after.norm_scores and before.kind == after.kind
        assert len(before.norms) == len(tagger.labels)
        if after.kind == "other":
            assert after.norms == [] and after.uncertain == [code for code in before.ranked(3) if after.norm_scores[code] >= 0.1]
            continue
        best = max(after.norm_scores.values())
        assert after.norms == [code for code in before.norms if after.norm_scores[code] >= 0.5 * best]
    assert {"other", "complaint"} <= kinds  # both rules were exercised
    # A decided kind (a case is a complaint or a suggestion) wins over the classifier's guess of 'other'.
    guessed_other = [text for text, result in zip(texts, ruled.pipe(texts), strict=True) if result.kind == "other"]
    decided = list(ruled.pipe(guessed_other, kinds=["complaint"] * len(guessed_other)))
    assert all(result.norms for result in decided)
    assert ruled.tag(guessed_other[0], kind="complaint").norms == decided[0].norms
    assert ruled.tag(guessed_other[0]).norms == []


def test_the_norm_gate_holds_back_every_norm_of_a_message_about_none_and_gives_a_sure_one_its_best(tagger):
    """``norm_gate_floor``: below it no norm is suggested (they stay visible as uncertain);
    ``norm_gate_top``: at or above it a message with none suggested gets its best-scored norm, unless it is
    'other'. The gate is a classifier of its own, trained on whether a message concerns any norm."""
    assert "norm_gate" in tagger.nlp.pipe_names and tagger.config["norm_gate_floor"] > 0
    texts = [m.text for m in tiny_corpus()]
    gate = tagger._score(list(tagger.nlp.tokenizer.pipe(texts)))[4].tolist()
    # The gate's column, read as spaCy's own component scores it (the whole message, a sigmoid).
    assert gate == pytest.approx([tagger.nlp(text).cats["any"] for text in texts], abs=1e-5)
    about_none = [p for p, m in zip(gate, tiny_corpus(), strict=True) if not m.norms]
    about_some = [p for p, m in zip(gate, tiny_corpus(), strict=True) if m.norms]
    assert about_none and about_some and sum(about_none) / len(about_none) < sum(about_some) / len(about_some)
    off = {**tagger.config, "norm_gate_floor": 0.0, "norm_gate_top": 2.0}
    ungated = Tagger(tagger.nlp, tagger.thresholds, version="off", config=off)
    closed = Tagger(tagger.nlp, tagger.thresholds, version="closed", config={**off, "norm_gate_floor": 1.01})
    for before, after in zip(ungated.pipe(texts), closed.pipe(texts), strict=True):
        assert after.norms == [] and after.norm_scores == before.norm_scores
        assert set(before.norms) & set(before.ranked(3)) <= set(after.uncertain)
    never = {code: 1.01 for code in tagger.labels}  # no norm reaches its threshold: only the gate adds
    for rule in (True, False):  # the gate never adds a norm to 'other' mail, whatever the rule for 'other'
        opened = Tagger(tagger.nlp, never, version="open", config={**off, "norm_gate_top": 0.0, "other_has_no_norms": rule})
        for text, result in zip(texts, opened.pipe(texts), strict=True):
            assert result.norms == ([] if result.kind == "other" else result.ranked(1)), text
        assert opened.tag(texts[0], kind="other").norms == []


def test_a_tagger_saved_without_a_gate_tags_as_before(tmp_path):
    plain = train(tiny_corpus(), LABELS, config=dataclasses.replace(TINY_CONFIG, norm_gate_floor=0.0, norm_gate_top=2.0))
    assert "norm_gate" not in plain.nlp.pipe_names
    loaded = Tagger.load(plain.save(tmp_path / "plain"))
    texts = [m.text for m in tiny_corpus()]
    assert [r.norms for r in loaded.pipe(texts)] == [r.norms for r in plain.pipe(texts)]


def test_recall_at_k_counts_annotated_norms_among_the_best_ranked():
    from nlp.core.metrics import recall_at_k

    gold = [("A", "B"), ("C",), ()]
    ranked = [["A", "X", "Y", "B"], ["Y", "C", "X"], ["A", "B", "C"]]
    assert recall_at_k(gold, ranked, 3) == pytest.approx(2 / 3)
    assert recall_at_k(gold, ranked, 1) == pytest.approx(1 / 3)
    assert recall_at_k([(), ()], ranked[:2], 3) is None


def test_the_scores_by_number_of_annotated_norms_tell_over_tagging_from_a_missed_second_norm(tagger):
    from nlp.core.metrics import by_norm_count

    gold = [(), (), ("A",), ("A",), ("B",), ("A", "B"), ("A", "B", "C")]
    predicted = [(), ("A",), ("A", "B"), ("A",), (), ("A", "B"), ("A",)]
    groups = by_norm_count(gold, predicted)
    assert groups["0"] == {"messages": 2, "exact_match": 0.5, "precision": 0.0, "recall": None, "extra_norms": 1, "missed_norms": 0}
    assert groups["1"] == {
        "messages": 3,
        "exact_match": pytest.approx(1 / 3),
        "precision": pytest.approx(2 / 3),
        "recall": pytest.approx(2 / 3),
        "extra_norms": 1,
        "missed_norms": 1,
    }
    assert groups["2+"] == {"messages": 2, "exact_match": 0.5, "precision": 1.0, "recall": pytest.approx(3 / 5), "extra_norms": 0, "missed_norms": 2}
    assert by_norm_count([], [])["1"] == {"messages": 0, "exact_match": None, "precision": None, "recall": None, "extra_norms": 0, "missed_norms": 0}
    # The evaluation carries them, counted from the same suggestions as its other scores.
    result = evaluate(tagger, tiny_corpus())
    counted = result["by_norm_count"]
    assert sum(group["messages"] for group in counted.values()) == result["messages"]
    assert counted["0"]["messages"] == result["no_norm_messages"]
    hits = sum(n["precision"] * n["predicted"] for n in result["per_norm"].values())
    assert sum(group["extra_norms"] for group in counted.values()) == pytest.approx(sum(n["predicted"] for n in result["per_norm"].values()) - hits)
    assert sum(group["missed_norms"] for group in counted.values()) == pytest.approx(sum(n["support"] for n in result["per_norm"].values()) - hits)


# --- channel and topic cues ---------------------------------------------------------------------


def cue_features(text):
    from nlp.core.cues import cue_names
    from nlp.core.features import _sentence_cue_bits

    nlp = build_pipeline(LABELS, TINY_CONFIG)
    extractor = nlp.get_pipe("handvest_features")
    words = [extractor.word(token.orth) for token in nlp.make_doc(text)]
    from nlp.core.cues import cue_ids

    names = cue_names()
    return [{names[i] for i in cue_ids(bits, context)} for bits, context in _sentence_cue_bits(words)]


def test_a_long_run_without_punctuation_is_cut_into_sentences_the_same_way_everywhere(tagger):
    """A message typed as one run of words still gets sentence rows (parts of at most
    ``sentence_max_tokens`` tokens), and the cues (token by token) cut it where the features do."""
    from nlp.core.features import _sentence_token_spans

    run = " ".join(["ik", "belde", "de", "gemeente", "maar", "niemand", "nam", "op"] * 7)  # 56 words, no sentence end
    nlp = tagger.nlp
    extractor = nlp.get_pipe("handvest_features")
    assert extractor.sentence_max_tokens == 20
    doc = nlp.make_doc(run)
    words = [extractor.word(token.orth) for token in doc]
    spans = _sentence_token_spans(words, extractor.sentence_max_tokens)
    assert len(spans) == 3 and all(end - start <= 20 for start, end in spans)
    assert max(end - start for start, end in spans) - min(end - start for start, end in spans) <= 1  # equal parts
    batch = extractor.featurize([doc])
    assert batch.n_docs == 1 and len(batch.sentence_spans) == 3
    assert [tuple(span) for span in batch.sentence_spans.tolist()] == [(start, end) for start, end in spans]
    assert _sentence_token_spans(words, 0) == [(0, len(doc))]  # off: one run is one sentence
    punctuated = nlp.make_doc("Ik belde de gemeente. Niemand nam op.")
    assert len(extractor.featurize([punctuated]).sentence_spans) == 2  # short sentences are not cut further


def test_cues_tie_what_went_wrong_to_the_channel_where_it_happened():
    [phone] = cue_features("De man aan de telefoon was bot.")
    [counter] = cue_features("De baliemedewerker was bot.")
    assert "phone|rude" in phone and "counter|rude" not in phone
    assert "counter|rude" in counter and "phone|rude" not in counter


def test_a_channel_carries_over_to_the_next_sentence_but_not_to_another_message():
    first, second = cue_features("Ik belde vorige week met de gemeente. De man was onbeschoft.")
    assert "phone|rude" in second and "c:phone" not in second
    [alone] = cue_features("De man was onbeschoft.")
    assert not any("|" in name for name in alone)


def test_a_passport_mentioned_in_passing_is_no_expiry_cue():
    [passing] = cue_features("Ik heb mijn paspoort laten zien aan de balie.")
    [expiry] = cue_features("Mijn paspoort verliep zonder dat ik een herinnering kreeg.")
    assert "c:document" in passing and "document|expiry" not in passing
    assert "document|expiry" in expiry


def test_real_style_files_are_known_by_their_name(tmp_path):
    from nlp.core.corpus import read_jsonl, style_of

    assert style_of("nlp/corpus/train-real-stories.jsonl") == "real"
    assert style_of("nlp/corpus/heldout-real.jsonl") == "real"
    assert style_of("nlp/corpus/train-tel.jsonl") == "clean"
    path = write_jsonl(tmp_path / "train-real-x.jsonl", tiny_corpus()[:2])
    assert {m.style for m in read_jsonl(path)} == {"real"}
    assert model_version(read_jsonl(path), LABELS, TINY_CONFIG) != model_version(tiny_corpus()[:2], LABELS, TINY_CONFIG)


# --- similar cases ------------------------------------------------------------------------------


def test_similar_cases_by_text_street_and_sender():
    from nlp.core.similarity import CaseSketch, similar, streets_in

    assert streets_in("Bij de Voorstraat en het Kerkpad, niet bij de Website") == {"voorstraat", "kerkpad"}
    target = CaseSketch("t", "De lift in het stadhuis is kapot, met de rolstoel kom ik niet boven.", day=100, sender="a@x.nl")
    same = CaseSketch("same", "Lift stadhuis kapot: rolstoel kon niet naar boven.", day=101)
    sender = CaseSketch("sender", "Wanneer krijg ik antwoord op mijn vraag?", day=110, sender="a@x.nl")
    sender_long_ago = CaseSketch("old", "Wanneer krijg ik antwoord op mijn vraag?", day=10, sender="a@x.nl")
    street = CaseSketch("street", "Afval naast de container.", day=100, streets=frozenset({"voorstraat"}))
    unrelated = CaseSketch("other", "Mijn WOZ-waarde is te hoog.", day=100)
    found = {s.key: s for s in similar(target, [target, same, sender, sender_long_ago, street, unrelated])}
    assert set(found) == {"same", "sender"}
    assert "text" in found["same"].reasons and found["sender"].reasons == ("sender",)
    near_street = CaseSketch("t2", "Ook bij mij ligt afval.", day=100, streets=frozenset({"voorstraat"}))
    assert [s.key for s in similar(near_street, [street, unrelated])] == ["street"]


def test_the_similar_cases_measure_on_the_shipped_near_duplicates():
    from nlp.core.similarity import evaluate_similarity

    rows = [json.loads(line) for line in (REPO_ROOT / "nlp" / "corpus" / "similar-cases.jsonl").read_text(encoding="utf-8").splitlines()]
    result = evaluate_similarity(rows)
    assert result["queries"] >= 30 and result["unrelated"] >= 20
    assert result["precision_at_5"] >= 0.9
    assert result["unrelated_with_suggestions"] <= 0.1 * result["unrelated"]
