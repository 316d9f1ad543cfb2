"""The tiny Transformer: a GPT-style stack of pre-LayerNorm blocks, built from Keras' stock layers.

Attention has no memory carried from step to step, so it cannot tell which character came first on its own: each
position adds a signal (`PositionSignal`), learned or the original Transformer's fixed sine waves. Each block is
attention (causal for text, masked padding for reviews) then a ReLU MLP four times as wide, each with a residual
connection, each read through a LayerNormalization first (GPT-2's order, which trains without a warm-up).

The layer names are fixed (`layer_names`): the NumPy generator
(seqlab/infer/numpy_transformer.py) reads the weights by them. The width is `units`, the depth `num_layers`, the
context the training sequence length: the learned position table has exactly that many rows.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from seqlab.config import ModelConfig
from seqlab.errors import require

NORM_EPSILON = 1e-5  # as GPT-2's LayerNorm
POSITION_STDDEV = 0.02  # GPT-2's initial spread of the learned position (and token) vectors


def sinusoidal_table(context: int, width: int) -> np.ndarray:
    """The original Transformer's position signal (Vaswani et al. 2017, section 3.5), float32 (context, width):
    position p, channel 2i is sin(p / 10000^(2i/width)), channel 2i+1 the cos of the same angle. Wavelengths run
    from 2π to 10000·2π, so nearby positions look alike and far ones differ. The NumPy generator uses it too."""
    positions = np.arange(context, dtype=np.float64)[:, None]
    rates = 1.0 / np.power(10000.0, np.arange(0, width, 2, dtype=np.float64) / width)
    angles = positions * rates[None, :]  # (context, ceil(width / 2))
    table = np.zeros((context, width), dtype=np.float64)
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : width // 2])
    return table.astype(np.float32)


@keras.saving.register_keras_serializable(package="seqlab")
class PositionSignal(keras.layers.Layer):
    """x (batch, time, width) -> x + table[:time]: each position's signal added to its vector.

    kind "learned": a trainable weight "table" (context, width), one vector per position; "sinusoidal": the fixed
    `sinusoidal_table`, no weights. `time` must not exceed `context` (the training sequence length). The padding
    mask of a review passes through unchanged."""

    def __init__(self, context: int, width: int, kind: str = "learned", **kwargs):
        super().__init__(**kwargs)
        require(kind in ("learned", "sinusoidal"), f"Unknown position signal {kind!r}", "learned or sinusoidal",
                "pick one of the two")
        self.context, self.width, self.kind = int(context), int(width), kind
        self.supports_masking = True

    def build(self, input_shape):
        if self.kind == "learned":
            self.table = self.add_weight(shape=(self.context, self.width), name="table",
                                         initializer=keras.initializers.RandomNormal(stddev=POSITION_STDDEV))
        else:
            self.fixed = sinusoidal_table(self.context, self.width)

    def call(self, inputs):
        time = inputs.shape[1]
        require(time is None or time <= self.context, f"A sequence of {time} positions reached a Transformer",
                f"at most its context of {self.context} positions (the training sequence length)",
                "cut the input to the last context positions")
        table = self.table if self.kind == "learned" else ops.convert_to_tensor(self.fixed)
        return inputs + ops.cast(table[: ops.shape(inputs)[1]], inputs.dtype)[None]

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "context": self.context, "width": self.width, "kind": self.kind}


def layer_names(num_layers: int) -> dict[str, list[str] | str]:
    """The names a reader of the weights looks for: position signal, per block its layers, final norm."""
    parts = ("norm_1", "attention", "norm_2", "mlp_in", "mlp_out")
    return {"positions": "positions", "final_norm": "final_norm",
            **{part: [f"block_{index}_{part}" for index in range(num_layers)] for part in parts}}


def transformer_stack(config: ModelConfig, train_sequence_length: int, x, causal: bool):
    """Token vectors (batch, time, units) -> the last block's normalised outputs (batch, time, units).

    `causal`: each position attends only to itself and earlier ones (text: nothing may read the future); else
    every real word attends to every real word, and a review's padding (the Embedding's mask) gets no attention."""
    require(train_sequence_length and train_sequence_length > 0, "A Transformer was built without a context length",
            "the training sequence length", "pass the run's sequence_length to build_model")
    x = PositionSignal(train_sequence_length, config.units, config.positions, name="positions")(x)
    return transformer_blocks(config, x, causal)


def transformer_blocks(config: ModelConfig, x, causal: bool, dtype: str | None = None):
    """The blocks and the final norm, from Keras' stock layers only (the export builds the same with
    dtype="float32"): pre-LayerNorm attention and ReLU MLP, each added back to its input."""
    units, heads, typed = config.units, max(1, config.heads), {"dtype": dtype} if dtype else {}
    for index in range(config.num_layers):
        block = f"block_{index}"
        h = keras.layers.LayerNormalization(epsilon=NORM_EPSILON, name=f"{block}_norm_1", **typed)(x)
        h = keras.layers.MultiHeadAttention(num_heads=heads, key_dim=units // heads, name=f"{block}_attention",
                                            **typed)(h, h, use_causal_mask=causal)
        x = keras.layers.Add(name=f"{block}_add_1", **typed)([x, _dropout(config, h, f"{block}_dropout_1", typed)])
        h = keras.layers.LayerNormalization(epsilon=NORM_EPSILON, name=f"{block}_norm_2", **typed)(x)
        h = keras.layers.Dense(4 * units, activation="relu", name=f"{block}_mlp_in", **typed)(h)
        h = keras.layers.Dense(units, name=f"{block}_mlp_out", **typed)(h)
        x = keras.layers.Add(name=f"{block}_add_2", **typed)([x, _dropout(config, h, f"{block}_dropout_2", typed)])
    return keras.layers.LayerNormalization(epsilon=NORM_EPSILON, name="final_norm", **typed)(x)


def _dropout(config: ModelConfig, h, name: str, typed: dict):
    return keras.layers.Dropout(config.dropout, name=name, **typed)(h) if config.dropout else h
