"""Typing errors for measuring the tagger on misspelt text (``nlp.core.typos``, ``python -m nlp evaluate --typos``)."""

import json
import random
import re

import pytest

from nlp.core import cli
from nlp.core.corpus import Message
from nlp.core.typos import NEIGHBOURS, misspell, misspelt, with_typos
from tests.test_nlp_core import tiny_corpus, write_charter, write_jsonl

LETTER = (
    "Geachte heer, mevrouw, op veertien maart heb ik een brief gestuurd over de aanvraag van mijn moeder. "
    "Tot vandaag heb ik geen ontvangstbevestiging gekregen en ook geen antwoord. Telefonisch werd ik drie keer "
    "doorverbonden en daarna hing ik weer in de wacht. Wanneer krijg ik eindelijk bericht van de gemeente?"
)
WORDS = re.compile(r"[^\W\d_]+")


def words(text: str) -> list[str]:
    return WORDS.findall(text)


def is_one_typo(original: str, typed: str) -> bool:
    """One letter swapped with its neighbour, left out, typed twice or replaced."""
    if len(typed) == len(original):
        differ = [k for k, (a, b) in enumerate(zip(original, typed, strict=True)) if a != b]
        swapped = len(differ) == 2 and differ[1] == differ[0] + 1 and original[differ[0]] == typed[differ[1]]
        return len(differ) == 1 or swapped
    shorter, longer = sorted((original, typed), key=len)
    return len(longer) - len(shorter) == 1 and any(longer[:k] + longer[k + 1 :] == shorter for k in range(len(longer)))


def test_the_same_seed_gives_the_same_errors_and_another_seed_others():
    assert with_typos(LETTER, 0.3, random.Random(1)) == with_typos(LETTER, 0.3, random.Random(1))
    assert with_typos(LETTER, 0.3, random.Random(1)) != with_typos(LETTER, 0.3, random.Random(2))


def test_every_error_is_one_typists_slip_never_in_the_first_letter_nor_in_a_short_word():
    rng = random.Random(7)
    for _ in range(20):
        typed = with_typos(LETTER, 1.0, rng)
        for original, changed in zip(words(LETTER), words(typed), strict=True):
            if len(original) < 4:
                assert changed == original
            else:
                assert changed[0] == original[0]
                assert changed == original or is_one_typo(original, changed), (original, changed)
        # Punctuation, digits and spacing stay where they were.
        assert WORDS.sub("", typed) == WORDS.sub("", LETTER)


def test_about_the_share_asked_of_the_words_is_misspelt():
    long_words = [w for w in words(LETTER) if len(w) >= 4]
    changed = total = 0
    for seed in range(40):
        typed = with_typos(LETTER, 0.1, random.Random(seed))
        pairs = [(a, b) for a, b in zip(words(LETTER), words(typed), strict=True) if len(a) >= 4]
        changed += sum(a != b for a, b in pairs)
        total += len(long_words)
    assert 0.06 < changed / total < 0.12  # a swap of two equal letters ("ee") changes nothing: a little under 0.1
    assert with_typos(LETTER, 0.0, random.Random(0)) == LETTER


def test_a_key_next_to_the_right_one_is_hit_in_the_same_case_and_an_accent_is_left_out():
    replaced = []
    for word in ("wachten", "WACHTEN"):
        for seed in range(200):
            typed = misspell(word, random.Random(seed))
            differ = [k for k, (a, b) in enumerate(zip(word, typed, strict=True)) if a != b] if len(typed) == len(word) else []
            if len(differ) == 1:
                k = differ[0]
                assert typed[k].lower() in NEIGHBOURS[word[k].lower()]
                assert typed[k].isupper() == word[k].isupper()
                replaced.append(typed)
    assert len(replaced) > 40
    for seed in range(50):
        typed = misspell("ééééé", random.Random(seed))
        assert typed[0] == "é" and len(typed) in (4, 5, 6) and set(typed) == {"é"}


def test_misspelt_messages_keep_their_kind_norms_and_style():
    messages = [Message(LETTER, "complaint", ("POST-REACTIE", "TEL-25SEC"), "real"), Message("Dank voor de snelle hulp!", "other", (), "clean")]
    typed = misspelt(messages, 0.5, seed=3)
    assert [(m.kind, m.norms, m.style) for m in typed] == [(m.kind, m.norms, m.style) for m in messages]
    assert typed[0].text != LETTER
    assert typed == misspelt(messages, 0.5, seed=3)


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_a_share_outside_zero_to_one_is_refused(share, capsys):
    with pytest.raises(ValueError, match="between 0 and 1"):
        with_typos(LETTER, share, random.Random(0))
    assert cli.main(["evaluate", "x.jsonl", "--typos", str(share)]) == 2
    assert "--typos is the share of misspelt words, between 0 and 1" in capsys.readouterr().err


def test_the_evaluation_scores_several_files_together_and_the_same_messages_misspelt(tmp_path, monkeypatch, capsys):
    corpus_dir = tmp_path / "corpus"
    corpus_dir.mkdir()
    write_jsonl(corpus_dir / "train-tiny.jsonl", tiny_corpus())
    first = write_jsonl(tmp_path / "heldout-a.jsonl", tiny_corpus()[::3])
    second = write_jsonl(tmp_path / "heldout-b.jsonl", tiny_corpus()[1::3])
    charter = write_charter(tmp_path / "charter.yaml")
    scored = []
    real_evaluate = cli.evaluate

    def recording(tagger, messages):
        scored.append([m.text for m in messages])
        return real_evaluate(tagger, messages)

    monkeypatch.setattr(cli, "evaluate", recording)
    argv = ["evaluate", str(first), str(second), "--typos", "0.2", "--seed", "5", "--json"]
    assert cli.main([*argv, "--model-dir", str(tmp_path / "models"), "--corpus-dir", str(corpus_dir), "--charter", str(charter)]) == 0
    result = json.loads(capsys.readouterr().out)
    together = tiny_corpus()[::3] + tiny_corpus()[1::3]
    assert scored == [[m.text for m in together], [m.text for m in misspelt(together, 0.2, seed=5)]]
    assert result["messages"] == result["typos"]["tagger"]["messages"] == len(together)
    assert (result["typos"]["share"], result["typos"]["seed"]) == (0.2, 5)
    assert "baseline" not in result["typos"]
