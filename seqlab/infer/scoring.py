"""Review scoring: P(positive) for texts and per-word contributions (whole files: score_file.py).

Speed comes from three things (a classifier's eager `model(strings)` call ran Keras' recurrent loop op by op
in Python): the saved TextVectorization runs once per batch of strings; the rest of the model — embedding,
recurrent layers, output — runs as one traced tf.function; and reviews are sorted by length and each batch is
cut to its longest review, so short reviews do not pay for the padding. Cutting padding changes nothing: the
embedding masks id 0 and a masked step leaves the recurrent state as it was, in both directions.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqlab.corpus.imdb import clean_review
from seqlab.errors import SeqlabError

VECTORIZE_ROWS = 4096  # strings per TextVectorization call
SCORE_ROWS = 16_384  # texts whose word ids are held at once (~100 MB at 800 words a review)
MAX_EXPLAINED_CHARACTERS = 50_000  # word contributions: IMDb's longest review is ~14,000 characters
_PUNCTUATION = frozenset(string.punctuation)  # what the vectorizer strips: a chunk of only these is no word


@dataclass
class WordContribution:
    word: str  # the word as written, attached punctuation included
    start: int  # character offsets into the original text: text[start:end] == word
    end: int
    contribution: float  # P(full text) - P(text without this word): > 0 pushes toward positive
    attention: float | None = None  # an attention model's weight on this word (they sum to 1): where it looked


def verdict(probability: float) -> str:
    return "positive" if probability > 0.5 else "negative"


def _check_batch_size(batch_size) -> None:
    if not (isinstance(batch_size, int) and not isinstance(batch_size, bool) and batch_size >= 1):
        raise SeqlabError(f"batch_size is {batch_size!r}", "a whole number, at least 1", "use 256")


class ReviewScorer:
    """A trained review classifier, split into its vectorizer and a traced body (see the module docstring)."""

    def __init__(self, model, name: str = "the model"):
        import keras
        import tensorflow as tf

        names = [type(layer).__name__ for layer in model.layers]
        if "TextVectorization" not in names or "Embedding" not in names:
            raise SeqlabError(f"{name} is not a review classifier", "a model whose first layers are "
                              "TextVectorization and Embedding", "pick a classify run")
        self.name = name
        self.vectorizer = model.layers[names.index("TextVectorization")]
        self.sequence_length = int(self.vectorizer.get_config()["output_sequence_length"])
        from seqlab.model.builder import apply_after_vectorizer

        ids = keras.Input(shape=(None,), dtype="int64", name="ids")  # (batch, time): any width
        body = keras.Model(ids, apply_after_vectorizer(model, ids))  # embedding (masks 0), recurrent stack, output
        self._forward = tf.function(lambda batch: body(batch, training=False), reduce_retracing=True,
                                    input_signature=[tf.TensorSpec([None, None], tf.int64)])
        self._attention = _attention_function(model)  # None unless the verdict comes from attention pooling

    @property
    def has_attention(self) -> bool:
        """True for a model whose verdict comes from attention over all words (pooling "attention")."""
        return self._attention is not None

    @classmethod
    def from_run(cls, run_dir: Path, root: Path | None = None) -> ReviewScorer:
        """The classifier of a classify run (SeqlabError for any other run, or one seqlab may not load)."""
        from seqlab.infer.loading import load_run, require_task

        run = require_task(load_run(run_dir, root), "classify", "score reviews")
        return cls(run.model, name=run.path.name)

    def probabilities(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        """P(positive) per text, float32 (n,). Texts are cleaned as training text was (clean_review)."""
        if isinstance(texts, str) or not isinstance(texts, list | tuple):
            raise SeqlabError(f"texts is a {type(texts).__name__}", "a list of review strings",
                              "pass the texts as a list, even a single one")
        _check_batch_size(batch_size)
        for index, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                problem = "empty" if isinstance(text, str) else f"a {type(text).__name__}, not a string"
                raise SeqlabError(f"Text {index + 1} of {len(texts)} is {problem}", "some words to score",
                                  "remove empty texts, or type a review")
        return self._probabilities_of_clean([clean_review(text) for text in texts], batch_size)

    def _probabilities_of_clean(self, cleaned: list[str], batch_size: int = 256) -> np.ndarray:
        """Vectorized and scored SCORE_ROWS texts at a time, so the id matrix stays small whatever the count."""
        parts = [self._probabilities_of_ids(self._ids(cleaned[start:start + SCORE_ROWS]), batch_size)
                 for start in range(0, len(cleaned), SCORE_ROWS)]
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    def _ids(self, cleaned: list[str]) -> np.ndarray:
        """Word ids (n, sequence_length), 0-padded at the end, from the run's own vectorizer."""
        import tensorflow as tf

        if not cleaned:
            return np.zeros((0, self.sequence_length), np.int64)
        return np.concatenate([self.vectorizer(tf.constant(cleaned[start:start + VECTORIZE_ROWS])).numpy()
                               for start in range(0, len(cleaned), VECTORIZE_ROWS)])

    def _probabilities_of_ids(self, ids: np.ndarray, batch_size: int = 256) -> np.ndarray:
        import tensorflow as tf

        lengths = np.count_nonzero(ids, axis=1)  # padding (0) only ever trails
        order = np.argsort(-lengths, kind="stable")
        result = np.empty(len(ids), np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            width = max(1, int(lengths[rows].max()))
            result[rows] = np.asarray(self._forward(tf.constant(ids[rows, :width])))[:, 0]
        return result

    def word_contributions(self, text: str, max_words: int = 400) -> tuple[float, list[WordContribution]]:
        """P(positive) of `text` and each word's leave-one-out contribution.

        A word is a whitespace-separated chunk of the original text (HTML line breaks count as spaces) holding
        something besides ASCII punctuation, which the vectorizer strips. Its contribution is P(text) minus P(text
        with that chunk removed); all the variants are scored as batches. Only the first `max_words` words are
        scored and listed; later words still count in the full text's probability. A word whose removal leaves the
        model's input unchanged — past its sequence length (the vectorizer keeps that many words) — contributes
        exactly 0 and is not scored again. A model with attention pooling also gives each word its attention
        weight (`attention`): where the model looked, which is not what changed its verdict.
        """
        if not isinstance(max_words, int) or isinstance(max_words, bool) or max_words < 1:
            raise SeqlabError(f"max_words is {max_words!r}", "a whole number, at least 1", "use 400")
        if not isinstance(text, str) or not text.strip():
            raise SeqlabError("The text is empty", "a review of at least one word", "type or paste a review")
        if len(text) > MAX_EXPLAINED_CHARACTERS:  # each word's variant is a copy of the whole text
            raise SeqlabError(f"The review is {len(text):,} characters long", "a review of at most "
                              f"{MAX_EXPLAINED_CHARACTERS:,} characters to explain word by word",
                              "explain a shorter excerpt (its probability alone has no such limit)")
        spans = word_spans(text)[:max_words]
        variants = [clean_review(text)] + [clean_review(text[:start] + " " + text[end:]) for start, end in spans]
        ids = self._ids(variants)  # (1 + words, sequence_length)
        changed = np.flatnonzero((ids[1:] != ids[0]).any(axis=1)) + 1  # the others: the model sees no difference
        scores = self._probabilities_of_ids(ids[np.r_[0, changed]]).astype(np.float64)
        contributions = np.zeros(len(variants))
        contributions[changed] = scores[0] - scores[1:]
        attention = self._word_attention(text, spans, ids[0]) if self.has_attention else [None] * len(spans)
        words = [WordContribution(text[start:end], start, end, float(contribution), weight)
                 for (start, end), contribution, weight in zip(spans, contributions[1:], attention)]
        return float(scores[0]), words

    def _word_attention(self, text: str, spans: list[tuple[int, int]], ids: np.ndarray) -> list[float]:
        """Each span's attention weight in the full text (0 for a word past the sequence length, unseen). A
        chunk of the text is one token of the vectorizer or none (one of only punctuation, stripped), so
        vectorizing the chunks one by one says which token each word is."""
        import tensorflow as tf

        if not spans:
            return []
        chunks = [chunk for chunk in word_spans(text, keep_punctuation=True) if chunk[0] <= spans[-1][0]]
        tokens = np.count_nonzero(self._ids([clean_review(text[start:end]) or " " for start, end in chunks]) > 0,
                                  axis=1) > 0
        position = dict(zip(chunks, np.where(tokens, np.cumsum(tokens) - 1, -1)))  # -1: no token
        width = max(1, int(np.count_nonzero(ids)))
        weights = np.asarray(self._attention(tf.constant(ids[np.newaxis, :width])), np.float64)[0]
        return [float(weights[position[span]]) if 0 <= position[span] < width else 0.0 for span in spans]


def word_spans(text: str, keep_punctuation: bool = False) -> list[tuple[int, int]]:
    """(start, end) of each word in `text`, as word_contributions defines a word (with `keep_punctuation`, also
    the chunks of only punctuation)."""
    import re

    from seqlab.corpus.imdb import _BREAK_TAG

    masked = _BREAK_TAG.sub(lambda match: " " * len(match.group()), text)  # same offsets, tags are spaces
    return [match.span() for match in re.finditer(r"\S+", masked)
            if keep_punctuation or any(character not in _PUNCTUATION for character in match.group())]


def _attention_function(model):
    """Word ids (1, words) -> the attention weights (1, words) of a model with attention pooling; else None."""
    import keras
    import tensorflow as tf

    from seqlab.model.builder import ATTENTION_LAYER

    names = [layer.name for layer in model.layers]
    if ATTENTION_LAYER not in names or "trim_padding" not in names:
        return None
    attention = model.get_layer(ATTENTION_LAYER)
    read = attention.input  # the recurrent outputs (with the mask Keras passed beside them: not wanted here)
    outputs = keras.Model(model.get_layer("trim_padding").output, read[0] if isinstance(read, list | tuple) else read)
    return tf.function(lambda ids: attention.weights_for(outputs(ids, training=False), tf.not_equal(ids, 0)),
                       input_signature=[tf.TensorSpec([None, None], tf.int64)])
