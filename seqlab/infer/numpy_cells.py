"""The trained recurrent cells re-implemented in NumPy, for stateful generation one character at a time.

Keras would re-run the prefix, or pay ~1 ms of call overhead, per character. This code is also the reference the
tests hold against Keras: one implementation, not a fast one and a checked one. Speed, exact up to float32 rounding:
Embedding @ first kernel + bias is one lookup table; deeper LSTM/SimpleRNN layers are one product [kernel | recurrent]
@ [x; h]; sigmoid(x) = 0.5 * tanh(x / 2) + 0.5 with the 1/2 folded into the weights, so one tanh covers all gates and
nothing overflows; LSTM gates are reordered (i, f, o, c) so the sigmoids are one slice; arrays are (batch, features)
and weights (inputs, gates*units), C-contiguous, so at a few variations the products can go in column blocks that
OpenBLAS's small-matrix kernel runs without repacking the weights every step (see _Product; ~2x at batch 8).
"""

from __future__ import annotations

import time

import numpy as np

from seqlab.errors import SeqlabError

WARM_BLOCK = 256  # seed steps per projection
BLOCK, SMALL_PRODUCT, PROBES = 64, 1_000_000, 5  # weight columns per small product; OpenBLAS's small-kernel limit


class _Product:
    """x (batch, inputs) @ weights (inputs, outputs), in whichever of two BLAS call patterns is faster for the batch.

    Why: at a small batch (2-15 rows here) OpenBLAS's general GEMM repacks the whole weight matrix on every call and
    reaches about half the speed the arithmetic allows; its small-matrix kernel (used for m*n*k <= 1e6) does not
    repack. Cutting the weights into contiguous column blocks of BLOCK makes every call small. Which pattern wins
    depends on the BLAS build and its threads, so the first call at each batch size times both (a few ms) and keeps
    the faster; both give the same numbers up to float32 rounding.
    """

    def __init__(self, weights: np.ndarray):
        self.weights = np.ascontiguousarray(weights, np.float32)  # (inputs, outputs)
        self.blocks: list[tuple[int, np.ndarray]] | None = None  # (first column, (inputs, BLOCK) copy)
        self.blocked: dict[int, bool] = {}  # batch -> use the blocks

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x)
        blocked = self.blocked.get(len(x))
        if blocked is None:
            blocked = self.blocked[len(x)] = self._blocks_are_faster(x)
        if not blocked:
            return x @ self.weights
        out = np.empty((len(x), self.weights.shape[1]), np.float32)
        for start, block in self.blocks:
            np.matmul(x, block, out=out[:, start:start + block.shape[1]])
        return out

    def _blocks_are_faster(self, x: np.ndarray) -> bool:
        inputs, outputs = self.weights.shape
        if len(x) < 2 or len(x) * inputs * BLOCK > SMALL_PRODUCT or outputs < 2 * BLOCK:
            return False
        if self.blocks is None:
            self.blocks = [(start, np.ascontiguousarray(self.weights[:, start:start + BLOCK]))
                           for start in range(0, outputs, BLOCK)]

        def best_seconds(product) -> float:
            times = []
            for _ in range(PROBES):
                began = time.perf_counter()
                product()
                times.append(time.perf_counter() - began)
            return min(times)

        full = best_seconds(lambda: x @ self.weights)
        self.blocked[len(x)] = True
        return best_seconds(lambda: self(x)) < 0.9 * full


def _recurrent_kind(layer, kinds: dict) -> str | None:
    """"lstm" for keras.layers.LSTM and its subclasses (seqlab's fused layers), and so on; None otherwise."""
    return next((kind for base, kind in kinds.items() if isinstance(layer, base)), None)


class NumpyCharModel:
    """A Keras generation model's recurrence in NumPy. State: float32 (batch, units) arrays [h0, c0 (LSTM), h1, ...]."""

    def __init__(self, table: np.ndarray, layers: list[dict], output_kernel: np.ndarray, output_bias: np.ndarray):
        self.table = table  # (vocabulary, gates*units): embedding @ first kernel + bias
        self.layers = layers  # see _read_recurrent; the first layer's kernel and bias live in the table
        self.output = _Product(output_kernel)  # (units, vocabulary)
        self.output_bias = output_bias  # (vocabulary,)
        self.vocabulary_size = int(output_kernel.shape[1])

    @classmethod
    def from_keras(cls, model) -> NumpyCharModel:
        """Read Embedding, SimpleRNN/LSTM/GRU (Dropout is inert at inference) and Dense layers, in order."""
        import keras

        kinds = {keras.layers.SimpleRNN: "simple_rnn", keras.layers.LSTM: "lstm", keras.layers.GRU: "gru"}
        embedding, layers, dense, linear = None, [], None, keras.activations.linear
        for layer in model.layers:
            if isinstance(layer, keras.layers.InputLayer | keras.layers.Dropout):
                continue
            if isinstance(layer, keras.layers.Embedding) and embedding is None and not layer.mask_zero:
                embedding = np.asarray(layer.get_weights()[0], np.float32)  # (vocabulary, embedding)
            elif (kind := _recurrent_kind(layer, kinds)) and embedding is not None and dense is None:
                layers.append(cls._read_recurrent(layer, kind, first=not layers))
            elif isinstance(layer, keras.layers.Dense) and dense is None and layer.activation is linear:
                dense = [np.asarray(w, np.float32) for w in layer.get_weights()]
            else:
                raise SeqlabError(f"Layer '{layer.name}' ({type(layer).__name__}) cannot be sampled from here",
                                  "a generation model: Embedding (no mask), SimpleRNN/LSTM/GRU layers, Dropout, "
                                  "then a Dense layer of logits", "sample from a model built by build_model")
        if dense is None or not layers:
            raise SeqlabError("The model lacks recurrent layers or a Dense output after them", "a generation model",
                              "sample from a model built by build_model")
        first = layers[0]
        table = embedding @ first.pop("kernel") + first.pop("bias")  # (vocabulary, gates*units)
        bias = dense[1] if len(dense) > 1 else np.zeros(dense[0].shape[1], np.float32)
        return cls(np.ascontiguousarray(table, np.float32), layers, dense[0], bias)

    @staticmethod
    def _read_recurrent(layer, cell: str, first: bool) -> dict:
        """One layer's weights, gates reordered, sigmoid gates halved (see the module docstring)."""
        from keras.activations import sigmoid, tanh
        if (layer.activation is not tanh or layer.go_backwards or not layer.return_sequences
                or (cell != "simple_rnn" and layer.recurrent_activation is not sigmoid)
                or (cell == "gru" and not layer.reset_after)):
            raise SeqlabError(f"Layer '{layer.name}' uses settings this sampler does not implement", "Keras' "
                              "default activations, reset_after GRUs, forward, return_sequences", "use build_model")
        u, weights = layer.units, [np.asarray(w, np.float32) for w in layer.get_weights()]
        width = weights[0].shape[1]  # gates*units
        bias = weights[2] if layer.use_bias else np.zeros((2, width) if cell == "gru" else width, np.float32)
        order, scale = np.arange(width), np.ones(width, np.float32)
        if cell == "lstm":  # Keras (i, f, c, o) -> (i, f, o, c)
            order, scale[:3 * u] = np.r_[0:2 * u, 3 * u:4 * u, 2 * u:3 * u], 0.5
        elif cell == "gru":  # (z, r, h): z and r are sigmoid gates
            scale[:2 * u] = 0.5

        def arrange(array: np.ndarray) -> np.ndarray:  # (..., gates*units), columns reordered and scaled
            return np.ascontiguousarray(array[..., order] * scale, np.float32)

        kernel, recurrent = arrange(weights[0]), arrange(weights[1])  # (inputs, gates*units), (units, gates*units)
        layer_weights = {"cell": cell, "units": u, "recurrent": _Product(recurrent),
                         "bias": arrange(bias[0] if cell == "gru" else bias),  # (gates*units,)
                         "recurrent_bias": arrange(bias[1]) if cell == "gru" else None}
        if first:  # folded into the lookup table by from_keras
            return layer_weights | {"kernel": kernel}
        stacked = None if cell == "gru" else _Product(np.concatenate([kernel, recurrent]))  # [x | h] @ stacked
        return layer_weights | {"kernel": _Product(kernel), "stacked": stacked}

    def initial_state(self, batch: int) -> list[np.ndarray]:
        """Zeros, as Keras starts every sequence: [h] per layer, [h, c] for an LSTM."""
        return [np.zeros((batch, layer["units"]), np.float32)
                for layer in self.layers for _ in range(1 + (layer["cell"] == "lstm"))]

    @staticmethod
    def _gates(layer: dict, z: np.ndarray, c: np.ndarray | None):
        """LSTM/SimpleRNN pre-activations z (batch, gates*units) and c (batch, units) -> new (h, c)."""
        np.tanh(z, out=z)
        if layer["cell"] == "simple_rnn":
            return z, None
        u = layer["units"]
        sigmoids = z[:, :3 * u]
        sigmoids *= 0.5
        sigmoids += 0.5  # i | f | o are sigmoids now, then the candidate
        c_new = z[:, u:2 * u] * c
        candidate = z[:, 3 * u:]
        candidate *= z[:, :u]
        c_new += candidate
        h_new = np.tanh(c_new)
        h_new *= z[:, 2 * u:3 * u]
        return h_new, c_new

    def _cell(self, layer: dict, projected: np.ndarray, h: np.ndarray, c: np.ndarray | None):
        """One step from the input projection (batch, gates*units) and h, c (batch, units) -> new (h, c)."""
        if layer["cell"] != "gru":
            z = layer["recurrent"](h)
            z += projected
            return self._gates(layer, z, c)
        u, recurrent = layer["units"], layer["recurrent"](h)  # (batch, 3*units)
        recurrent += layer["recurrent_bias"]
        gates = np.tanh(projected[:, :2 * u] + recurrent[:, :2 * u]) * 0.5 + 0.5  # z | r
        candidate = np.tanh(projected[:, 2 * u:] + gates[:, u:] * recurrent[:, 2 * u:])  # reset_after: r*(W_h h+b_h)
        return candidate + gates[:, :u] * (h - candidate), None  # z * h + (1 - z) * candidate

    def _split(self, state: list[np.ndarray]) -> list[list]:
        """Flat state -> per layer [h, c] (c None but for an LSTM)."""
        arrays = iter(state)
        return [[next(arrays), next(arrays) if layer["cell"] == "lstm" else None] for layer in self.layers]

    @staticmethod
    def _join(pairs) -> list[np.ndarray]:
        return [array for pair in pairs for array in pair if array is not None]

    def _logits(self, h: np.ndarray) -> np.ndarray:  # the last layer's h (batch, units) -> (batch, vocabulary)
        logits = self.output(h)
        logits += self.output_bias
        return logits

    def step(self, ids: np.ndarray, state: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Feed one character per row: ids (batch,) -> logits (batch, vocabulary), new state."""
        pairs, x = self._split(state), None  # x: (batch, units), the previous layer's output
        for index, (layer, (h, c)) in enumerate(zip(self.layers, pairs)):
            if index == 0:
                pairs[0] = self._cell(layer, self.table[ids], h, c)  # projection: (batch, gates*units)
            elif layer["cell"] == "gru":
                projected = layer["kernel"](x)
                projected += layer["bias"]
                pairs[index] = self._cell(layer, projected, h, c)
            else:
                z = layer["stacked"](np.concatenate([x, h], axis=1))  # (batch, gates*units)
                z += layer["bias"]
                pairs[index] = self._gates(layer, z, c)
            x = pairs[index][0]
        return self._logits(x), self._join(pairs)

    def warm(self, ids: np.ndarray, state: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Feed whole sequences: ids (batch, time) -> logits of the last position (batch, vocabulary), new state."""
        ids, pairs = np.asarray(ids), self._split(state)
        if ids.ndim != 2 or ids.shape[1] < 1:
            raise ValueError(f"warm needs ids of shape (batch, time >= 1), got {ids.shape}")
        for start in range(0, ids.shape[1], WARM_BLOCK):
            block = ids[:, start:start + WARM_BLOCK].T  # (time, batch)
            x = None  # (time, batch, units): the previous layer's outputs
            for index, layer in enumerate(self.layers):
                if index == 0:
                    projected = self.table[block]  # (time, batch, gates*units)
                else:  # one product for the whole block: only h @ recurrent goes step by step
                    projected = (x.reshape(-1, x.shape[-1]) @ layer["kernel"].weights).reshape(*block.shape, -1)
                    projected += layer["bias"]
                (h, c), x = pairs[index], np.empty((*block.shape, layer["units"]), np.float32)
                for t in range(len(block)):
                    h, c = self._cell(layer, projected[t], h, c)
                    x[t] = h
                pairs[index] = (h, c)
        return self._logits(pairs[-1][0]), self._join(pairs)
