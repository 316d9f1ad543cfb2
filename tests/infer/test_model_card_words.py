"""The model card says how good a model is in plain words first, the loss in nats after (seqlab/infer/model_card.py)."""

from __future__ import annotations

import math

from seqlab.infer.model_card import figures
from seqlab.presets import default_configs


def test_text_figures_lead_with_plain_words_and_keep_nats():
    model, _ = default_configs("generate")
    lines = figures(model, {"best_val_loss": math.log(4.3), "best_val_accuracy": 0.54, "best_step": 120,
                            "reference_losses": {"uniform": math.log(65), "unigram": 3.3}})
    assert lines[0] == ("- How good: on held-out data, at its best it guesses the next character right 54% of the "
                        "time · as unsure as choosing between 4.3 characters")
    assert lines[1].startswith("- Best validation loss: 1.4586 nats per character, at step 120")
    assert "random guessing among 65 characters (loss 4.17)" in lines[2]
    assert "guessing from letter frequencies alone (loss 3.30)" in lines[2]


def test_review_figures_are_accuracy_first_and_never_letter_frequencies():
    model, _ = default_configs("classify")
    lines = figures(model, {"best_val_loss": 0.4, "best_val_accuracy": 0.875,
                            "reference_losses": {"uniform": math.log(2), "unigram": 0.69}})
    assert lines[0] == "- How good: on held-out data, at its best it gets 88% of reviews right"
    assert "a coin flip between positive and negative" in lines[2] and "letter" not in lines[2]
    assert figures(model, {})[0] == "- How good: not measured yet (no validation round finished)"
