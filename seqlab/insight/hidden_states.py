"""Trace one text through a generation model, character by character, and keep everything the cells computed.

Why a second loop beside NumpyCharModel.warm: warm overwrites its arrays in place (it only needs the last state);
a person looking inside the network wants every step — the hidden state h, an LSTM's memory c, and each gate's
value — so this loop computes the same maths without reusing buffers, one sequence at a time. It reads the weights
NumpyCharModel already holds (gates reordered to i, f, o, candidate and the sigmoid gates pre-scaled by 1/2, so
sigmoid(x) = 0.5 * tanh(x') + 0.5 with x' the stored pre-activation): nothing is read from Keras twice, and the
tests hold the traced states against warm's and against Keras' own layer outputs.

Gates get plain names, the share of something in 0..1 at every unit and step:
  LSTM: "kept"    (forget gate f) — the share of the old memory kept,
        "written" (input gate i)  — the share of the new candidate written into memory,
        "shown"   (output gate o) — the share of the memory shown as the hidden state;
  GRU:  "kept"    (update gate z) — the share of the old state kept,
        "reset"   (reset gate r)  — the share of the old state used to propose the new one;
  SimpleRNN: no gates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from seqlab.errors import SeqlabError
from seqlab.infer.numpy_cells import NumpyCharModel

MAX_TRACE_CHARACTERS = 2000  # every step keeps (units,) arrays per layer and gate; a page of text is plenty to look at

GATE_MEANINGS = {
    "kept": "share of the old memory (LSTM) or state (GRU) kept",
    "written": "share of the new candidate written into memory (LSTM)",
    "shown": "share of the memory shown as the hidden state (LSTM)",
    "reset": "share of the old state used to propose the new one (GRU)",
}


@dataclass
class LayerTrace:
    """One recurrent layer's values at every step of the text; arrays are float32 (time, units)."""

    cell: str  # "lstm", "gru" or "simple_rnn"
    units: int
    hidden: np.ndarray  # h after each character: what the layer passes on
    memory: np.ndarray | None = None  # an LSTM's cell state c after each character; None for GRU/SimpleRNN
    gates: dict[str, np.ndarray] = field(default_factory=dict)  # plain gate name (GATE_MEANINGS) -> values


@dataclass
class Trace:
    """A text's trip through the model. Position t is the state after reading ids[t]."""

    ids: np.ndarray  # int (time,)
    layers: list[LayerTrace]
    next_probability: np.ndarray  # (time,): probability given to ids[t + 1] after reading ids[:t + 1]; NaN at the end
    top_guess: np.ndarray  # (time,) int: the likeliest next character's id after reading ids[:t + 1]
    top_probability: np.ndarray  # (time,): that guess's probability

    @property
    def length(self) -> int:
        return len(self.ids)

    def final_state(self) -> list[np.ndarray]:
        """The last step's state in NumpyCharModel's layout: [h0, c0 (LSTM), h1, ...], each (1, units)."""
        return [array[-1:] for layer in self.layers for array in (layer.hidden, layer.memory) if array is not None]


def encode_text(vocabulary, text: str) -> np.ndarray:
    """A text a person typed as ids for trace_text: SeqlabError if it is empty, too long, or has characters the
    model never saw (the vocabulary names them; guessing a substitute would trace a text nobody wrote)."""
    if not isinstance(text, str) or not text:
        raise SeqlabError("The text to look at is empty", "at least one character",
                          "type or paste some text in the style of the corpus")
    if len(text) > MAX_TRACE_CHARACTERS:
        raise SeqlabError(f"The text is {len(text):,} characters long",
                          f"at most {MAX_TRACE_CHARACTERS:,} characters (every step's states are kept)",
                          "shorten the text to a paragraph or two")
    return vocabulary.encode(text)


def trace_text(model: NumpyCharModel, ids: np.ndarray) -> Trace:
    """Feed ONE sequence of character ids (time,) through the model from a zero state, keeping every step."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or not 1 <= len(ids) <= MAX_TRACE_CHARACTERS:
        raise SeqlabError(f"The ids to trace have shape {ids.shape}",
                          f"one sequence of 1 to {MAX_TRACE_CHARACTERS:,} character ids", "trace one shorter text")
    if not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0 or ids.max() >= model.vocabulary_size:
        raise SeqlabError("The ids to trace are not character ids of this model",
                          f"whole numbers from 0 to {model.vocabulary_size - 1}", "encode the text with the run's "
                          "vocabulary (encode_text)")
    layers, x = [], None  # x: (time, units) the previous layer's outputs
    for index, layer in enumerate(model.layers):
        if index == 0:
            projected = model.table[ids]  # embedding @ kernel + bias, folded by NumpyCharModel.from_keras
        else:
            projected = x @ layer["kernel"].weights + layer["bias"]
        layers.append(_trace_layer(layer, projected.astype(np.float32)))
        x = layers[-1].hidden
    logits = x.astype(np.float64) @ model.output.weights + model.output_bias  # (time, vocabulary)
    logits -= logits.max(axis=1, keepdims=True)
    probabilities = np.exp(logits)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    next_probability = np.full(len(ids), np.nan)
    next_probability[:-1] = probabilities[np.arange(len(ids) - 1), ids[1:]]
    top_guess = probabilities.argmax(axis=1)
    return Trace(ids, layers, next_probability, top_guess, probabilities[np.arange(len(ids)), top_guess])


def _sigmoid(stored: np.ndarray) -> np.ndarray:
    """A sigmoid gate from its stored pre-activation (already halved by NumpyCharModel)."""
    return 0.5 * np.tanh(stored) + 0.5


def _trace_layer(layer: dict, projected: np.ndarray) -> LayerTrace:
    """One layer over all steps from its input projection (time, gates*units): states and gates at every step."""
    cell, units = layer["cell"], layer["units"]
    recurrent = layer["recurrent"].weights  # (units, gates*units)
    steps = len(projected)
    hidden = np.empty((steps, units), np.float32)
    names = {"lstm": ("written", "kept", "shown"), "gru": ("kept", "reset")}.get(cell, ())
    gates = {name: np.empty((steps, units), np.float32) for name in names}
    memory = np.empty((steps, units), np.float32) if cell == "lstm" else None
    h, c = np.zeros(units, np.float32), np.zeros(units, np.float32)
    for t in range(steps):
        if cell == "simple_rnn":
            h = np.tanh(projected[t] + h @ recurrent)
        elif cell == "lstm":  # stored order: i | f | o | candidate
            z = projected[t] + h @ recurrent
            written, kept, shown = (_sigmoid(z[k * units:(k + 1) * units]) for k in range(3))
            c = kept * c + written * np.tanh(z[3 * units:])
            h = shown * np.tanh(c)
            gates["written"][t], gates["kept"][t], gates["shown"][t], memory[t] = written, kept, shown, c
        else:  # GRU, reset_after: r multiplies the recurrent candidate term (with its own bias)
            from_state = h @ recurrent + layer["recurrent_bias"]
            kept = _sigmoid(projected[t, :units] + from_state[:units])
            reset = _sigmoid(projected[t, units:2 * units] + from_state[units:2 * units])
            candidate = np.tanh(projected[t, 2 * units:] + reset * from_state[2 * units:])
            h = kept * h + (1 - kept) * candidate
            gates["kept"][t], gates["reset"][t] = kept, reset
        hidden[t] = h
    return LayerTrace(cell, units, hidden, memory, gates)
