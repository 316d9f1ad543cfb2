"""Plotly figures for the Data page: what a corpus looks like before a model sees it (pure: data in, figure out)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import plotly.graph_objects as go

from seqlab.corpus.registry import Corpus

POSITIVE_COLOUR, NEGATIVE_COLOUR, TEXT_COLOUR = "#2ca02c", "#d62728", "#636efa"


def _visible(character: str) -> str:
    """Whitespace made visible on an axis: a space is '␣', a newline '↵'."""
    return {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}.get(character, character)


def character_frequency_figure(text: str, top: int = 40) -> go.Figure:
    """The most frequent characters: what the unigram baseline on the Train page's loss chart has learned."""
    counts = Counter(text).most_common(top)
    total = max(len(text), 1)
    figure = go.Figure(go.Bar(x=[_visible(c) for c, _ in counts], y=[n / total for _, n in counts],
                              marker_color=TEXT_COLOUR, hovertemplate="%{x}: %{y:.2%}<extra></extra>"))
    figure.update_layout(title=f"The {len(counts)} most frequent characters", yaxis_tickformat=".0%",
                         xaxis_title="character", yaxis_title="share of the text", height=320,
                         margin=dict(l=10, r=10, t=50, b=10))
    figure.update_xaxes(type="category")
    return figure


def line_length_figure(text: str) -> go.Figure:
    """Line lengths in characters: a sequence length longer than most lines lets a model see line structure."""
    lengths = np.array([len(line) for line in text.split("\n")])
    figure = go.Figure(go.Histogram(x=lengths, nbinsx=60, marker_color=TEXT_COLOUR))
    figure.update_layout(title="Line lengths", xaxis_title="characters per line", yaxis_title="lines",
                         height=320, margin=dict(l=10, r=10, t=50, b=10))
    return figure


def review_length_figure(corpus: Corpus, clip_percentile: float = 99) -> go.Figure:
    """Words per review, by class: pick a sequence length that covers most reviews."""
    words = np.array([len(text.split()) for text in corpus.texts])
    labels = np.asarray(corpus.labels)
    limit = float(np.percentile(words, clip_percentile)) if len(words) else 0.0
    figure = go.Figure()
    for value, name, colour in ((1, "positive", POSITIVE_COLOUR), (0, "negative", NEGATIVE_COLOUR)):
        figure.add_trace(go.Histogram(x=np.minimum(words[labels == value], limit), name=name, opacity=0.6,
                                      marker_color=colour, nbinsx=60))
    figure.update_layout(barmode="overlay", title=f"Review length (words; clipped at the {clip_percentile:.0f}th "
                         "percentile)", xaxis_title="words per review", yaxis_title="reviews", height=320,
                         margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=1.02, x=1,
                                                                           xanchor="right", yanchor="bottom"))
    return figure


def class_balance_figure(corpus: Corpus) -> go.Figure:
    """Positive against negative per split: a model that always says the majority class scores this share."""
    splits = {"train": np.asarray(corpus.labels)}
    if corpus.test_labels is not None:
        splits["test"] = np.asarray(corpus.test_labels)
    figure = go.Figure()
    for value, name, colour in ((1, "positive", POSITIVE_COLOUR), (0, "negative", NEGATIVE_COLOUR)):
        figure.add_trace(go.Bar(y=list(splits), x=[int(np.sum(labels == value)) for labels in splits.values()],
                                name=name, orientation="h", marker_color=colour))
    figure.update_layout(barmode="stack", title="Class balance", xaxis_title="reviews", height=220,
                         margin=dict(l=10, r=10, t=50, b=10))
    return figure
