"""Comparing runs: the rows of the runs table, the settings that differ, and overlaid learning curves.

Pure functions over what `seqlab.runs.jobs.list_runs` returns and what a run folder holds: no Streamlit,
no TensorFlow (the Runs page must open fast), so everything here is testable on hand-made folders.
A run is shown by its human name (label.json, seqlab/runs/names.py), its figures in plain words
(seqlab/report/plain_words.py): a text model's loss and a review model's loss are different quantities, so the
table gives each task the figure a person can compare — accuracy for reviews, accuracy and "unsure among K
characters" for text — and keeps the loss in nats as a number for experts.
"""

from __future__ import annotations

import math
from pathlib import Path

import plotly.graph_objects as go
from plotly.colors import qualitative

from seqlab.config import ModelConfig, all_settings
from seqlab.corpus.registry import BUILTIN_CORPORA
from seqlab.errors import SeqlabError
from seqlab.model.size import parameter_count
from seqlab.report import plain_words
from seqlab.runs import names, run_folder, states
from seqlab.runs.states import RunState

TASK_NAMES = plain_words.TASK_NAMES
# What the comparison chart can draw: key -> (picker label, y-axis title, record kind, transform, log axis).
# Training figures come per step (smoothed), validation figures per epoch.
METRICS = {
    "val_accuracy": ("Right on held-back text (validation accuracy)", "share right on held-back text", "epoch",
                     "value", False),
    "unsure": ("How unsure while training (choosing between K)", "as unsure as choosing between K (training)",
               "step", "perplexity", True),
    "val_unsure": ("How unsure on held-back text (choosing between K)", "as unsure as choosing between K "
                   "(held-back text)", "epoch", "perplexity", True),
    "loss": ("Training loss in nats (for experts)", "training loss (nats, smoothed)", "step", "value", False),
    "val_loss": ("Validation loss in nats (for experts)", "validation loss (nats)", "epoch", "value", False),
    "val_mae": ("Forecast error on held-back values (off by, in the series' units)", "off by on average (held-back "
                "values)", "epoch", "value", False),
}
SOURCES = {"val_accuracy": "val_accuracy", "unsure": "loss", "val_unsure": "val_loss", "loss": "loss",
           "val_loss": "val_loss", "val_mae": "val_mae"}  # the metrics.jsonl field each chart metric is drawn from
X_AXES = {"step": "training step", "time": "training time (s)"}
SMOOTHING = 0.9  # weight of the running average on the noisy per-step training loss
COLOURS = qualitative.Plotly  # readable on light and dark themes
CHART_HEIGHT = 520  # one chart, full width: big enough for a projector
LOG_TICKS = [1, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 40, 60, 100, 200, 500, 1000, 10_000, 100_000, 1_000_000]


def corpus_label(corpus: str) -> str:
    """A built-in name as is; a path by its file name (the full path is long and may be private)."""
    return corpus if corpus in BUILTIN_CORPORA else Path(corpus).name or corpus


def cell_label(model: dict) -> str:
    """The cell in the Train page's words ('SimpleRNN', 'bidirectional LSTM')."""
    return plain_words.cell_name(str(model.get("cell")), bool(model.get("bidirectional")))


def run_name(item: dict) -> str:
    """The run's human name (label.json), or its id for an older run or one whose folder is gone."""
    return names.run_name(Path(item["path"])) if item.get("path") else item["id"]


def run_label(item: dict) -> str:
    """Legend and picker text: the run's name, then what the model is ('lstm-shakespeare-3 · LSTM · 1 layer × 256
    units'); a damaged run by its name alone."""
    model = item.get("model") or {}
    return f"{run_name(item)} · {plain_words.model_shape(model)}" if model else run_name(item)


def run_labels(items: list[dict], with_model: bool = True) -> dict[str, str]:
    """run id -> label (or name alone), made unique (a renamed run may share another's name: its id then follows)."""
    labels = {item["id"]: run_label(item) if with_model else run_name(item) for item in items}
    counts: dict[str, int] = {}
    for label in labels.values():
        counts[label] = counts.get(label, 0) + 1
    return {run_id: label if counts[label] == 1 else f"{label} · {run_id}" for run_id, label in labels.items()}


def _parameters(model: dict, status: dict, sequence_length: int = 0) -> int | None:
    """As counted by Keras when training started; before that, computed where the vocabulary is known."""
    if isinstance(status.get("parameters"), int):
        return status["parameters"]
    vocabulary = status.get("vocabulary_size") or (model["vocabulary_size"] if model["task"] == "classify" else None)
    if not isinstance(vocabulary, int):
        return None  # a generator's vocabulary is known only once its corpus was read
    return parameter_count(ModelConfig(**model), vocabulary, sequence_length)


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(
        value) else None


def table_row(item: dict) -> dict:
    """One row of the runs table; a damaged run keeps its name and id and shows its problem instead of numbers.

    "Right" is the validation accuracy (next character, or review label); "Unsure among" is e^(validation loss),
    for text only (a review model's figure is its accuracy); the loss in nats stays for experts.
    """
    status, model, train = item["status"], item.get("model"), item.get("train")
    state = status.get("state", RunState.DAMAGED)
    row = {"Name": run_name(item), "Status": state, "Progress": None, "Task": None, "Model": None, "Corpus": None,
           "Right": None, "Unsure among": None, "Off by": None, "Validation loss (nats)": None, "Parameters": None,
           "Training time (s)": None, "Problem": item.get("error"), "Run id": item["id"]}
    if state == RunState.QUEUED and status.get("queue_position"):
        row["Status"] = f"queued (#{status['queue_position']} in line)"
    if not model or not train or state == RunState.DAMAGED:
        return row
    loss = _number(status.get("best_val_loss"))
    choices = plain_words.perplexity(loss) if loss is not None and model["task"] == "generate" else None
    parameters = _parameters(model, status, train.get("sequence_length") or 0)
    row.update({"Task": TASK_NAMES.get(model["task"], model["task"]), "Corpus": corpus_label(train["corpus"]),
                "Model": plain_words.model_shape(model), "Parameters": parameters,
                "Right": _number(status.get("best_val_accuracy")), "Validation loss (nats)": loss,
                "Unsure among": None if choices is None else min(choices, plain_words.MAX_SHOWN_PERPLEXITY),
                "Training time (s)": _number(status.get("elapsed_seconds")),
                "Progress": _number(status.get("progress")),
                "Off by": best_error(Path(item["path"]), status) if model["task"] == "forecast" else None,
                "Problem": status.get("error") if state in states.TROUBLED else None})  # (damaged returned above)
    return row


def best_error(run_dir: Path, status: dict) -> float | None:
    """A forecast run's mean error in the series' units (val_mae) at its best validation round: from status.json
    when the worker recorded it there, else from the validation records."""
    recorded = _number(status.get("best_val_mae"))
    if recorded is not None:
        return recorded
    try:
        _, epochs = run_folder.read_metrics(run_dir)
    except (OSError, SeqlabError):
        return None
    rounds = [record for record in epochs if _number(record.get("val_mae")) is not None]
    best = min(rounds, key=lambda record: _number(record.get("val_loss")) or math.inf, default=None)
    return None if best is None else _number(best["val_mae"])


def table_rows(items: list[dict], task: str | None = None) -> list[dict]:
    """The runs table, in the order given (list_runs: newest first); with `task`, only that task's runs."""
    return [table_row(item) for item in items
            if task is None or (item.get("model") or {}).get("task") == task]


def config_diff(items: list[dict]) -> list[dict]:
    """The settings (model.* and train.*) whose values differ between the given runs: by the Train page's label and
    its words for a choice ('Cell type': 'SimpleRNN'), the config key beside it; one column per run, by name."""
    if len(items) < 2:
        raise SeqlabError(f"{len(items)} run(s) were given to compare", "two runs or more",
                          "select at least two runs")
    for item in items:
        if not item.get("model") or not item.get("train"):
            raise SeqlabError(f"Run {item['id']} has no readable settings", "runs whose config.json is intact",
                              "leave damaged runs out of the comparison")
    rows, columns, settings = [], run_labels(items, with_model=False), all_settings()  # a column per run, by name
    for section in ("model", "train"):
        for name in items[0][section]:
            values = [item[section].get(name) for item in items]
            if any(value != values[0] for value in values[1:]):
                declaration = settings.get(name)
                choices = (declaration.choices if declaration else None) or {}
                rows.append({"setting": declaration.label if declaration else name, "key": f"{section}.{name}",
                             **{columns[item["id"]]: _shown(choices.get(value, value) if isinstance(value, str)
                                                            else value) for item, value in zip(items, values)}})
    return rows


def _shown(value) -> str:
    """Mixed types in one column would confuse the table: show every value as text."""
    return "" if value is None else str(value)


def run_curves(run_dir: Path) -> dict[str, dict[str, list]]:
    """The learning curves of one run: per metrics.jsonl field (training loss smoothed, validation loss and
    accuracy), its x values (step, time) and values."""
    steps, epochs = run_folder.read_metrics(Path(run_dir))
    curves = {}
    for field in dict.fromkeys(SOURCES.values()):
        records = steps if field == "loss" else epochs
        kept = [record for record in records if _number(record.get(field)) is not None]
        values = [float(record[field]) for record in kept]
        curves[field] = {"step": [record.get("step") for record in kept],
                         "time": [record.get("time") for record in kept],
                         "value": smooth(values) if field == "loss" else values}
    return curves


def smooth(values: list[float], weight: float = SMOOTHING) -> list[float]:
    """Running average with bias correction (as TensorBoard's), so the first points are not pulled to 0."""
    smoothed, average = [], 0.0
    for index, value in enumerate(values, start=1):
        average = weight * average + (1 - weight) * value
        smoothed.append(average / (1 - weight ** index))
    return smoothed


def default_metric(tasks: set[str]) -> str:
    """Text runs alone: how unsure they are while training (a curve from the first second); any review run:
    accuracy, the one figure both tasks share and the one that reads plainly for reviews."""
    if tasks == {"forecast"}:
        return "val_mae"
    return "unsure" if tasks == {"generate"} else "val_accuracy"


def metrics_for(tasks: set[str]) -> list[str]:
    """The figures worth offering for runs of these tasks: 'choosing between K characters' means nothing for a
    review model, so reviews alone get accuracy and the losses; forecasts have no 'right' but an error in units."""
    return [metric for metric in METRICS if ("unsure" not in metric or "generate" in tasks)
            and (metric != "val_mae" or "forecast" in tasks) and (metric != "val_accuracy" or tasks - {"forecast"})]


def overlay_figure(curves_by_run: dict[str, dict[str, dict[str, list]]], x_axis: str = "step",
                   metric: str = "val_accuracy") -> go.Figure:
    """One large chart of one metric, one coloured line per run, named in the legend."""
    if x_axis not in X_AXES:
        raise SeqlabError(f"Unknown x axis '{x_axis}'", f"one of {', '.join(X_AXES)}", "choose step or time")
    if metric not in METRICS:
        raise SeqlabError(f"Unknown figure '{metric}'", f"one of {', '.join(METRICS)}", "choose one from the list")
    title, y_title, kind, transform, log_axis = METRICS[metric]
    figure = go.Figure()
    for index, (label, curves) in enumerate(curves_by_run.items()):
        curve = curves.get(SOURCES[metric]) or {"step": [], "time": [], "value": []}
        values = curve["value"]
        if transform == "perplexity":
            values = [plain_words.perplexity(value) for value in values]
        shown = "%{y:.0%}" if metric == "val_accuracy" else "%{y:.4g}"
        figure.add_trace(go.Scatter(
            x=curve[x_axis], y=values, name=label, mode="lines" if kind == "step" else "lines+markers",
            line={"color": COLOURS[index % len(COLOURS)], "width": 3}, marker={"size": 9},
            hovertemplate=f"{label}<br>{X_AXES[x_axis]} %{{x}}: {shown}<extra></extra>"))
    figure.update_layout(title={"text": title}, height=CHART_HEIGHT, margin={"l": 10, "r": 10, "t": 50, "b": 10},
                         xaxis={"title": {"text": X_AXES[x_axis]}, "automargin": True},
                         yaxis={"title": {"text": y_title}, "automargin": True,
                                **({"type": "log", "tickvals": LOG_TICKS} if log_axis else {}),
                                **({"tickformat": ".0%", "range": [0, 1]} if metric == "val_accuracy" else {})},
                         legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0}, hovermode="closest")
    return figure
