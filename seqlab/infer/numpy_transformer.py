"""The tiny Transformer (seqlab/model/transformer.py) in NumPy, with a key/value cache: one position per character.

A Transformer has no state to carry, only the characters it has read: run as Keras, every new character would re-read
the whole context. But a causal block never lets a position see later ones, so each position's keys and values stay
what they were when it was first computed. They are kept (the cache, per layer); a new character costs one position:
its embedding + position signal, per block a query/key/value for it alone, attention of that one query over the
cached keys, the MLP, then the logits. Same interface as NumpyCharModel (initial_state, warm, step), so CharSampler
samples from either; the state is a list of (batch, ...) arrays: [ids read, length, keys 0, values 0, keys 1, ...].

The context is bounded: the learned position table has exactly `context` rows (the training sequence length), and
sine positions beyond it are positions the model never saw. When the window is full, the next character makes the
generator re-read the last context // 2 characters from scratch, positions starting again at 0, and go on from
there. Sliding the window by one instead would shift every position, so every cached key would be stale and each
character would cost a full re-read again; halving makes it an occasional one (context // 2 positions once every
context // 2 + 1 characters). The logits then equal the Keras model's on that re-read window, exactly as a training
window sees its text. The state's arrays are buffers written in place (copy them to branch a generation).
"""

from __future__ import annotations

import re

import numpy as np

from seqlab.errors import SeqlabError
from seqlab.infer.numpy_cells import _Product


def is_transformer(model) -> bool:
    """True for a model with attention blocks (read by NumpyTransformer), False for a recurrent one."""
    return any(re.fullmatch(r"block_\d+_attention", layer.name) for layer in model.layers)


def _refuse(what: str) -> SeqlabError:
    return SeqlabError(what, "a Transformer generation model built by build_model (embedding, positions, "
                       "pre-LayerNorm blocks of causal attention and a ReLU MLP, final_norm, logits)",
                       "sample from a model built by build_model")


def _layer(model, name: str):
    try:
        return model.get_layer(name)
    except ValueError:
        raise _refuse(f"The model has no layer '{name}'") from None


def _norm(layer) -> tuple[np.ndarray, np.ndarray, float]:
    """A LayerNormalization's (gamma, beta, epsilon), over the last axis only."""
    if list(np.atleast_1d(layer.axis)) not in ([-1], [2]) or not (layer.scale and layer.center):
        raise _refuse(f"Layer '{layer.name}' normalises in a way this generator does not implement")
    gamma, beta = (np.asarray(w, np.float32) for w in layer.get_weights())
    return gamma, beta, float(layer.epsilon)


def _dense(layer, activation: str) -> tuple[_Product, np.ndarray]:
    if layer.activation.__name__ != activation or not layer.use_bias:
        raise _refuse(f"Layer '{layer.name}' is not a Dense layer with bias and {activation} activation")
    kernel, bias = (np.asarray(w, np.float32) for w in layer.get_weights())
    return _Product(kernel), bias


def _attention(layer, units: int) -> dict:
    """One MultiHeadAttention's projections: q, k, v as one (units, 3*units) product, 1/sqrt(key_dim) folded into q."""
    heads, key_dim = layer.num_heads, layer.key_dim
    if (layer.value_dim not in (None, key_dim) or heads * key_dim != units or not layer.use_bias
            or getattr(layer, "_use_gate", False) or getattr(layer, "_sliding_window", None) is not None
            or layer.attention_axes not in (None, (1,), [1])):
        raise _refuse(f"Layer '{layer.name}' uses attention settings this generator does not implement")
    scale = np.float32(1.0 / np.sqrt(float(key_dim)))
    dense = [layer.query_dense, layer.key_dense, layer.value_dense]
    kernels = [np.asarray(d.kernel, np.float32).reshape(units, units) for d in dense]  # (units, heads*key_dim)
    biases = [np.asarray(d.bias, np.float32).reshape(units) for d in dense]
    kernels[0], biases[0] = kernels[0] * scale, biases[0] * scale
    out = layer.output_dense
    return {"qkv": _Product(np.concatenate(kernels, axis=1)), "qkv_bias": np.concatenate(biases),
            "out": _Product(np.asarray(out.kernel, np.float32).reshape(units, units)),
            "out_bias": np.asarray(out.bias, np.float32).reshape(units), "heads": heads}


def _layer_norm(x: np.ndarray, norm: tuple) -> np.ndarray:
    gamma, beta, epsilon = norm
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = np.mean(np.square(centred), axis=-1, keepdims=True)
    centred *= gamma / np.sqrt(variance + epsilon)
    centred += beta
    return centred


class NumpyTransformer:
    """A Keras Transformer generation model in NumPy float32, generating with a key/value cache (module docstring)."""

    def __init__(self, embedding: np.ndarray, positions: np.ndarray, blocks: list[dict], final_norm: tuple,
                 output: tuple[_Product, np.ndarray]):
        self.embedding = embedding  # (vocabulary, units)
        self.positions = positions  # (context, units)
        self.blocks = blocks  # per block: norm_1, attention (see _attention), norm_2, mlp_in, mlp_out
        self.final_norm, (self.output, self.output_bias) = final_norm, output
        self.context, self.units = positions.shape
        self.heads = blocks[0]["heads"] if blocks else 1
        self.vocabulary_size = int(embedding.shape[0])
        self.positions_computed = 0  # positions run through the blocks, all calls together (what generation costs)

    @classmethod
    def from_keras(cls, model) -> NumpyTransformer:
        """Read the layers by the names seqlab/model/transformer.py gives them; dropout is inert at inference."""
        from seqlab.model.transformer import sinusoidal_table

        embedding_layer, signal = _layer(model, "embedding"), _layer(model, "positions")
        if getattr(embedding_layer, "mask_zero", False):
            raise _refuse("The embedding masks id 0, which a generation model does not")
        embedding = np.ascontiguousarray(embedding_layer.get_weights()[0], np.float32)
        units = embedding.shape[1]
        if signal.kind == "learned":
            positions = np.asarray(signal.get_weights()[0], np.float32)
        else:
            positions = sinusoidal_table(signal.context, signal.width)
        count = sum(bool(re.fullmatch(r"block_\d+_attention", layer.name)) for layer in model.layers)
        blocks = [{"norm_1": _norm(_layer(model, f"block_{i}_norm_1")),
                   "norm_2": _norm(_layer(model, f"block_{i}_norm_2")),
                   "mlp_in": _dense(_layer(model, f"block_{i}_mlp_in"), "relu"),
                   "mlp_out": _dense(_layer(model, f"block_{i}_mlp_out"), "linear"),
                   **_attention(_layer(model, f"block_{i}_attention"), units)} for i in range(count)]
        if not blocks or positions.shape != (signal.context, units):
            raise _refuse("The model has no attention blocks, or its position signal is not as wide as its embedding")
        return cls(embedding, np.ascontiguousarray(positions), blocks, _norm(_layer(model, "final_norm")),
                   _dense(_layer(model, "logits"), "linear"))

    def initial_state(self, batch: int) -> list[np.ndarray]:
        """Nothing read yet: [ids (batch, context), length (batch,), then per block keys and values
        (batch, heads, context, key_dim)], the caches allocated once at their full size."""
        cache = (batch, self.heads, self.context, self.units // self.heads)
        return [np.zeros((batch, self.context), np.int32), np.zeros(batch, np.int32),
                *(np.zeros(cache, np.float32) for _ in range(2 * len(self.blocks)))]

    def step(self, ids: np.ndarray, state: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Feed one character per row: ids (batch,) -> logits (batch, vocabulary), the state (updated in place)."""
        return self.warm(np.asarray(ids).reshape(-1, 1), state)

    def warm(self, ids: np.ndarray, state: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Feed whole sequences: ids (batch, time) -> logits of the last position (batch, vocabulary), the state.

        The result is the one feeding the characters one `step` at a time would give: while the window has room
        the new positions extend the cache; past the context, only the window that stepping would end with is
        encoded (a seed of thousands of characters costs one window, not all of them).
        """
        ids = np.asarray(ids)
        if ids.ndim != 2 or ids.shape[1] < 1:
            raise ValueError(f"warm needs ids of shape (batch, time >= 1), got {ids.shape}")
        length, total = int(state[1][0]), int(state[1][0]) + ids.shape[1]
        if total <= self.context:
            return self._extend(ids, state), state
        half = max(1, self.context // 2)  # past the first overflow the window cycles half, ..., context, half, ...
        window = half + (total - self.context - 1) % (self.context - half + 1)
        read = np.concatenate([state[0][:, :length], ids], axis=1)[:, -window:]
        state[1][:] = 0
        return self._extend(read, state), state

    def _extend(self, ids: np.ndarray, state: list[np.ndarray]) -> np.ndarray:
        """Append `ids` (batch, new) at the window's end: compute their positions only, attending over the cache."""
        start, new = int(state[1][0]), ids.shape[1]
        end, batch, heads = start + new, len(ids), self.heads
        state[0][:, start:end], state[1][:] = ids, end
        self.positions_computed += new
        x = (self.embedding[ids] + self.positions[start:end]).reshape(batch * new, self.units)
        causal = np.arange(end)[None, :] > np.arange(start, end)[:, None] if new > 1 else None  # (new, end): hidden
        for index, block in enumerate(self.blocks):
            keys, values = state[2 + 2 * index], state[3 + 2 * index]  # (batch, heads, context, key_dim)
            qkv = self._product(block["qkv"], _layer_norm(x, block["norm_1"]), new)
            qkv += block["qkv_bias"]
            q, k, v = qkv.reshape(batch, new, 3, heads, -1).transpose(2, 0, 3, 1, 4)  # each (batch, heads, new, kd)
            keys[:, :, start:end], values[:, :, start:end] = k, v
            scores = q @ keys[:, :, :end].transpose(0, 1, 3, 2)  # (batch, heads, new, end)
            if causal is not None:
                scores[:, :, causal] = -np.inf
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            attended = (scores @ values[:, :, :end]).transpose(0, 2, 1, 3).reshape(batch * new, self.units)
            x += self._product(block["out"], attended, new) + block["out_bias"]
            hidden = self._product(block["mlp_in"][0], _layer_norm(x, block["norm_2"]), new)
            hidden += block["mlp_in"][1]
            np.maximum(hidden, 0.0, out=hidden)
            x += self._product(block["mlp_out"][0], hidden, new) + block["mlp_out"][1]
        last = _layer_norm(x.reshape(batch, new, self.units)[:, -1], self.final_norm)
        logits = self.output(last)
        logits += self.output_bias
        return logits

    @staticmethod
    def _product(product: _Product, x: np.ndarray, new: int) -> np.ndarray:
        """A step's small product through _Product (its BLAS pattern picked per batch); a block's as one plain GEMM."""
        return product(x) if new == 1 else x @ product.weights
