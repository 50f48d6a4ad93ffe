"""The speller (``nlp.core.spelling``): a word typed with one error read as the training messages' word."""

import dataclasses
import subprocess
import sys

import pytest

from nlp.core.config import TaggerConfig
from nlp.core.features import fold
from nlp.core.pipeline import FEATURES_PIPE
from nlp.core.spelling import Speller, WordSet, dutch_words
from nlp.core.tagger import Tagger
from nlp.core.train import train
from tests.test_nlp_core import LABELS, REPO_ROOT, TINY_CONFIG, tiny_corpus

KNOWN = {"afspraak": 9, "telefonisch": 5, "gebeld": 4, "ontvangstbevestiging": 3, "klacht": 12, "kosten": 7, "wachtte": 3, "wachten": 8, "balie": 6}


@pytest.fixture(scope="module")
def speller() -> Speller:
    return Speller(KNOWN, dutch_words(fold))


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("afspaak", "afspraak"),  # a letter left out
        ("telefonich", "telefonisch"),
        ("gebelt", "gebeld"),  # the d/t error
        ("afsrpaak", "afspraak"),  # two letters swapped
        ("ontvangstbevsetiging", "ontvangstbevestiging"),  # swapped past SymSpell's prefix
        ("afsppraak", "afspraak"),  # a letter typed twice
        ("klacjt", "klacht"),  # a key next to the right one
    ],
)
def test_a_word_typed_with_one_error_is_read_as_the_known_form(speller, typed, meant):
    assert speller.correct(typed) == meant


@pytest.mark.parametrize(
    "word",
    [
        "lacht",  # a Dutch word one edit from "klacht": never turned into it
        "kasten",  # a Dutch word one edit from "kosten"
        "afspraak",  # known already
        "bale",  # under five letters: left alone, though one edit from "balie"
        "aspaakk",  # two edits away
        "telefon1sch",  # not letters only
        "qwxyzv",  # near nothing
    ],
)
def test_dutch_words_known_forms_short_words_and_far_ones_are_left_as_they_are(speller, word):
    assert speller.correct(word) is None


def test_of_two_known_forms_one_edit_away_the_more_frequent_is_chosen():
    # "plaatstn" is one edit from both ("plaatsen": t for e; "plaatsten": an e left out).
    assert Speller({"plaatsen": 2, "plaatsten": 9}, WordSet.of([])).correct("plaatstn") == "plaatsten"
    assert Speller({"plaatsen": 9, "plaatsten": 2}, WordSet.of([])).correct("plaatstn") == "plaatsen"


def test_a_tie_of_distance_and_count_is_broken_the_same_way_whatever_order_the_forms_came_in():
    # "loketc" is one letter wrong from both, seen as often: SymSpell takes the one entered first.
    forward = Speller({"loketa": 5, "loketb": 5}, WordSet.of([]))
    backward = Speller({"loketb": 5, "loketa": 5}, WordSet.of([]))
    assert forward.correct("loketc") == backward.correct("loketc") == "loketa"


def test_the_word_set_answers_membership_from_hashes_alone():
    words = WordSet.of(["balie", "loket", "balie"])
    assert len(words) == 2 and "balie" in words and "loket" in words and "baliee" not in words
    assert "anything" not in WordSet.of([])


def test_the_dutch_word_list_holds_words_and_not_their_misspellings():
    words = dutch_words(fold)
    assert len(words) > 300_000
    assert all(word in words for word in ("lacht", "kasten", "terugbellen", "baliemedewerkster"))
    assert not any(w in words for w in ("telefonich", "afspaak", "gebelt", "geweigert"))


@pytest.fixture(scope="module")
def spelling_tagger() -> Tagger:
    return train(tiny_corpus(), LABELS, config=dataclasses.replace(TINY_CONFIG, spelling=True, min_df=2))


@pytest.fixture(scope="module")
def plain_tagger() -> Tagger:
    return train(tiny_corpus(), LABELS, config=dataclasses.replace(TINY_CONFIG, spelling=False, min_df=2))


def _lemma_columns(tagger: Tagger, text: str) -> set[int]:
    extractor = tagger.nlp.get_pipe(FEATURES_PIPE)
    doc = tagger.nlp.make_doc(text)
    return {int(extractor._lemma_col[i]) for i in extractor._resolve(doc.to_array("ORTH")) if extractor._lemma_col[i] >= 0}


def test_a_misspelt_word_gets_the_features_of_the_word_it_was_meant_as(spelling_tagger, plain_tagger):
    # "onvriendelijk" and "baliemedewerker" are words of two or more tiny-corpus messages; misspelt, they keep their lemma's column.
    assert _lemma_columns(spelling_tagger, "onvriendelik") == _lemma_columns(spelling_tagger, "onvriendelijk") != set()
    assert _lemma_columns(spelling_tagger, "baliemedewekrer") == _lemma_columns(spelling_tagger, "baliemedewerker") != set()
    assert _lemma_columns(plain_tagger, "onvriendelik") == set()  # without the speller the misspelt word has no lemma


def test_a_misspelt_message_is_scored_as_the_message_written_well(spelling_tagger):
    written = "De baliemedewerker was onvriendelijk"
    misspelt = "De baliemedewekrer was onvriendelik"
    assert spelling_tagger.tag(misspelt).norm_scores == pytest.approx(spelling_tagger.tag(written).norm_scores, abs=1e-6)


def test_the_speller_is_saved_with_the_model_and_tagging_imports_neither_library(spelling_tagger, tmp_path):
    folder = spelling_tagger.save(tmp_path / "model")
    assert [path.parent.name for path in folder.rglob("spelling.npz")] == [FEATURES_PIPE]
    code = (
        "import sys; from nlp.core.tagger import Tagger; t = Tagger.load(sys.argv[1]);"
        "print(sorted(t.tag('De baliemedewekrer was onvriendelik').norm_scores.items()));"
        "sys.exit(3 if 'spellchecker' in sys.modules or 'sklearn' in sys.modules else 0)"
    )
    completed = subprocess.run([sys.executable, "-c", code, str(folder)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    expected = sorted(spelling_tagger.tag("De baliemedewerker was onvriendelijk").norm_scores.items())
    loaded = eval(completed.stdout.strip())  # noqa: S307 - the list of (code, float) pairs printed above
    assert [code for code, _ in loaded] == [code for code, _ in expected]
    assert [score for _, score in loaded] == pytest.approx([score for _, score in expected], abs=1e-6)


def test_the_training_messages_are_featurized_as_written(spelling_tagger, plain_tagger):
    """Only what is tagged after training is read: the vocabulary and the fitted weights are those of the words as written."""
    spelling, plain = (tagger.nlp.get_pipe(FEATURES_PIPE) for tagger in (spelling_tagger, plain_tagger))
    assert spelling.keys.tolist() == plain.keys.tolist() and spelling.idf.tolist() == plain.idf.tolist()
    assert spelling_tagger.tag("Weer twintig minuten wachtmuziek").norm_scores == pytest.approx(
        plain_tagger.tag("Weer twintig minuten wachtmuziek").norm_scores, abs=1e-6
    )


def test_a_tagger_trained_with_the_default_configuration_reads_misspelt_words():
    tagger = train(tiny_corpus(), LABELS, config=dataclasses.replace(TaggerConfig(), min_df=2, min_examples=5, calibration_folds=0))
    assert _lemma_columns(tagger, "onvriendelik") == _lemma_columns(tagger, "onvriendelijk") != set()
