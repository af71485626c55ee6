"""`chainrule concepts`: every card of the seed deck (read from the copy in tests/data) is
mapped to something that exists."""
import os
import subprocess
import sys

import pytest

from chainrule.cli import concepts, deck

DECK = os.path.join(os.path.dirname(__file__), "data", "deck.txt")


@pytest.fixture(scope="module")
def deck_text():
    with open(DECK, encoding="utf-8") as f:
        return f.read()


def test_the_split_gives_the_count_the_export_announces(deck_text):
    titles = deck.card_titles(deck_text)
    assert deck.expected_count(deck_text) == 52
    assert len(titles) == 52
    assert len(set(titles)) == 52


def test_split_rule_on_the_ambiguous_places(deck_text):
    titles = deck.card_titles(deck_text)
    # list items under "Activation functions (df + ex)" and the optimizer examples are answers
    for item in ("Heaviside Step Function", "Sigmoid Function", "Leaky ReLU", "SGD", "Adagard",
                 "Adam", "Define Task", "Develop Machine Learning Model"):
        assert item not in titles
    # the Heaviside card counts once, as its tagged title
    assert sum("Heaviside" in t for t in titles) == 1
    # untagged titles found by "a bare phrase followed by a sentence"
    for t in ("The Machine Learning Flow STeps", "The Baseline Equation of Neural Networks",
              "Computational Graphs of DNN",
              "Give def of Adaptive Heuristic Optimizers and give examples"):
        assert t in titles
    # formula lines followed by a sentence are not titles
    assert not any("=" in t for t in titles)
    assert titles[0] == "The Machine Learning Flow STeps"
    assert titles[-1] == "Why do Residual Connections eliminate the vanishing gradient problem?"


def test_split_rule_on_a_small_export():
    text = ("2/3\nNo analytics yet\nSend a link to your students to track their progress\n"
            "First Card\nline a\nline b\nSecond thing (eq)\ny=x\nA sentence that answers.\n"
            "Third\nIt is explained here.\n")
    assert deck.card_titles(text) == ["First Card", "Second thing (eq)", "Third"]
    assert deck.expected_count(text) == 3


def test_every_card_is_mapped_and_every_target_exists(deck_text):
    titles = deck.card_titles(deck_text)
    assert concepts.unmapped(titles) == []
    assert [t for t, _ in concepts.CARDS] == titles   # the map follows the deck's order
    missing = []
    for title, targets in concepts.CARDS:
        assert targets, title
        for tgt in targets:
            try:
                concepts.resolve(tgt)
            except LookupError as e:
                missing.append(str(e))
    assert missing == []


def test_resolve_reports_what_is_missing():
    with pytest.raises(LookupError, match="no demo named 'nope'"):
        concepts.resolve("demo:nope")
    with pytest.raises(LookupError, match="no subcommand named 'nope'"):
        concepts.resolve("cli:nope")
    with pytest.raises(LookupError, match="chainrule.nope_nope"):
        concepts.resolve("chainrule.nope_nope")


def test_concepts_command_checks_a_deck():
    out = subprocess.run([sys.executable, "-m", "chainrule", "concepts", "--deck", DECK,
                          "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "52 cards (the export announces 52)" in out.stdout
    assert "UNMAPPED" not in out.stdout and "MISSING" not in out.stdout
    assert "52. Why do Residual Connections eliminate the vanishing gradient problem?" in out.stdout


def test_concepts_command_flags_an_unmapped_card(tmp_path):
    p = tmp_path / "deck.txt"
    p.write_text("1/1\nA card nobody implemented?\nIts answer.\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "chainrule", "concepts", "--deck", str(p)],
                         capture_output=True, text=True)
    assert out.returncode == 1
    assert "UNMAPPED: A card nobody implemented?" in out.stdout
