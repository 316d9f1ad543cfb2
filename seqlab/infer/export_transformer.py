"""A tiny Transformer (seqlab/model/transformer.py) from Keras' stock layers and keras.ops, for export.py.

Its blocks are stock layers already (MultiHeadAttention, LayerNormalization, Dense, Add), built by the same
function in float32. Only seqlab's PositionSignal has no stock twin: each position's number is counted from the
input in keras.ops (a running sum of ones) and looked up in a stock Embedding, POSITION_TABLE: row 0 zeros, then
the run's table (learned, or the sine waves). A review's padding looks up row 0 and, with mask_zero, carries the
same mask as the words: Keras' Add keeps a mask only where both inputs have one, and attention needs it to leave
the padding out. A review's pooling over a Transformer's outputs, which have no floor: max over the real words
(0 for a review without any), or the last real word's output (review_layers.LastRealWord) as a one-hot sum.
"""

from __future__ import annotations

import numpy as np

POSITION_TABLE = "position_table"  # the stock Embedding of the position signal: set here, not copied by name


def transformer_reader(config, original, x, ids, causal: bool):
    """Token vectors (batch, time, units) of `ids` -> the Transformer's outputs (batch, time, units), stock layers;
    `original`: the run's model (its position table and context)."""
    import keras
    from keras import ops

    from seqlab.model.transformer import sinusoidal_table, transformer_blocks

    context = context_of(original)
    positions = ops.cumsum(ops.ones_like(ids), axis=1)  # 1, 2, 3, ... along each row
    if not causal:  # a review: its padding (id 0, at the end) gets row 0 and the mask
        positions = ops.where(ops.not_equal(ids, 0), positions, ops.zeros_like(positions))
    layer = keras.layers.Embedding(context + 1, config.units, mask_zero=True, name=POSITION_TABLE, dtype="float32")
    signal = layer(positions)
    table = (original.get_layer("positions").get_weights()[0] if config.positions == "learned"
             else sinusoidal_table(context, config.units))
    layer.set_weights([np.concatenate([np.zeros((1, config.units), np.float32), table]).astype(np.float32)])
    x = keras.layers.Add(name="add_positions", dtype="float32")([x, signal])
    return transformer_blocks(config, x, causal, dtype="float32")


def context_of(original) -> int:
    """The context (training sequence length) of a run's Transformer: its position signal's rows."""
    return int(original.get_layer("positions").context)


def transformer_pooling(config, x, ids, attention_pooling):
    """The review pooling choices over a Transformer's outputs; `attention_pooling`: export.py's, as for a
    recurrent reader."""
    import keras

    if config.pooling == "max_mean":
        mean = keras.layers.GlobalAveragePooling1D(name="mean", dtype="float32")(x)
        return keras.layers.Concatenate(name="max_mean", dtype="float32")([masked_max(x, ids), mean])
    if config.pooling == "attention":
        return attention_pooling(config, x, ids)
    return last_real_word(x, ids)


def masked_max(x, ids):
    """MaskedMaxPooling(floor=None): the largest output over the real words; 0 for a review with none."""
    from keras import ops

    real = ops.expand_dims(ops.not_equal(ids, 0), -1)
    largest = ops.max(ops.where(real, x, -3.0e38), axis=1)
    return ops.where(ops.any(real, axis=1), largest, 0.0)


def last_real_word(x, ids):
    """LastRealWord: the output at the last real word (padding follows the words), the first one's if none."""
    from keras import ops

    real = ops.cast(ops.not_equal(ids, 0), "int32")
    last = ops.maximum(ops.sum(real, axis=1, keepdims=True) - 1, 0)  # (batch, 1)
    positions = ops.cumsum(ops.ones_like(real), axis=1) - 1
    chosen = ops.cast(ops.equal(positions, last), "float32")  # one-hot over the words
    return ops.sum(x * ops.expand_dims(chosen, -1), axis=1)
