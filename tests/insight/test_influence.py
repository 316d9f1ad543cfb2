"""influence: a causal model's prediction owes nothing to later characters; the distance profile is a share."""

import numpy as np
import pytest

from seqlab.config import ModelConfig
from seqlab.encoding.vocabulary import CharVocabulary
from seqlab.errors import SeqlabError
from seqlab.insight.influence import influence, influence_by_distance, prediction_target, reach
from seqlab.insight.windows import pick_windows

TEXT = "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n"
VOCABULARY = CharVocabulary.from_text(TEXT)


@pytest.fixture(scope="module", params=["lstm", "gru"])
def model(request):
    """Two layers with dropout between them (inert here) and random weights everywhere."""
    from seqlab.model.builder import build_model

    model = build_model(ModelConfig(cell=request.param, num_layers=2, units=8, embedding_dim=4, dropout=0.5),
                        VOCABULARY.size)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def test_later_characters_have_exactly_zero_influence(model):
    ids = VOCABULARY.encode(TEXT[:30])
    values = influence(model, ids, position=12)
    assert values.shape == (30,)
    assert np.all(values[13:] == 0.0)  # exactly: the model cannot look ahead
    assert np.all(values[:13] > 0) and values[12] > 0
    last = influence(model, ids)  # the default: the prediction after the last character, of the top guess
    assert np.all(last > 0)
    logits = np.asarray(model(ids[None, :], training=False))[0, -1]
    assert prediction_target(model, ids, 29) == logits.argmax() and prediction_target(model, ids, 12) == ids[13]


def test_influence_is_the_gradient_norm_of_the_log_probability(model):
    """Against a finite difference along the gradient's own direction, at the first character."""
    import tensorflow as tf

    ids = VOCABULARY.encode(TEXT[:10])
    embedding = model.get_layer("embedding")
    vectors = tf.Variable(embedding(ids[None, :]))
    with tf.GradientTape() as tape:
        x = vectors
        for layer in model.layers[2:]:
            x = layer(x, training=False)
        value = tf.nn.log_softmax(x[0, 6])[ids[7]]
    expected = np.linalg.norm(np.asarray(tape.gradient(value, vectors))[0], axis=-1)
    np.testing.assert_allclose(influence(model, ids, 6), expected, rtol=1e-4, atol=1e-7)


def test_distance_profile_is_a_share_and_reach_counts_characters(model):
    windows = pick_windows(VOCABULARY.encode(TEXT * 3), count=8, length=20, seed=1)
    assert windows.shape == (8, 21)
    profile = influence_by_distance(model, windows, batch_size=3)
    assert profile["distances"] == list(range(20)) and profile["windows"] == 8 and profile["length"] == 20
    assert sum(profile["share"]) == pytest.approx(1.0, abs=1e-4) and min(profile["share"]) >= 0
    assert 1 <= profile["reach"] <= 20
    one_by_one = sum(influence(model, window, 19)[:20][::-1] for window in windows)  # predicting window[20]
    np.testing.assert_allclose(profile["share"], one_by_one / one_by_one.sum(), atol=1e-5)


def test_reach_and_windows_in_plain_cases():
    assert reach([0.5, 0.3, 0.2]) == 1 and reach([0.2, 0.2, 0.2, 0.4]) == 3 and reach([1, 1, 1, 1]) == 2
    assert reach([0, 0]) == 0
    np.testing.assert_array_equal(pick_windows(np.arange(5), count=10, length=100), [[0, 1, 2, 3, 4]])
    np.testing.assert_array_equal(pick_windows(np.arange(50), seed=4, length=5),
                                  pick_windows(np.arange(50), seed=4, length=5))
    with pytest.raises(SeqlabError, match="at least two"):
        pick_windows(np.arange(1))


def test_bad_positions_are_explained(model):
    ids = VOCABULARY.encode("To be")
    with pytest.raises(SeqlabError, match="from 0 to 4"):
        influence(model, ids, 5)
    with pytest.raises(SeqlabError, match="window"):
        influence_by_distance(model, np.zeros((3, 1), np.int32))
