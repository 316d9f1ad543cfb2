"""Stateful character generation on a CPU, in plain NumPy: the seed warms the state once, then one step per character.

The models themselves live beside this module: the recurrent cells (NumpyCharModel) in seqlab/infer/numpy_cells.py,
the Transformer with its key/value cache (NumpyTransformer) in seqlab/infer/numpy_transformer.py; this module samples
from either (`numpy_model` picks the one that reads a given Keras model).

Keras would re-run the prefix, or pay ~1 ms of call overhead, per character; here the state is carried over.
Sampling: temperature divides the logits, top-k and top-p (nucleus) cut the tail, greedy takes the likeliest;
all variations are one batch and draw from one seeded generator, so a random seed repeats the texts.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from seqlab.encoding.vocabulary import CharVocabulary
from seqlab.errors import SeqlabError
from seqlab.infer.numpy_cells import NumpyCharModel
from seqlab.infer.numpy_transformer import NumpyTransformer, is_transformer

MAX_LENGTH, MAX_NUM, ALTERNATIVES = 100_000, 64, 5
MAX_SEED_CHARACTERS = 10_000  # a seed warms the state one character at a time: a page of text is plenty


def numpy_model(model) -> NumpyCharModel | NumpyTransformer:
    """A Keras generation model in NumPy: a Transformer with its key/value cache, else the recurrent cells. Both have
    initial_state, warm and step, so the sampler below (and the export check) need not know which it holds."""
    return NumpyTransformer.from_keras(model) if is_transformer(model) else NumpyCharModel.from_keras(model)


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


@dataclass
class GeneratedChunk:
    """New characters of one stream chunk, for every variation."""

    texts: list[str]  # one string per variation
    probabilities: list[list[float]]  # per variation, each new character's probability when it was drawn
    alternatives: list[list[list[tuple[str, float]]]]  # per variation, per character: top 5 (character, probability)


class CharSampler:
    """Text from a NumpyCharModel or NumpyTransformer: the seed warms the state once, then one step per character."""

    def __init__(self, model: NumpyCharModel | NumpyTransformer, vocabulary: CharVocabulary):
        if model.vocabulary_size != vocabulary.size:
            raise SeqlabError(f"The model predicts {model.vocabulary_size} characters but the vocabulary has "
                              f"{vocabulary.size}", "the model's own vocabulary", "load both from the same run")
        self.model, self.vocabulary = model, vocabulary
        self.characters = np.array(vocabulary.characters)

    @classmethod
    def from_keras(cls, model, vocabulary: CharVocabulary) -> CharSampler:
        """A sampler for a Keras generation model of any cell (see numpy_model)."""
        return cls(numpy_model(model), vocabulary)

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
        if not isinstance(seed, str) or len(seed) > MAX_SEED_CHARACTERS:
            raise SeqlabError(f"The seed is {len(seed) if isinstance(seed, str) else type(seed).__name__} "
                              "characters long", f"a seed of at most {MAX_SEED_CHARACTERS:,} characters",
                              "shorten the seed: the last few hundred characters are what the model carries on from")
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
