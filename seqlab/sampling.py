"""Stateful character generation on a CPU, in plain NumPy: the seed warms the state once, then one step per character.

Keras would re-run the prefix, or pay ~1 ms of call overhead, per character. This code is also the reference the
tests hold against Keras: one implementation, not a fast one and a checked one. Speed, exact up to float32 rounding:
Embedding @ first kernel + bias is one lookup table; deeper LSTM/SimpleRNN layers are one product [kernel | recurrent]
@ [x; h]; sigmoid(x) = 0.5 * tanh(x / 2) + 0.5 with the 1/2 folded into the weights, so one tanh covers all gates and
nothing overflows; LSTM gates are reordered (i, f, o, c) so the sigmoids are one slice; arrays are (batch, features)
and weights (inputs, gates*units), C-contiguous, so at a few variations the products can go in column blocks that
OpenBLAS's small-matrix kernel runs without repacking the weights every step (see _Product; ~2x at batch 8).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from seqlab.errors import SeqlabError
from seqlab.text import CharVocabulary

MAX_LENGTH, MAX_NUM, ALTERNATIVES, WARM_BLOCK = 100_000, 64, 5, 256  # WARM_BLOCK: seed steps per projection
BLOCK, SMALL_PRODUCT, PROBES = 64, 1_000_000, 5  # weight columns per small product; OpenBLAS's small-kernel limit


def check_sampling_options(length, temperature, top_k, top_p, num, vocabulary_size: int) -> None:
    """Raise a SeqlabError for options a person can get wrong in the app or the CLI."""

    def whole(value, low, high) -> bool:
        return isinstance(value, int | np.integer) and not isinstance(value, bool) and low <= value <= high

    def number(value) -> float:  # NaN for anything but a plain number: bools and strings fail the checks
        return float(value) if isinstance(value, int | float | np.number) and not isinstance(value, bool) else math.nan

    checks = [  # (ok, name, value, expected, fix)
        (whole(length, 1, MAX_LENGTH), "length", length, f"a whole number of characters from 1 to {MAX_LENGTH}",
         f"ask for between 1 and {MAX_LENGTH} new characters"),
        (math.isfinite(number(temperature)) and number(temperature) > 0, "temperature", temperature, "a finite "
         "number above 0 (typical: 0.5 to 1.2)", "use a positive temperature; for deterministic output use greedy"),
        (whole(top_k, 0, vocabulary_size), "top_k", top_k, f"a whole number from 0 (keep all) to {vocabulary_size}"
         " (the vocabulary size)", f"set top_k between 0 and {vocabulary_size}"),
        (0 < number(top_p) <= 1, "top_p", top_p, "a value above 0 and at most 1 (1 keeps all characters)",
         "set top_p such as 0.9, or 1 to turn nucleus sampling off"),
        (whole(num, 1, MAX_NUM), "num", num, f"a whole number of variations from 1 to {MAX_NUM}",
         f"ask for between 1 and {MAX_NUM} variations")]
    for ok, name, value, expected, fix in checks:
        if not ok:
            raise SeqlabError(f"{name} is {value!r}", expected, fix)


def _choose(logits: np.ndarray, rng: np.random.Generator, temperature: float, top_k: int, top_p: float,
            greedy: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids ranked best first and their filtered, renormalised probabilities (batch, vocabulary); drawn ranks (batch,).

    Ranking raw logits stably (ties: lower id first, as argmax) makes top_k=1 exactly greedy. top_p applies after
    top_k and keeps at least the best id. The inverse-CDF draw (`cumulative < u`) never lands on a zero probability;
    greedy reports the unfiltered softmax, how sure the model was.
    """
    order = np.argsort(-logits, axis=-1, kind="stable")  # (batch, vocabulary)
    ranked = logits[np.arange(len(logits))[:, None], order]
    probabilities = np.subtract(ranked, ranked[:, :1], dtype=np.float64)  # <= 0: exp never overflows
    probabilities /= temperature
    np.exp(probabilities, out=probabilities)
    if not greedy and 0 < top_k < probabilities.shape[1]:
        probabilities[:, top_k:] = 0.0
    cumulative = np.cumsum(probabilities, axis=-1)
    if not greedy and top_p < 1.0:  # drop ids whose better-ranked mass already reaches top_p
        probabilities[cumulative - probabilities >= top_p * cumulative[:, -1:]] = 0.0
        cumulative = np.cumsum(probabilities, axis=-1)
    probabilities /= cumulative[:, -1:]
    if greedy:
        return order, probabilities, np.zeros(len(order), np.intp)
    uniforms = rng.random((len(order), 1)) * cumulative[:, -1:]
    return order, probabilities, (cumulative < uniforms).sum(axis=-1)


def sample_next(logits: np.ndarray, rng: np.random.Generator, temperature: float = 1.0, top_k: int = 0,
                top_p: float = 1.0, greedy: bool = False) -> np.ndarray:
    """Next ids (batch,) from logits (batch, vocabulary): softmax(logits / temperature), top_k, top_p, draw."""
    logits = np.atleast_2d(np.asarray(logits))
    if greedy:
        return np.argmax(logits, axis=-1)
    order, _, ranks = _choose(logits, rng, temperature, top_k, top_p, greedy)
    return order[np.arange(len(order)), ranks]


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
            elif type(layer) in kinds and embedding is not None and dense is None:
                layers.append(cls._read_recurrent(layer, kinds[type(layer)], first=not layers))
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


@dataclass
class GeneratedChunk:
    """New characters of one stream chunk, for every variation."""

    texts: list[str]  # one string per variation
    probabilities: list[list[float]]  # per variation, each new character's probability when it was drawn
    alternatives: list[list[list[tuple[str, float]]]]  # per variation, per character: top 5 (character, probability)


class CharSampler:
    """Text from a NumpyCharModel: the seed warms the state once, then one step per character."""

    def __init__(self, model: NumpyCharModel, vocabulary: CharVocabulary):
        if model.vocabulary_size != vocabulary.size:
            raise SeqlabError(f"The model predicts {model.vocabulary_size} characters but the vocabulary has "
                              f"{vocabulary.size}", "the model's own vocabulary", "load both from the same run")
        self.model, self.vocabulary = model, vocabulary
        self.characters = np.array(vocabulary.characters)

    def _primer(self) -> np.ndarray:
        """For an empty seed: a newline (text starts as after a paragraph), else a space, else the first id."""
        known = [character for character in "\n " if character in self.vocabulary.characters]
        return self.vocabulary.encode(known[0]) if known else np.zeros(1, np.int32)

    def stream(self, seed: str, length: int, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
               greedy: bool = False, num: int = 1, random_seed: int | None = None,
               chunk_size: int = 32) -> Iterator[GeneratedChunk]:
        """The `length` new characters (not the seed) in chunks of up to chunk_size, all variations as one batch.

        Options and seed are checked at the call, not at the first chunk. The seed is warmed once at batch 1 and
        copied to the `num` rows, which draw their own uniforms from one generator: the same random_seed repeats the
        texts. An empty seed starts from zeros fed a primer (see _primer).
        """
        check_sampling_options(length, temperature, top_k, top_p, num, self.vocabulary.size)
        if not (isinstance(chunk_size, int) and chunk_size >= 1):
            raise SeqlabError(f"chunk_size is {chunk_size!r}", "a whole number, at least 1", "use chunks of 32")
        ids = self.vocabulary.encode(seed) if seed else self._primer()
        rng = np.random.default_rng(random_seed)
        return self._chunks(ids, length, (temperature, top_k, top_p, greedy), num, rng, chunk_size)

    def _chunks(self, ids, length, options, num, rng, chunk_size) -> Iterator[GeneratedChunk]:
        logits, state = self.model.warm(ids[None, :], self.model.initial_state(1))
        logits, state = np.repeat(logits, num, axis=0), [np.repeat(s, num, axis=0) for s in state]
        rows, last, shown = np.arange(num), None, min(ALTERNATIVES, self.vocabulary.size)
        for start in range(0, length, chunk_size):
            size = min(chunk_size, length - start)
            chosen, chosen_p = np.empty((size, num), np.intp), np.empty((size, num))  # (time, batch)
            top_ids, top_values = np.empty((size, num, shown), np.intp), np.empty((size, num, shown))
            for t in range(size):
                if last is not None:  # feed the previous character only when another one is wanted
                    logits, state = self.model.step(last, state)
                order, probabilities, ranks = _choose(logits, rng, *options)
                chosen[t] = last = order[rows, ranks]
                chosen_p[t] = probabilities[rows, ranks]
                top_ids[t], top_values[t] = order[:, :shown], probabilities[:, :shown]
            texts = ["".join(row) for row in self.characters[chosen.T].tolist()]
            names, values = self.characters[top_ids.transpose(1, 0, 2)].tolist(), top_values.transpose(1, 0, 2)
            alternatives = [[list(zip(*pair)) for pair in zip(*row)] for row in zip(names, values.tolist())]
            yield GeneratedChunk(texts, chosen_p.T.tolist(), alternatives)

    def generate(self, seed: str, length: int, **options) -> list[str]:
        """The seed and then `length` new characters, one string per variation (options as for stream)."""
        chunks = [chunk.texts for chunk in self.stream(seed, length, **options)]
        return [seed + "".join(texts) for texts in zip(*chunks)]
