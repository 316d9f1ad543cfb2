"""unit_features: the features mean what the docstring says, and a unit wired to follow one is found first."""

import numpy as np
import pytest

from seqlab.config import ModelConfig
from seqlab.encoding.vocabulary import CharVocabulary
from seqlab.errors import SeqlabError
from seqlab.infer.numpy_cells import NumpyCharModel
from seqlab.insight.hidden_states import trace_text
from seqlab.insight.unit_features import FEATURES, correlations, text_features, top_units, units_for_feature

TEXT = ('He said "don\'t go (not yet)" and left.\nShe asked: \'why [now]?\'\n\n"An open quote\n\nends here.\n'
        "Whether 'tis nobler in the mind to suffer {the slings}\n")
VOCABULARY = CharVocabulary.from_text(TEXT)


def test_features_follow_their_definitions():
    text = 'a "b" (c)\nde\'f \'g\''
    features = text_features(text)
    assert set(features) == set(FEATURES)
    assert "".join(ch for ch, on in zip(text, features["inside quotes"]) if on) == '"b' + "'g"
    assert "".join(ch for ch, on in zip(text, features["inside brackets"]) if on) == "(c"
    assert features["position in the line"].tolist()[9:13] == [0, 1, 2, 3]  # the newline, then d e '
    assert features["just read a newline"].sum() == 1 and features["vowel"].sum() == 2  # a, e
    assert features["between words"].sum() == 4  # three spaces and the newline


def test_an_empty_line_closes_a_quote_left_open():
    text = 'x "open\n\nafter'
    inside = text_features(text)["inside quotes"]
    assert inside[text.index("o")] == 1 and inside[text.index("a")] == 0


def test_constant_columns_correlate_zero_not_nan():
    series = np.array([[1.0, 0.5], [2.0, 0.5], [3.0, 0.5]])
    features = np.array([[0.0, 1.0], [0.0, 2.0], [0.0, 3.0]])
    table = correlations(series, features)
    assert not np.isnan(table).any()
    np.testing.assert_allclose(table, [[0.0, 1.0], [0.0, 0.0]])


def vowel_unit_model(unit: int):
    """A SimpleRNN whose unit `unit` is wired to be ~+1 on a vowel and ~-0.76 elsewhere: embedding dimension 0 is 3
    for vowels and 0 otherwise, and only that dimension drives the unit (no recurrence into it); the other units
    and dimensions are random."""
    from seqlab.model.builder import build_model

    model = build_model(ModelConfig(cell="simple_rnn", num_layers=1, units=8, embedding_dim=4), VOCABULARY.size)
    rng = np.random.default_rng(3)
    embedding, kernel, recurrent, bias, dense, dense_bias = [rng.normal(0, 0.5, w.shape).astype(np.float32)
                                                              for w in model.get_weights()]
    embedding[:, 0] = [3.0 if ch in "aeiouAEIOU" else 0.0 for ch in VOCABULARY.characters]
    kernel[0, :], kernel[:, unit], recurrent[:, unit], bias[unit] = 0.0, [2.0, 0, 0, 0], 0.0, -1.0
    model.set_weights([embedding, kernel, recurrent, bias, dense, dense_bias])
    return model


def test_a_unit_forced_to_follow_vowels_is_ranked_first():
    trace = trace_text(NumpyCharModel.from_keras(vowel_unit_model(unit=5)), VOCABULARY.encode(TEXT))
    best = units_for_feature(trace, TEXT, "vowel", count=3)
    assert (best[0]["layer"], best[0]["unit"], best[0]["state"]) == (0, 5, "hidden")
    assert best[0]["correlation"] > 0.99 and abs(best[1]["correlation"]) < best[0]["correlation"]
    assert best[0]["text"] == 'Layer 1 unit 6 follows "vowel" (r = 1.00)'
    overall = top_units(trace, TEXT, count=4)
    assert overall[0]["unit"] == 5 and overall[0]["feature"] == "vowel"
    assert len({(entry["layer"], entry["unit"], entry["state"]) for entry in overall}) == len(overall)
    assert len({entry["feature"] for entry in overall}) == 4  # one unit per feature before a second for any


def test_lstm_memory_is_ranked_too_and_mismatched_text_is_refused():
    from seqlab.model.builder import build_model

    model = build_model(ModelConfig(cell="lstm", num_layers=2, units=4, embedding_dim=4), VOCABULARY.size)
    trace = trace_text(NumpyCharModel.from_keras(model), VOCABULARY.encode(TEXT))
    states = {entry["state"] for entry in units_for_feature(trace, TEXT, "inside quotes", count=32)}
    assert states == {"hidden", "memory"}
    with pytest.raises(SeqlabError, match="the trace 1"):
        top_units(trace_text(NumpyCharModel.from_keras(model), VOCABULARY.encode("a")), TEXT)
    with pytest.raises(SeqlabError, match="Unknown feature"):
        units_for_feature(trace, TEXT, "rhymes")
