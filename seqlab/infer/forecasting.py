"""Forecasts from a trained forecast run: the held-out tail against the baselines, and the values after the series.

A model predicts `horizon` values at once (the last position of its window); a longer forecast feeds its own
predictions back in as if they were values (a recursive roll-out), `horizon` at a time. The tail is forecast from
its start, knowing only the values before it, as the naive and seasonal-naive baselines are: the three are then
compared on values none of them was fitted or chosen on. Everything comes from the run folder (config.json,
series.json, model.keras): the Forecast page, `python -m seqlab forecast` and the bench all call this.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from seqlab.encoding.baselines import errors, tail_forecasts, window_forecasts
from seqlab.encoding.windows import Scale, forecast_starts, last_position_windows
from seqlab.errors import SeqlabError, require
from seqlab.infer.loading import LoadedRun, load_run, require_task
from seqlab.runs import run_folder

MAX_FORECAST_STEPS = 1000  # values after the series: a roll-out this long has long forgotten the real values
BASELINES = ("naive", "seasonal_naive")


def read_series_record(run_dir: Path) -> dict:
    """series.json of a forecast run, or a SeqlabError saying it is missing or damaged."""
    path = Path(run_dir) / run_folder.SERIES
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        require(isinstance(record, dict) and isinstance(record.get("values"), list), "", "", "")
        return record
    except (OSError, ValueError, SeqlabError):
        raise SeqlabError(f"{Path(run_dir).name} has no readable {run_folder.SERIES}",
                          "the series file a forecast run writes when its training starts",
                          "wait until the run has started training, or train it again") from None


class Forecaster:
    """A forecast run's model with its scaling: scaled windows in, forecasts in the series' units out."""

    def __init__(self, run: LoadedRun, record: dict):
        import tensorflow as tf

        self.run, self.record = run, record
        self.scale = Scale(float(record["scale"]["mean"]), float(record["scale"]["std"]))
        self.length, self.horizon = run.train_config.sequence_length, run.train_config.horizon
        self.forward = tf.function(lambda values: run.model(values, training=False)[:, -1, :], reduce_retracing=True,
                                   input_signature=[tf.TensorSpec([None, None, 1], tf.float32)])

    def roll_out(self, history, steps: int) -> np.ndarray:
        """The next `steps` values after `history` (original units), `horizon` at a time, each prediction fed
        back in as the newest value."""
        window = list(self.scale.apply(np.asarray(history, dtype=np.float64)[-self.length:]))
        forecast: list[float] = []
        while len(forecast) < steps:
            values = np.asarray(window[-self.length:], np.float32)[None, :, None]
            predicted = np.asarray(self.forward(values), dtype=np.float64)[0]
            forecast += list(predicted)
            window += list(predicted)
        return self.scale.undo(forecast[:steps])

    def window_forecasts(self, values: np.ndarray, first: int, last: int) -> np.ndarray:
        """Last-position forecasts (starts, horizon), original units, for the windows whose forecast starts in
        [first, last - horizon] (the validation windows for train_end, tail_start)."""
        inputs, _ = last_position_windows(self.scale.apply(values), first, last, self.length, self.horizon)
        return self.scale.undo(np.asarray(self.forward(inputs), dtype=np.float64)) if len(inputs) else inputs


def load_forecaster(run_dir: Path, root: Path | None = None) -> Forecaster:
    """The run's Forecaster; a SeqlabError for a run of another task, with no model yet, or without series.json."""
    run = require_task(load_run(run_dir, root), "forecast", "forecast")
    return Forecaster(run, read_series_record(run.path))


def forecast_run(run_dir: Path, steps: int, root: Path | None = None) -> dict:
    """History, the tail forecast by the model and the baselines beside the truth, their errors, and the
    `steps` values after the series (the contract the Forecast page and the CLI read)."""
    require(isinstance(steps, int) and not isinstance(steps, bool) and 1 <= steps <= MAX_FORECAST_STEPS,
            f"steps is {steps!r}", f"a whole number from 1 to {MAX_FORECAST_STEPS}",
            f"ask for 1 to {MAX_FORECAST_STEPS} values (--steps)")
    forecaster = load_forecaster(run_dir, root)
    record = forecaster.record
    values, tail_start = np.asarray(record["values"], dtype=np.float64), int(record["tail_start"])
    tail = {"truth": values[tail_start:], "model": forecaster.roll_out(values[:tail_start], len(values) - tail_start),
            **tail_forecasts(values, tail_start, int(record["season_length"]))}
    return {"run": forecaster.run.path.name, "name": record.get("name"), "unit": record.get("unit", ""),
            "history": values.tolist(), "dates": record.get("dates"), "train_end": int(record["train_end"]),
            "tail_start": tail_start, "horizon": forecaster.horizon, "season_length": int(record["season_length"]),
            "tail": {name: np.asarray(forecast).tolist() for name, forecast in tail.items()},
            "metrics": {name: errors(tail["truth"], tail[name]) for name in ("model", *BASELINES)},
            "future": forecaster.roll_out(values, steps).tolist()}


def evaluate_forecast(run_dir: Path, split: str = "test", root: Path | None = None) -> dict:
    """MAE and RMSE (series units) of the model and the baselines: "test", the held-out tail forecast from its
    start; "validation", every last-position forecast of the validation windows. For the bench and `evaluate`."""
    require(split in ("test", "validation"), f"A forecast run has no '{split}' split",
            "test (the held-out tail) or validation", "use --split test or --split validation")
    forecaster = load_forecaster(run_dir, root)
    record = forecaster.record
    values = np.asarray(record["values"], dtype=np.float64)
    train_end, tail_start, season = int(record["train_end"]), int(record["tail_start"]), int(record["season_length"])
    result = {"run": forecaster.run.path.name, "series": record.get("name"), "split": split,
              "horizon": forecaster.horizon, "season_length": season}
    if split == "test":
        truth = values[tail_start:]
        forecasts = {"model": forecaster.roll_out(values[:tail_start], len(truth)),
                     **tail_forecasts(values, tail_start, season)}
    else:
        starts = forecast_starts(train_end, tail_start, forecaster.length, forecaster.horizon)
        truth = values[starts[:, None] + np.arange(forecaster.horizon)[None, :]]
        forecasts = {"model": forecaster.window_forecasts(values, train_end, tail_start),
                     **window_forecasts(values, starts, forecaster.horizon, season)}
    return {**result, "values": int(np.size(truth)),
            **{name: errors(truth, forecast) for name, forecast in forecasts.items()}}


def forecast_in_words(metrics: dict, unit: str = "") -> list[str]:
    """Sentences for beginners: how far off the model's tail forecast is, and how it compares with each baseline
    ("43% smaller errors than repeating the last value"), by RMSE."""
    model = metrics["model"]["rmse"]
    unit_words = f" {unit}" if unit else ""
    lines = [f"On the held-out tail the model's forecast is off by {metrics['model']['mae']:.3g}{unit_words} on "
             f"average (typical error, RMSE: {model:.3g})."]
    for name, words in (("naive", "repeating the last value"), ("seasonal_naive", "repeating the last season")):
        baseline = metrics[name]["rmse"]
        if baseline <= 0:
            continue
        change = (model - baseline) / baseline
        verdict = "beats" if change < 0 else "does not beat"
        lines.append(f"It {verdict} {words}: {abs(change):.0%} {'smaller' if change < 0 else 'larger'} errors "
                     f"(RMSE {baseline:.3g}).")
    return lines
