"""Plain readings of losses and one name per cell (seqlab/report/plain_words.py), and the guides that use them."""

from __future__ import annotations

import math
import re
from dataclasses import fields

import pytest

from seqlab.config import ModelConfig
from seqlab.report import plain_words
from seqlab.ui import home_view
from tests.conftest import REPO


def test_perplexity_is_the_number_of_equally_likely_choices():
    assert plain_words.perplexity(math.log(4)) == pytest.approx(4.0)
    assert plain_words.perplexity(0.0) == 1.0  # certain: one choice
    assert plain_words.unsure_as(math.log(4)) == "as unsure as choosing between 4.0 characters"
    assert plain_words.unsure_among(math.log(1234)) == "1,234"
    for bad in (None, math.nan, math.inf, -1.0, "2.0"):
        assert plain_words.perplexity(bad) is None and plain_words.unsure_as(bad) == ""


def test_huge_losses_stay_bounded_and_say_so():
    """An untrained or diverged model's loss (e.g. 900) must not overflow or print a 390-digit number."""
    assert plain_words.perplexity(900.0) < 1e7
    assert plain_words.unsure_as(900.0) == "as unsure as choosing between over 1,000,000 characters"
    assert plain_words.headline_figure(900.0, 0.01, "generate") == "1% right · unsure among over 1,000,000"


def test_reviews_lead_with_accuracy_and_text_with_both_readings():
    assert plain_words.quality_sentence(0.3, 0.88, "classify") == "gets 88% of reviews right"
    assert plain_words.headline_figure(0.3, 0.875, "classify") == "87.5% right"
    assert plain_words.headline_figure(0.3, None, "classify") == "—"  # no loss-only figure for reviews
    assert plain_words.quality_sentence(math.log(4.3), 0.54, "generate") == (
        "guesses the next character right 54% of the time · as unsure as choosing between 4.3 characters")
    assert plain_words.headline_figure(math.log(4.3), 0.54, "generate") == "54% right · unsure among 4.3"
    assert plain_words.headline_figure(None, None, "generate") == "—"


def test_reference_lines_in_words():
    assert plain_words.reference_words("uniform", "generate", math.log(65)) == (
        "random guessing among 65 characters (loss 4.17)")
    assert plain_words.reference_words("unigram", "generate", 3.3) == (
        "guessing from letter frequencies alone (loss 3.30)")
    assert plain_words.reference_words("uniform", "classify", math.log(2)).startswith("a coin flip")


def test_cell_names_are_the_train_pages_own():
    choices = next(field for field in fields(ModelConfig) if field.name == "cell").metadata["setting"].choices
    assert plain_words.CELL_NAMES == choices
    assert plain_words.cell_name("simple_rnn") == "SimpleRNN"
    assert plain_words.cell_name("lstm", bidirectional=True) == "bidirectional LSTM"
    assert plain_words.model_shape({"cell": "gru", "num_layers": 2, "units": 64}) == "GRU · 2 layers × 64 units"


CELL_WORDS = re.compile(r"\b(plain RNNs?|simple RNNs?|vanilla RNNs?|simple_rnn|Simple ?RNN|LSTM|GRU)\b",
                        re.IGNORECASE)
CODE = re.compile(r"```.*?```|`[^`]*`", re.DOTALL)


@pytest.mark.parametrize("guide", ["docs/classroom.md", "home_view.TEACHERS", "home_view.INTRODUCTION",
                                   "home_view.PIPELINE"])
def test_the_guides_only_name_cells_the_train_page_offers(guide):
    """The teachers' guide once told the reader to pick a 'plain RNN' that the Train page's list does not have."""
    if guide.startswith("docs/"):
        text = (REPO / guide).read_text(encoding="utf-8")
    else:
        text = str(getattr(home_view, guide.split(".")[1]))
    prose = CODE.sub("", text)  # `lstm-shakespeare-3` is a run name, `--cell simple_rnn` a flag's value: code
    offered = set(plain_words.CELL_NAMES.values())
    named = {match.group(0) for match in CELL_WORDS.finditer(prose)}
    assert named <= offered, f"{guide} names {sorted(named - offered)}; the Train page offers {sorted(offered)}"
