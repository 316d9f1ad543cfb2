"""Attention pooling (review_layers.AttentionPooling): weights over the real words only, and a review model with it
that Keras saves and loads in safe mode, of the size model/size.py says."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqlab.config import ModelConfig
from seqlab.encoding.vocabulary import make_review_vectorizer
from seqlab.model.builder import ATTENTION_LAYER, build_model
from seqlab.model.review_layers import AttentionPooling
from seqlab.model.size import flops_per_token, parameter_count


def test_attention_weights_sum_to_one_over_the_real_words_and_are_zero_on_padding():
    layer = AttentionPooling(5)
    outputs = np.random.default_rng(0).normal(size=(3, 4, 6)).astype("float32")  # (reviews, words, features)
    mask = np.array([[1, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]], bool)  # 3 words, 1 word, none
    pooled = layer(tf.constant(outputs), mask=tf.constant(mask)).numpy()
    weights = layer.weights_for(tf.constant(outputs), tf.constant(mask)).numpy()
    assert weights.shape == (3, 4)
    np.testing.assert_allclose(weights[:2].sum(axis=1), 1.0, atol=1e-6)
    assert np.all(weights[~mask] == 0.0) and np.all(weights[mask] > 0)  # exactly 0 on padding
    assert weights[1, 0] == pytest.approx(1.0)  # a one-word review: all of it on that word
    np.testing.assert_allclose(pooled, np.einsum("bw,bwf->bf", weights, outputs), atol=1e-6)
    np.testing.assert_allclose(pooled[2], 0.0)  # no word at all: nothing to attend to
    outputs[~mask] = 1e3  # whatever the padded steps hold, the result is the same
    np.testing.assert_allclose(layer(tf.constant(outputs), mask=tf.constant(mask)).numpy(), pooled, atol=1e-6)
    scores = np.tanh(outputs[0, :3] @ layer.kernel.numpy() + layer.bias.numpy()) @ layer.score.numpy()[:, 0]
    np.testing.assert_allclose(weights[0, :3], np.exp(scores) / np.exp(scores).sum(), atol=1e-6)  # v·tanh(Wh+b)


@pytest.mark.parametrize("bidirectional", [True, False])
def test_an_attention_classifier_counts_saves_and_loads(tmp_path, bidirectional):
    texts = ["good film", "a bad and very long film indeed", "great"]
    vectorizer = make_review_vectorizer(texts, vocabulary_size=100, max_length=10)
    config = ModelConfig(task="classify", cell="lstm", units=6, embedding_dim=4, bidirectional=bidirectional,
                         vocabulary_size=100, pooling="attention", dropout=0.1)
    model = build_model(config, vectorizer=vectorizer)
    assert model.count_params() == parameter_count(config, vectorizer.vocabulary_size())
    last = ModelConfig(**{**config.__dict__, "pooling": "last"})
    features = 12 if bidirectional else 6  # units × directions: what the attention reads, and its hidden size
    assert flops_per_token(config, 100) - flops_per_token(last, 100) == 2 * (features + 1) * features
    assert isinstance(model.get_layer(ATTENTION_LAYER), AttentionPooling)
    before = model(tf.constant(texts)).numpy()
    alone = np.concatenate([model(tf.constant([text])).numpy() for text in texts])
    np.testing.assert_allclose(alone, before, atol=1e-6)  # padding of the batch's longer reviews changes nothing
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded(tf.constant(texts)).numpy(), before, atol=1e-6)
    assert loaded.get_layer(ATTENTION_LAYER).units == features
