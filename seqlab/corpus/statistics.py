"""Corpus statistics for `inspect` and the Data page, and the fit-for-training checks.

Pure Python/NumPy on purpose: the Data page shows these without importing TensorFlow.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from seqlab import settings
from seqlab.corpus.registry import Corpus
from seqlab.errors import SeqlabError

VALIDATION_FRACTION = 0.1  # generation corpora: the last 10% (by position) is held out
PERCENTILES = (5, 25, 50, 75, 95)


def corpus_statistics(corpus: Corpus) -> dict:
    """A JSON-ready summary: sizes, vocabulary, class balance, length percentiles."""
    stats: dict = {"name": corpus.name, "task": corpus.task, "source": corpus.source}
    if corpus.task == "forecast":
        return {**stats, **series_statistics(corpus.series)}
    if corpus.task == "generate":
        counts = Counter(corpus.text)
        total = len(corpus.text)
        unigram_entropy = -sum(c / total * math.log(c / total) for c in counts.values())
        stats.update(
            characters=total,
            distinct_characters=len(counts),
            lines=corpus.text.count("\n") + 1,
            words=len(corpus.text.split()),
            most_common=[[ch, n] for ch, n in counts.most_common(10)],
            # reference losses (nats/char) for the training charts: uniform guessing and unigram frequencies
            uniform_loss=math.log(len(counts)),
            unigram_loss=unigram_entropy,
        )
        return stats
    stats["splits"] = {"train": _split_statistics(corpus.texts, corpus.labels)}
    if corpus.test_texts is not None:
        stats["splits"]["test"] = _split_statistics(corpus.test_texts, corpus.test_labels)
    stats["documents"] = sum(split["documents"] for split in stats["splits"].values())
    stats.update({key: value for key, value in corpus.details.items()})
    return stats


def series_statistics(series) -> dict:
    """A series' size, range and gaps, and its season (its own, or the one its autocorrelation suggests)."""
    from seqlab.corpus.series import detect_season

    values = series.values
    return {"values": int(len(values)), "minimum": float(values.min()), "maximum": float(values.max()),
            "mean": float(values.mean()), "season_length": int(series.season_length or detect_season(values)),
            "missing_filled": series.missing_filled, "missing_dropped": series.missing_dropped,
            "value_column": series.value_column, "date_column": series.date_column,
            "first_date": series.dates[0] if series.dates else None,
            "last_date": series.dates[-1] if series.dates else None}


def _split_statistics(texts: list[str], labels: np.ndarray) -> dict:
    words = np.array([len(text.split()) for text in texts])
    positive = int(np.sum(labels))
    return {
        "documents": len(texts),
        "positive": positive,
        "negative": len(texts) - positive,
        "positive_share": positive / len(texts) if texts else 0.0,
        "characters": int(sum(len(text) for text in texts)),
        "length_words_percentiles": {str(p): int(np.percentile(words, p)) for p in PERCENTILES},
        "length_words_max": int(words.max()) if len(words) else 0,
    }


def minimum_generation_characters(sequence_length: int) -> int:
    """The held-out 10% must hold one full window (sequence_length inputs + 1 target)."""
    return math.ceil((sequence_length + 1) / VALIDATION_FRACTION)


def _shorter_or_longer(characters: int) -> str:
    longest = int(characters * VALIDATION_FRACTION) - 1
    if longest < 2:  # no sequence length would do
        return f"use a longer text: at least {minimum_generation_characters(2):,} characters even for windows of 2"
    return f"use a longer text, or a sequence length of at most {longest}"


def check_trainable(corpus: Corpus, task: str, sequence_length: int) -> None:
    """Refuse a corpus that cannot train the chosen task at the chosen sequence length."""
    if corpus.task != task:
        wanted = {"generate": "a .txt text", "classify": "labelled reviews (.csv/.tsv or a review corpus)",
                  "forecast": "a series of numbers (sunspots, seasonal-synthetic, or a .csv column)"}[task]
        raise SeqlabError(
            f"'{corpus.name}' is a {corpus.task} corpus, but the run is a {task} run",
            wanted,
            f"pick a {task} corpus, or switch the task to '{corpus.task}'",
        )
    if task == "generate":
        distinct, most = len(set(corpus.text)), settings.max_characters()
        if distinct > most:  # each distinct character is an output of the model (and a row of its embedding)
            raise SeqlabError(
                f"'{corpus.name}' has {distinct:,} distinct characters",
                f"at most {most:,} (each one is an output of the model; {settings.MAX_CHARACTERS_VARIABLE} sets "
                "the limit)", "use a text in fewer scripts, or ask the operator to raise the limit",
            )
        needed = minimum_generation_characters(sequence_length)
        if len(corpus.text) < needed:
            raise SeqlabError(
                f"'{corpus.name}' has {len(corpus.text):,} characters, too short for sequence length "
                f"{sequence_length}",
                f"at least {needed:,} characters (10% is held out for validation and must hold one "
                f"window of {sequence_length + 1})",
                _shorter_or_longer(len(corpus.text)),
            )
    elif task == "forecast":  # long enough for its windows: encoding/windows.py check_series_fits (it knows the cut)
        return
    elif len(corpus.texts) < 20:
        raise SeqlabError(
            f"'{corpus.name}' has only {len(corpus.texts)} labelled reviews",
            "at least 20 (10% are held out for validation)",
            "add more labelled examples",
        )
