"""A review classifier's own layers as stock Keras layers and keras.ops, for export.py: attention pooling as two
Dense layers and a masked softmax, the word-pair bag as an Embedding over the same hashed rows.

Kept apart from export.py, which rebuilds whole models: these are the two layers whose maths is seqlab's own.
"""

from __future__ import annotations

from seqlab.config import ModelConfig

ATTENTION_HIDDEN, ATTENTION_SCORE = "attention_hidden", "attention_score"  # the stock layers of attention pooling


def attention_pooling(config: ModelConfig, x, ids):
    """review_layers.AttentionPooling as two stock Dense layers (W, b: ATTENTION_HIDDEN; v: ATTENTION_SCORE) and a
    softmax over the real words in keras.ops."""
    import keras
    from keras import ops

    from seqlab.model.size import attention_units

    hidden = keras.layers.Dense(attention_units(config), activation="tanh", name=ATTENTION_HIDDEN, dtype="float32")(x)
    scores = ops.squeeze(keras.layers.Dense(1, use_bias=False, name=ATTENTION_SCORE, dtype="float32")(hidden), -1)
    real = ops.not_equal(ids, 0)
    weights = ops.where(real, ops.softmax(ops.where(real, scores, -1e9), axis=1), 0.0)
    return ops.sum(x * ops.expand_dims(weights, -1), axis=1)


def word_pair_bag(layer, ids):
    """review_layers.WordPairBag in keras.ops over an Embedding that holds its table (same rows, same hashing)."""
    import keras
    from keras import ops

    buckets, words, gain = layer.buckets, layer.words, layer.gain
    ids = ops.cast(ids, "int64")
    left, right = ids[:, :-1], ids[:, 1:]
    real = ops.logical_and(ops.greater(left, 0), ops.greater(right, 0))
    rows = ops.where(real, ops.mod(left * 1_000_003 + right, buckets) + 1, ops.zeros_like(left))
    if words:
        real = ops.concatenate([real, ops.greater(ids, 0)], axis=1)
        rows = ops.concatenate([rows, ops.where(ops.greater(ids, 0), ids + buckets, ops.zeros_like(ids))], axis=1)
    vectors = keras.layers.Embedding(1 + buckets + words, layer.dim, name="word_pairs", dtype="float32")(rows)
    weights = ops.expand_dims(ops.cast(real, "float32"), -1)
    total = ops.sum(vectors * weights, axis=1)
    return gain * total / ops.maximum(ops.sum(weights, axis=1), 1.0)


def attention_weights(original, name: str) -> list | None:
    """The weights of the stock Dense layer `name` that stands for part of the AttentionPooling layer; else None."""
    from seqlab.model.builder import ATTENTION_LAYER

    parts = {ATTENTION_HIDDEN: slice(0, 2), ATTENTION_SCORE: slice(2, 3)}  # [W, b] and [v] of AttentionPooling
    if name not in parts or ATTENTION_LAYER not in [layer.name for layer in original.layers]:
        return None
    return original.get_layer(ATTENTION_LAYER).get_weights()[parts[name]]
