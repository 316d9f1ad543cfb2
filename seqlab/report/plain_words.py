"""One name per concept and numbers a person can read: what every page, the CLI and the docs call things.

A loss in nats means nothing to a beginner. For a text model the same number says "as unsure as choosing between
K characters" (the perplexity, e^loss), and the validation accuracy says how often its first guess for the next
character is right. For a review model the accuracy comes first. The cell names are the ones the Train page's
list shows, so a teachers' guide, a run's caption and the CLI can never disagree.
"""

from __future__ import annotations

import math

from seqlab.config import ModelConfig, declared

CELL_NAMES = dict(declared(ModelConfig)["cell"].choices or {})  # the Train page's list itself: {"lstm": "LSTM", ...}
TASK_NAMES = {"generate": "text generation", "classify": "review sentiment", "forecast": "series forecast"}
MAX_SHOWN_PERPLEXITY = 1_000_000  # beyond this (an untrained or diverged model) the figure only says "huge"
FORECAST_BASELINES = {"naive": "repeating the last value", "seasonal_naive": "repeating the value one season back"}
# For experts, wherever a loss is shown in plain words: what the underlying number is.
LOSS_IN_NATS = ("The loss is the cross-entropy in nats (natural logarithm) per character or per review; "
                "e^loss is the 'choosing between K' figure. Lower is better.")


def cell_name(cell: str, bidirectional: bool = False) -> str:
    """'LSTM', 'SimpleRNN', 'bidirectional GRU', 'Tiny Transformer': the Train page's own words for a run's cell (a
    Transformer reads a review whole anyway: never 'bidirectional')."""
    name = CELL_NAMES.get(cell, cell)
    return f"bidirectional {name}" if bidirectional and cell != "transformer" else name


def model_shape(model: dict) -> str:
    """'LSTM · 1 layer × 256 units', 'Tiny Transformer · 2 layers × 128 units, 4 heads': the cell, the layers and
    their size, in the Train page's words."""
    layers = int(model.get("num_layers", 1))
    shape = f"{layers} layer{'s' if layers != 1 else ''} × {int(model.get('units', 0))} units"
    if model.get("cell") == "transformer":
        shape += f", {int(model.get('heads', 1))} head{'s' if model.get('heads', 1) != 1 else ''}"
    return f"{cell_name(str(model.get('cell', '?')), bool(model.get('bidirectional')))} · {shape}"


def perplexity(loss: float) -> float | None:
    """e^loss: the number of equally likely choices the model is as unsure as (None for a missing/bad loss)."""
    if not isinstance(loss, int | float) or not math.isfinite(loss) or loss < 0:
        return None
    return math.exp(min(loss, math.log(MAX_SHOWN_PERPLEXITY) + 1))


def unsure_as(loss: float, task: str = "generate") -> str:
    """'as unsure as choosing between 4.3 characters' (empty for a missing loss)."""
    among = unsure_among(loss)
    if not among:
        return ""
    return f"as unsure as choosing between {among} {'characters' if task == 'generate' else 'answers'}"


def guesses_right(accuracy: float, task: str = "generate") -> str:
    """'guesses the next character right 54% of the time' / 'gets 88% of reviews right'."""
    if not isinstance(accuracy, int | float) or not math.isfinite(accuracy):
        return ""
    if task == "generate":
        return f"guesses the next character right {accuracy:.0%} of the time"
    return f"gets {accuracy:.0%} of reviews right"


def quality_sentence(loss: float | None, accuracy: float | None, task: str) -> str:
    """The plain-words reading of a validation loss and accuracy, accuracy first for reviews.

    'guesses the next character right 54% of the time · as unsure as choosing between 4.3 characters'
    """
    parts = [guesses_right(accuracy, task), unsure_as(loss, task) if task == "generate" else ""]
    return " · ".join(part for part in parts if part)


def headline_figure(loss: float | None, accuracy: float | None, task: str) -> str:
    """The one short figure a table cell shows: accuracy for reviews; for text, accuracy and the perplexity."""
    if task == "classify":
        return f"{accuracy:.1%} right" if isinstance(accuracy, int | float) else "—"
    if task == "forecast":  # its loss is on scaled values: only its error in the series' units reads plainly
        return "—"
    parts = []
    if isinstance(accuracy, int | float) and math.isfinite(accuracy):
        parts.append(f"{accuracy:.0%} right")
    if unsure_among(loss):
        parts.append(f"unsure among {unsure_among(loss)}")
    return " · ".join(parts) or "—"


def unsure_among(loss: float | None) -> str:
    """'4.3', '1,234', 'over 1,000,000': the K of 'as unsure as choosing between K' (empty for a missing loss)."""
    choices = perplexity(loss) if loss is not None else None
    if choices is None:
        return ""
    if choices > MAX_SHOWN_PERPLEXITY:
        return f"over {MAX_SHOWN_PERPLEXITY:,}"
    return f"{choices:.1f}" if choices < 100 else f"{choices:,.0f}"


def reference_words(kind: str, task: str, loss: float) -> str:
    """A baseline on the loss chart in words: what a model that learned nothing (or only letter counts) scores.

    'random guessing among 65 characters', 'guessing from letter frequencies alone', 'a coin flip between
    positive and negative'; the loss in nats follows in brackets for experts.
    """
    if kind in FORECAST_BASELINES:
        return f"{FORECAST_BASELINES[kind]} (loss {loss:.3f})"
    if kind == "uniform" and task == "classify":
        words = "a coin flip between positive and negative"
    elif kind == "uniform":
        words = f"random guessing among {round(math.exp(loss))} characters"
    else:
        words = "guessing from letter frequencies alone"
    return f"{words} (loss {loss:.2f})"


def short_number(value: float) -> str:
    """'12.3', '0.0412', '1,234': enough digits to compare two errors, never a wall of them."""
    size = abs(value)
    return f"{value:,.0f}" if size >= 1000 else f"{value:.1f}" if size >= 10 else f"{value:.3g}"


def forecast_error(mae: float | None, unit: str = "") -> str:
    """'off by 12.3 on average' (a forecast's mean absolute error, in the series' units); empty when missing."""
    if not isinstance(mae, int | float) or isinstance(mae, bool) or not math.isfinite(mae):
        return ""
    return f"off by {f'{short_number(mae)} {unit}'.strip()} on average"
