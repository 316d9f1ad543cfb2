"""Plotly figure builders for training runs: data in, figure out (no Streamlit, no TensorFlow).

Inputs are the records of a run's metrics.jsonl as `seqlab.runs.run_folder.read_metrics` returns them: step records
(`step`, `loss`, `accuracy`, `grad_norm`, ...) and epoch records (`step`, `val_loss`, `val_accuracy`, ...). A long
run's step records arrive thinned to an even grid of steps (seqlab/runs/metrics.py): real records, so the raw curve
keeps its spread and the clipped share counted over them estimates the whole run's.
The Train page redraws these every second for every run being watched, and other pages (Runs, comparisons) reuse
them, so they are built cheaply: the point columns are NumPy arrays (Plotly checks an array at once rather than value
by value, and sends it as one base64 block rather than as decimal text) and the baselines are written straight into
the layout (Plotly's add_hline re-validates the whole layout for every line).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from seqlab.report import plain_words

TRAIN_COLOR = "#0068c9"  # blue: readable on light and dark themes
VALIDATION_COLOR = "#ff8700"  # orange
REFERENCE_COLOR = "#8c8c8c"  # grey: reference lines stay in the background
WARNING_COLOR = "#ff2b2b"  # red: the clipping threshold
RAW_OPACITY = 0.3  # the unsmoothed curve stays visible but faint
MAX_POINTS = 500  # per trace: a 30-minute run has ~18,000 steps; a chart a few hundred pixels wide needs no more
SMOOTHING = 0.9  # weight of the past in the exponential moving average (TensorBoard's default is 0.6–0.9)
CHART_HEIGHT = 440  # one chart per row, full width: tall enough to read from the back of a room
NUMBER_TYPES = (int, float)  # what JSON numbers parse to
LOSS_UNITS = {"generate": "nats per character", "classify": "nats per review",
              "forecast": "squared error, scaled values"}


def smooth(values: list[float], weight: float = SMOOTHING) -> list[float]:
    """Exponential moving average with bias correction, so the first points are not dragged to zero.

    Non-finite values (a diverged step) are carried through as NaN without poisoning the average.
    """
    smoothed, average, count = [], 0.0, 0
    for value in values:
        if value is None or not math.isfinite(value):
            smoothed.append(math.nan)
            continue
        count += 1
        average = weight * average + (1 - weight) * value
        smoothed.append(average / (1 - weight**count))
    return smoothed


def thin(count: int, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most `max_points` evenly spread items out of `count`, always keeping the last one."""
    if count <= max_points:
        return np.arange(count)
    indices = np.linspace(0, count - 1, max_points).round().astype(int)
    return np.unique(indices)


def clipped_share(steps: list[dict], clip: str, threshold: float) -> float | None:
    """Share of steps whose gradient norm (measured before clipping) exceeded the threshold.

    Only meaningful for clip "norm" (the whole gradient is rescaled when its norm is above the threshold);
    None for "none" and for "value" (per-element clipping, which the norm does not reveal).
    """
    return _clipped_share(Columns(steps), clip, threshold)


def _clipped_share(columns: Columns, clip: str, threshold: float) -> float | None:
    if clip != "norm" or not columns.count:
        return None
    norms = columns["grad_norm"]
    measured = norms[np.isfinite(norms)]
    return float(np.mean(measured > threshold)) if measured.size else None


class Columns:
    """The step records' values by name, as float arrays (NaN where missing or not a number: a bool is not one),
    each extracted once however many figures draw it: the live view builds three figures from one set of records
    every second. Exact type checks, because isinstance against a union is slower over thousands of records."""

    def __init__(self, steps: list[dict]) -> None:
        self.steps, self.count, self._arrays = steps, len(steps), {}
        self.keep = thin(self.count)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            values = [record.get(name) for record in self.steps]
            self._arrays[name] = np.array([value if type(value) in NUMBER_TYPES else math.nan for value in values],
                                          dtype=float)
        return self._arrays[name]


def _figure(traces: list[dict], title: str, y_title: str, lines: Sequence[tuple[float, str, str]] = (),
            y_range: list[float] | None = None, y_format: str | None = None) -> go.Figure:
    """The traces on the common layout, with a dashed horizontal line per (y, text, color) of `lines`."""
    shapes = [dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=y, y1=y,
                   line=dict(color=color, dash="dash", width=1.5)) for y, _, color in lines]
    notes = [dict(text=text, xref="x domain", x=1, yref="y", y=y, showarrow=False, xanchor="right",
                  yanchor="bottom", font=dict(color=color)) for y, text, color in lines]
    # automargin: the y title gets the room it needs (a fixed 10 px margin cut "gradient norm" to "radient norm")
    layout = dict(title=dict(text=title), height=CHART_HEIGHT, margin=dict(l=10, r=10, t=70, b=10),
                  hovermode="x unified", xaxis=dict(title=dict(text="step"), automargin=True),
                  yaxis=dict(title=dict(text=y_title, standoff=8), automargin=True,
                             **({"range": y_range} if y_range else {}),
                             **({"tickformat": y_format} if y_format else {})),
                  shapes=shapes, annotations=notes,
                  legend=dict(orientation="h", yanchor="top", y=-0.15, xanchor="left", x=0))
    return go.Figure(data=traces, layout=layout, _validate=False)  # built from fixed, known-good properties


def _train_traces(columns: Columns, name: str, label: str) -> list[dict]:
    """A faint raw curve and its smoothed version, thinned to at most MAX_POINTS each."""
    raw, keep = columns[name], columns.keep
    smoothed = np.array(smooth(raw.tolist()), dtype=float)
    x = columns["step"][keep]
    return [dict(type="scatter", x=x, y=raw[keep], name=f"{label} (raw)", mode="lines",
                 line=dict(color=TRAIN_COLOR, width=1), opacity=RAW_OPACITY),
            dict(type="scatter", x=x, y=smoothed[keep], name=f"{label} (smoothed)", mode="lines",
                 line=dict(color=TRAIN_COLOR, width=2))]


def _validation_trace(epochs: list[dict], name: str, label: str) -> dict:
    points = [(record["step"], record[name]) for record in epochs
              if isinstance(record.get(name), int | float) and isinstance(record.get("step"), int)]
    return dict(type="scatter", x=np.array([step for step, _ in points], dtype=float),
                y=np.array([value for _, value in points], dtype=float), name=label, mode="markers+lines",
                marker=dict(color=VALIDATION_COLOR, size=9), line=dict(color=VALIDATION_COLOR, width=1, dash="dot"))


def reference_lines(task: str, reference_losses: dict | None) -> list[tuple[float, str]]:
    """(loss, words) of the baselines a learning model must beat: random guessing, and for generation the
    unigram model (predicting each character by its frequency alone, ignoring context), said in words."""
    references = reference_losses or {}
    lines = []
    uniform = references.get("uniform", math.log(2) if task == "classify" else None)
    if isinstance(uniform, int | float):
        lines.append((float(uniform), plain_words.reference_words("uniform", task, float(uniform))))
    unigram = references.get("unigram")
    if task == "generate" and isinstance(unigram, int | float):
        lines.append((float(unigram), plain_words.reference_words("unigram", task, float(unigram))))
    for kind in ("naive", "seasonal_naive") if task == "forecast" else ():
        if type(references.get(kind)) in NUMBER_TYPES and math.isfinite(references[kind]):
            lines.append((float(references[kind]), plain_words.reference_words(kind, task, float(references[kind]))))
    return lines


def latest_reading(epochs: list[dict], task: str) -> str:
    """The newest validation round in plain words ('guesses the next character right 54% of the time · as
    unsure as choosing between 4.3 characters'; a forecast's 'off by 12.3 on average'); empty before the first round."""
    if task == "forecast":
        return plain_words.forecast_error(_last(epochs, "val_mae"))
    for record in reversed(epochs):
        loss, accuracy = record.get("val_loss"), record.get("val_accuracy")
        if type(loss) in NUMBER_TYPES or type(accuracy) in NUMBER_TYPES:
            return plain_words.quality_sentence(loss if type(loss) in NUMBER_TYPES else None,
                                                accuracy if type(accuracy) in NUMBER_TYPES else None, task)
    return ""


def loss_figure(steps: list[dict], epochs: list[dict], task: str, reference_losses: dict | None = None) -> go.Figure:
    """Training loss per step (raw and smoothed), validation loss per epoch, and the baselines."""
    return _loss_figure(Columns(steps), epochs, task, reference_losses)


def accuracy_figure(steps: list[dict], epochs: list[dict], task: str) -> go.Figure:
    """Share of correct predictions: next character (generate) or review label (classify)."""
    return _accuracy_figure(Columns(steps), epochs, task)


def grad_norm_figure(steps: list[dict], clip: str, threshold: float) -> go.Figure:
    """Gradient norm before clipping, with the threshold and the share of steps that were clipped."""
    return _grad_norm_figure(Columns(steps), clip, threshold)


def training_figures(steps: list[dict], epochs: list[dict], task: str, reference_losses: dict | None, clip: str,
                     threshold: float) -> tuple[go.Figure, go.Figure, go.Figure, float | None]:
    """(loss, accuracy, gradient figures, clipped share) from one pass over the records: what the live view
    draws, rebuilt whenever a watched run's metrics grow."""
    columns = Columns(steps)
    return (_loss_figure(columns, epochs, task, reference_losses), _accuracy_figure(columns, epochs, task),
            _grad_norm_figure(columns, clip, threshold), _clipped_share(columns, clip, threshold))


def _loss_figure(columns: Columns, epochs: list[dict], task: str, reference_losses: dict | None) -> go.Figure:
    validation = _validation_trace(epochs, "val_loss", "validation loss")
    if task == "generate":  # the hover says each point in words too
        validation["text"] = [plain_words.unsure_as(float(loss)) for loss in validation["y"]]
        validation["hovertemplate"] = "%{y:.3f} · %{text}"
    traces = [*_train_traces(columns, "loss", "training loss"), validation]
    lines = [(y, text, REFERENCE_COLOR) for y, text in reference_lines(task, reference_losses)]
    unit = LOSS_UNITS.get(task, "nats per review")
    reading = latest_reading(epochs, task)
    held_back = "values" if task == "forecast" else "text"
    title = "Loss (lower is better)" + (f"<br><sup>Now, on held-back {held_back}: {reading}</sup>" if reading else "")
    return _figure(traces, title, f"loss ({unit})", lines)


def _accuracy_figure(columns: Columns, epochs: list[dict], task: str) -> go.Figure:
    if task == "forecast":
        return _error_figure(epochs)
    traces = [*_train_traces(columns, "accuracy", "training accuracy"),
              _validation_trace(epochs, "val_accuracy", "validation accuracy")]
    lines = [(0.5, "coin flip (0.5)", REFERENCE_COLOR)] if task == "classify" else []
    what = "next character right" if task == "generate" else "review label right"
    reading = plain_words.guesses_right(_last(epochs, "val_accuracy"), task)
    title = "Accuracy (higher is better)" + (f"<br><sup>Now, on held-back text: {reading}</sup>" if reading else "")
    return _figure(traces, title, what, lines, y_range=[0, 1], y_format=".0%")


def _error_figure(epochs: list[dict]) -> go.Figure:
    """A forecast run has no 'right or wrong': its second chart is the validation error in the series' own units."""
    trace = _validation_trace(epochs, "val_mae", "validation: off by on average (MAE)")
    return _figure([trace], "Forecast error in the series' own units (lower is better)", "off by on average")


def _last(epochs: list[dict], name: str) -> float | None:
    values = [record[name] for record in epochs if type(record.get(name)) in NUMBER_TYPES]
    return values[-1] if values else None


def _grad_norm_figure(columns: Columns, clip: str, threshold: float) -> go.Figure:
    keep = columns.keep
    trace = dict(type="scatter", x=columns["step"][keep], y=columns["grad_norm"][keep], name="gradient norm",
                 mode="lines", line=dict(color=TRAIN_COLOR, width=1))
    share = _clipped_share(columns, clip, threshold)
    lines = []
    if clip == "norm":
        lines.append((threshold, f"clipping threshold ({threshold:g})", WARNING_COLOR))
        title = "Gradient size" + (f": clipped on {share:.0%} of steps" if share is not None else "")
    elif clip == "value":
        title = f"Gradient size (each value clipped to ±{threshold:g}; the norm shown is before clipping)"
    else:
        title = "Gradient size (no clipping)"
    return _figure([trace], title, "gradient norm (before clipping)", lines)
