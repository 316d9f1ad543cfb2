"""Plotly figure builders for training runs: data in, figure out (no Streamlit, no TensorFlow).

Inputs are the records of a run's metrics.jsonl as `seqlab.runs.run_folder.read_metrics` returns them: step records
(`step`, `loss`, `accuracy`, `grad_norm`, ...) and epoch records (`step`, `val_loss`, `val_accuracy`, ...). A long
run's step records arrive thinned to an even grid of steps (seqlab/runs/metrics.py): real records, so the raw curve
keeps its spread and the clipped share counted over them estimates the whole run's.
The Train page redraws these every second, and other pages (Runs, comparisons) reuse them.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

TRAIN_COLOR = "#0068c9"  # blue: readable on light and dark themes
VALIDATION_COLOR = "#ff8700"  # orange
REFERENCE_COLOR = "#8c8c8c"  # grey: reference lines stay in the background
WARNING_COLOR = "#ff2b2b"  # red: the clipping threshold
RAW_OPACITY = 0.3  # the unsmoothed curve stays visible but faint
MAX_POINTS = 2000  # per trace: a 30-minute run has ~18,000 steps; the browser needs far fewer points
SMOOTHING = 0.9  # weight of the past in the exponential moving average (TensorBoard's default is 0.6–0.9)
CHART_HEIGHT = 320


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
    if clip != "norm" or not steps:
        return None
    norms = [record.get("grad_norm") for record in steps]
    measured = [norm for norm in norms if isinstance(norm, int | float) and math.isfinite(norm)]
    if not measured:
        return None
    return sum(norm > threshold for norm in measured) / len(measured)


def _column(records: list[dict], name: str) -> list[float]:
    values = []
    for record in records:
        value = record.get(name)
        values.append(float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan)
    return values


def _layout(figure: go.Figure, title: str, y_title: str) -> go.Figure:
    figure.update_layout(title=title, height=CHART_HEIGHT, margin=dict(l=10, r=10, t=40, b=10),
                         hovermode="x unified", xaxis_title="step", yaxis_title=y_title,  # legend below: narrow
                         legend=dict(orientation="h", yanchor="top", y=-0.25, xanchor="left", x=0))  # columns
    return figure


def _train_traces(figure: go.Figure, steps: list[dict], name: str, label: str) -> None:
    """A faint raw curve and its smoothed version, thinned to at most MAX_POINTS each."""
    x = _column(steps, "step")
    raw = _column(steps, name)
    smoothed = smooth(raw)
    keep = thin(len(x))
    xs = [x[i] for i in keep]
    figure.add_trace(go.Scatter(x=xs, y=[raw[i] for i in keep], name=f"{label} (raw)", mode="lines",
                                line=dict(color=TRAIN_COLOR, width=1), opacity=RAW_OPACITY))
    figure.add_trace(go.Scatter(x=xs, y=[smoothed[i] for i in keep], name=f"{label} (smoothed)", mode="lines",
                                line=dict(color=TRAIN_COLOR, width=2)))


def _validation_trace(figure: go.Figure, epochs: list[dict], name: str, label: str) -> None:
    points = [(record["step"], record[name]) for record in epochs
              if isinstance(record.get(name), int | float) and isinstance(record.get("step"), int)]
    figure.add_trace(go.Scatter(x=[step for step, _ in points], y=[value for _, value in points], name=label,
                                mode="markers+lines", marker=dict(color=VALIDATION_COLOR, size=9),
                                line=dict(color=VALIDATION_COLOR, width=1, dash="dot")))


def _reference_line(figure: go.Figure, y: float, text: str, color: str = REFERENCE_COLOR) -> None:
    figure.add_hline(y=y, line=dict(color=color, dash="dash", width=1.5), annotation_text=text,
                     annotation_position="top right", annotation_font_color=color)


def reference_lines(task: str, reference_losses: dict | None) -> list[tuple[float, str]]:
    """(loss, label) of the baselines a learning model must beat: random guessing, and for generation
    the unigram model (predicting each character by its frequency alone, ignoring context)."""
    references = reference_losses or {}
    lines = []
    uniform = references.get("uniform", math.log(2) if task == "classify" else None)
    if isinstance(uniform, int | float):
        label = "ln 2" if task == "classify" else f"ln {round(math.exp(uniform))}"
        lines.append((float(uniform), f"random guessing ({label} = {uniform:.2f})"))
    unigram = references.get("unigram")
    if task == "generate" and isinstance(unigram, int | float):
        lines.append((float(unigram), f"letter frequencies only ({unigram:.2f})"))
    return lines


def loss_figure(steps: list[dict], epochs: list[dict], task: str, reference_losses: dict | None = None) -> go.Figure:
    """Training loss per step (raw and smoothed), validation loss per epoch, and the baselines."""
    figure = go.Figure()
    _train_traces(figure, steps, "loss", "training loss")
    _validation_trace(figure, epochs, "val_loss", "validation loss")
    for y, text in reference_lines(task, reference_losses):
        _reference_line(figure, y, text)
    unit = "nats per character" if task == "generate" else "nats per review"
    return _layout(figure, "Loss (lower is better)", f"loss ({unit})")


def accuracy_figure(steps: list[dict], epochs: list[dict], task: str) -> go.Figure:
    """Share of correct predictions: next character (generate) or review label (classify)."""
    figure = go.Figure()
    _train_traces(figure, steps, "accuracy", "training accuracy")
    _validation_trace(figure, epochs, "val_accuracy", "validation accuracy")
    if task == "classify":
        _reference_line(figure, 0.5, "coin flip (0.5)")
    figure.update_yaxes(range=[0, 1])
    what = "next character right" if task == "generate" else "review label right"
    return _layout(figure, "Accuracy (higher is better)", f"share {what}")


def grad_norm_figure(steps: list[dict], clip: str, threshold: float) -> go.Figure:
    """Gradient norm before clipping, with the threshold and the share of steps that were clipped."""
    figure = go.Figure()
    x, norms = _column(steps, "step"), _column(steps, "grad_norm")
    keep = thin(len(x))
    figure.add_trace(go.Scatter(x=[x[i] for i in keep], y=[norms[i] for i in keep], name="gradient norm",
                                mode="lines", line=dict(color=TRAIN_COLOR, width=1)))
    share = clipped_share(steps, clip, threshold)
    if clip == "norm":
        _reference_line(figure, threshold, f"clipping threshold ({threshold:g})", WARNING_COLOR)
        title = "Gradient size" + (f": clipped on {share:.0%} of steps" if share is not None else "")
    elif clip == "value":
        title = f"Gradient size (each value clipped to ±{threshold:g}; the norm shown is before clipping)"
    else:
        title = "Gradient size (no clipping)"
    return _layout(figure, title, "gradient norm (before clipping)")
