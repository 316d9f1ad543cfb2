"""Windows of text to measure a run's reach on (influence_by_distance): the same ones every time for the same run.

Why the validation tail: the last 10% of the corpus is text the model never trained on (split_by_position), so the
reach it shows is the model's habit, not a memory of its training windows. Starts are drawn by a seeded generator,
so the page and the CLI show the same number on every look; without the corpus (a deleted file, a corpus that would
need a download) the text the person gave stands in, and the result says which was used.
"""

from __future__ import annotations

import numpy as np

from seqlab.errors import SeqlabError

WINDOW_COUNT, WINDOW_LENGTH = 64, 100  # one backward pass of 64 x 100 characters: about a second on two cores


def pick_windows(ids: np.ndarray, count: int = WINDOW_COUNT, length: int = WINDOW_LENGTH,
                 seed: int = 0) -> np.ndarray:
    """Up to `count` windows (n, length + 1) of `ids` at distinct seeded random starts; shorter windows (the whole
    text) when the text has fewer than length + 1 characters. SeqlabError below two characters."""
    ids = np.asarray(ids)
    if len(ids) < 2:
        raise SeqlabError(f"The text has {len(ids)} usable character(s)",
                          "at least two: one to read and one to predict", "use a longer text")
    length = min(length, len(ids) - 1)
    starts = len(ids) - length  # possible starts of a window of length + 1
    chosen = np.sort(np.random.default_rng(seed).choice(starts, size=min(count, starts), replace=False))
    return ids[chosen[:, None] + np.arange(length + 1)[None, :]]


def run_windows(run, text: str | None = None, count: int = WINDOW_COUNT, length: int = WINDOW_LENGTH,
                seed: int = 0) -> tuple[np.ndarray, str]:
    """Windows for a generate run (a LoadedRun) and where they came from, in words.

    From the validation part of the run's corpus; from `text` instead (characters the model never saw skipped) when
    the corpus cannot be read or is too short. With text=None the corpus's SeqlabError is raised.
    """
    from seqlab.corpus.registry import load_corpus
    from seqlab.encoding.datasets import split_by_position

    try:
        corpus = load_corpus(run.train_config.corpus, allow_download=False)
        if corpus.task != "generate":
            raise SeqlabError(f"'{corpus.name}' is not a text corpus", "the run's text corpus", "retrain the run")
        tail = split_by_position(run.vocabulary.encode(corpus.text, unknown="skip"))[1]
        return pick_windows(tail, count, length, seed), f"the validation part of {corpus.name}"
    except SeqlabError:
        if text is None:
            raise
    return pick_windows(run.vocabulary.encode(text, unknown="skip"), count, length, seed), "the given text"
