"""trace_text: the traced states are the model's own — equal to NumpyCharModel.warm's and to Keras' layer outputs."""

import numpy as np
import pytest

from seqlab.config import ModelConfig
from seqlab.encoding.vocabulary import CharVocabulary
from seqlab.errors import SeqlabError
from seqlab.infer.numpy_cells import NumpyCharModel
from seqlab.insight.hidden_states import MAX_TRACE_CHARACTERS, encode_text, trace_text

TEXT = "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n"
VOCABULARY = CharVocabulary.from_text(TEXT)


def keras_model(cell: str, seed: int = 0):
    """Two layers with random weights everywhere (biases too), so every term of the cell matters."""
    from seqlab.model.builder import build_model

    model = build_model(ModelConfig(cell=cell, num_layers=2, units=8, embedding_dim=4,
                                    dropout=0.25 if cell == "gru" else 0.0), VOCABULARY.size)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


@pytest.fixture(scope="module")
def models():
    return {cell: keras_model(cell) for cell in ("simple_rnn", "lstm", "gru")}


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_trace_matches_warm_and_keras(models, cell):
    import keras

    model, ids = models[cell], VOCABULARY.encode(TEXT)
    numpy_model = NumpyCharModel.from_keras(model)
    trace = trace_text(numpy_model, ids)
    logits, state = numpy_model.warm(ids[None, :], numpy_model.initial_state(1))
    for traced, warmed in zip(trace.final_state(), state, strict=True):
        np.testing.assert_allclose(traced, warmed, atol=1e-5)
    outputs = keras.Model(model.input, [model.get_layer(f"{cell}_{i}").output for i in range(2)])(ids[None, :])
    for layer, expected in zip(trace.layers, outputs):
        np.testing.assert_allclose(layer.hidden, np.asarray(expected)[0], atol=1e-5)
    probabilities = np.exp(logits[0] - logits[0].max())
    probabilities /= probabilities.sum()
    assert trace.top_guess[-1] == probabilities.argmax()
    assert trace.top_probability[-1] == pytest.approx(probabilities.max(), abs=1e-5)
    assert np.isnan(trace.next_probability[-1]) and np.all(trace.next_probability[:-1] > 0)


def test_gates_have_plain_names_and_stay_between_0_and_1(models):
    lstm = trace_text(NumpyCharModel.from_keras(models["lstm"]), VOCABULARY.encode(TEXT)).layers[0]
    gru = trace_text(NumpyCharModel.from_keras(models["gru"]), VOCABULARY.encode(TEXT)).layers[1]
    simple = trace_text(NumpyCharModel.from_keras(models["simple_rnn"]), VOCABULARY.encode(TEXT)).layers[0]
    assert set(lstm.gates) == {"kept", "written", "shown"} and lstm.memory.shape == (len(TEXT), 8)
    assert set(gru.gates) == {"kept", "reset"} and gru.memory is None
    assert simple.gates == {} and simple.memory is None
    for values in [*lstm.gates.values(), *gru.gates.values()]:
        assert values.shape == (len(TEXT), 8) and values.min() >= 0 and values.max() <= 1
    # the LSTM's memory is what the gates say: kept * old + written * candidate, h = shown * tanh(memory)
    np.testing.assert_allclose(lstm.hidden, lstm.gates["shown"] * np.tanh(lstm.memory), atol=1e-6)


def test_bad_text_is_explained(models):
    with pytest.raises(SeqlabError, match="never saw.*'Z'"):
        encode_text(VOCABULARY, "Zebra")
    with pytest.raises(SeqlabError, match="2,001 characters long"):
        encode_text(VOCABULARY, "a" * (MAX_TRACE_CHARACTERS + 1))
    with pytest.raises(SeqlabError, match="empty"):
        encode_text(VOCABULARY, "")
    with pytest.raises(SeqlabError, match="not character ids"):
        trace_text(NumpyCharModel.from_keras(models["lstm"]), np.array([0, VOCABULARY.size]))
