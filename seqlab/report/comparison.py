"""Comparing runs: the rows of the runs table, the settings that differ, and overlaid learning curves.

Pure functions over what `seqlab.runs.jobs.list_runs` returns and what a run folder holds: no Streamlit,
no TensorFlow (the Runs page must open fast), so everything here is testable on hand-made folders.
"""

from __future__ import annotations

import math
from pathlib import Path

import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from seqlab.config import ModelConfig
from seqlab.corpus.registry import BUILTIN_CORPORA
from seqlab.errors import SeqlabError
from seqlab.model.size import parameter_count
from seqlab.runs import run_folder, states
from seqlab.runs.states import RunState

CELL_NAMES = {"simple_rnn": "plain RNN", "lstm": "LSTM", "gru": "GRU"}
TASK_NAMES = {"generate": "generate text", "classify": "judge reviews"}
# (metric key in metrics.jsonl, panel title); training loss comes per step, the others per epoch
PANELS = (("loss", "Training loss (smoothed)"), ("val_loss", "Validation loss"),
          ("val_accuracy", "Validation accuracy"))
X_AXES = {"step": "training step", "time": "training time (s)"}
SMOOTHING = 0.9  # weight of the running average on the noisy per-step training loss
COLOURS = qualitative.Plotly  # readable on light and dark themes


def corpus_label(corpus: str) -> str:
    """A built-in name as is; a path by its file name (the full path is long and may be private)."""
    return corpus if corpus in BUILTIN_CORPORA else Path(corpus).name or corpus


def cell_label(model: dict) -> str:
    name = CELL_NAMES.get(model.get("cell"), str(model.get("cell")))
    return f"{name} (both directions)" if model.get("bidirectional") else name


def run_label(item: dict) -> str:
    """Legend text: what the model is, then the run id (unique)."""
    model = item.get("model") or {}
    if not model:
        return item["id"]
    return f"{cell_label(model)} {model['num_layers']}×{model['units']} · {item['id']}"


def _parameters(model: dict, status: dict) -> int | None:
    """As counted by Keras when training started; before that, computed where the vocabulary is known."""
    if isinstance(status.get("parameters"), int):
        return status["parameters"]
    vocabulary = status.get("vocabulary_size") or (model["vocabulary_size"] if model["task"] == "classify" else None)
    if not isinstance(vocabulary, int):
        return None  # a generator's vocabulary is known only once its corpus was read
    return parameter_count(ModelConfig(**model), vocabulary)


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(
        value) else None


def table_row(item: dict) -> dict:
    """One row of the runs table; a damaged run keeps its id and shows its problem instead of numbers."""
    status, model, train = item["status"], item.get("model"), item.get("train")
    state = status.get("state", RunState.DAMAGED)
    row = {"Run": item["id"], "Status": state, "Progress": None, "Task": None, "Corpus": None, "Cell": None,
           "Layers": None, "Units": None, "Parameters": None, "Best validation loss": None,
           "Best validation accuracy": None, "Training time (s)": None, "Problem": item.get("error")}
    if state == RunState.QUEUED and status.get("queue_position"):
        row["Status"] = f"queued (#{status['queue_position']} in line)"
    if not model or not train or state == RunState.DAMAGED:
        return row
    row.update({"Task": TASK_NAMES.get(model["task"], model["task"]), "Corpus": corpus_label(train["corpus"]),
                "Cell": cell_label(model), "Layers": model["num_layers"], "Units": model["units"],
                "Parameters": _parameters(model, status),
                "Best validation loss": _number(status.get("best_val_loss")),
                "Best validation accuracy": _number(status.get("best_val_accuracy")),
                "Training time (s)": _number(status.get("elapsed_seconds")),
                "Progress": _number(status.get("progress")),
                "Problem": status.get("error") if state in states.TROUBLED else None})  # (damaged returned above)
    return row


def table_rows(items: list[dict]) -> list[dict]:
    """The runs table, in the order given (list_runs: newest first)."""
    return [table_row(item) for item in items]


def config_diff(items: list[dict]) -> list[dict]:
    """The settings (model.* and train.*) whose values differ between the given runs; one column per run."""
    if len(items) < 2:
        raise SeqlabError(f"{len(items)} run(s) were given to compare", "two runs or more",
                          "select at least two runs")
    for item in items:
        if not item.get("model") or not item.get("train"):
            raise SeqlabError(f"Run {item['id']} has no readable settings", "runs whose config.json is intact",
                              "leave damaged runs out of the comparison")
    rows = []
    for section in ("model", "train"):
        for name in items[0][section]:
            values = [item[section].get(name) for item in items]
            if any(value != values[0] for value in values[1:]):
                rows.append({"setting": f"{section}.{name}", **{item["id"]: _shown(value)
                                                               for item, value in zip(items, values)}})
    return rows


def _shown(value) -> str:
    """Mixed types in one column would confuse the table: show every value as text."""
    return "" if value is None else str(value)


def run_curves(run_dir: Path) -> dict[str, dict[str, list]]:
    """The learning curves of one run: per metric, its x values (step, time) and values."""
    steps, epochs = run_folder.read_metrics(Path(run_dir))
    curves = {}
    for metric, _ in PANELS:
        records = steps if metric == "loss" else epochs
        kept = [record for record in records if _number(record.get(metric)) is not None]
        values = [float(record[metric]) for record in kept]
        curves[metric] = {"step": [record.get("step") for record in kept],
                          "time": [record.get("time") for record in kept],
                          "value": smooth(values) if metric == "loss" else values}
    return curves


def smooth(values: list[float], weight: float = SMOOTHING) -> list[float]:
    """Running average with bias correction (as TensorBoard's), so the first points are not pulled to 0."""
    smoothed, average = [], 0.0
    for index, value in enumerate(values, start=1):
        average = weight * average + (1 - weight) * value
        smoothed.append(average / (1 - weight ** index))
    return smoothed


def overlay_figure(curves_by_run: dict[str, dict[str, dict[str, list]]], x_axis: str = "step") -> go.Figure:
    """One panel per metric, one colour per run (the same in every panel), one legend entry per run."""
    if x_axis not in X_AXES:
        raise SeqlabError(f"Unknown x axis '{x_axis}'", f"one of {', '.join(X_AXES)}", "choose step or time")
    figure = make_subplots(rows=1, cols=len(PANELS), subplot_titles=[title for _, title in PANELS])
    for index, (label, curves) in enumerate(curves_by_run.items()):
        colour = COLOURS[index % len(COLOURS)]
        for column, (metric, _) in enumerate(PANELS, start=1):
            curve = curves.get(metric) or {"step": [], "time": [], "value": []}
            figure.add_trace(go.Scatter(
                x=curve[x_axis], y=curve["value"], name=label, legendgroup=label, showlegend=column == 1,
                mode="lines" if metric == "loss" else "lines+markers", line={"color": colour, "width": 2},
                hovertemplate=f"{label}<br>%{{x}}: %{{y:.4f}}<extra></extra>"), row=1, col=column)
            figure.update_xaxes(title_text=X_AXES[x_axis], row=1, col=column)
    figure.update_layout(height=380, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         legend={"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0})
    return figure
