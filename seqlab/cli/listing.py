"""`seqlab runs` and `seqlab runs --leaderboard` as text: the Runs page's and the Teacher page's tables, in a terminal.

The same rows as the pages (seqlab/report/comparison.py, leaderboard.py), so a run has one name and one set of
figures everywhere: its human name first (then the id, which `stop`/`resume` take), the share of held-back
characters or reviews it gets right, for text how unsure it is ("unsure among K" characters), and the loss in
nats last, for experts.
"""

from __future__ import annotations

import json
from pathlib import Path

from seqlab.errors import SeqlabError
from seqlab.report.comparison import table_row
from seqlab.report.plain_words import quality_sentence
from seqlab.runs import run_folder, states

COLUMNS = (f"{'state':<11} {'task':<8} {'corpus':<18} {'model':<30} {'step':>7} {'right':>6} "
           f"{'unsure among':>12} {'loss (nats)':>11}  {'run id':<44} backend")


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def _among(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def _loss(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def print_runs(listed: list[dict]) -> None:
    """One line per run, newest first; a troubled run's problem on the line below it."""
    from seqlab.runs import jobs

    rows = [table_row(run) for run in listed]
    width = max(len("name"), *(len(row["Name"]) for row in rows))  # a name is at most 40 characters (names.py)
    print(f"{'name':<{width}} {COLUMNS}")
    for run, row in zip(listed, rows):
        status, model = run["status"], run.get("model") or {}
        forecast = model.get("task") == "forecast"
        print(f"{row['Name']:<{width}} {status['state']:<11} {model.get('task', '?'):<8} "
              f"{(row['Corpus'] or '?')[:18]:<18} {(row['Model'] or '?')[:30]:<30} {status.get('step', 0):>7} "
              f"{_percent(row['Right']):>6} {_among(row['Unsure among']):>12} "
              f"{_loss(None if forecast else row['Validation loss (nats)']):>11}  {run['id']:<44} "
              f"{jobs.where_it_runs(status)}")
        if forecast and row.get("Off by") is not None:  # a scaled MSE is no loss in nats: its error in units
            print(f"    forecast: off by {row['Off by']:.4g} on average at its best validation round")
        if run.get("error") and status["state"] in states.TROUBLED:
            print(f"    {run['error'] or status.get('error')}")


def print_leaderboard(listed: list[dict], as_json: bool) -> None:
    from seqlab.report.leaderboard import leaderboard

    rows = leaderboard(listed)
    if as_json or not rows:
        print(json.dumps(rows, indent=2) if as_json else "no run has a validation figure yet")
        return
    print(f"{'corpus':<18} {'cell':<20} {'right':>6} {'unsure among':>12} {'loss (nats)':>11}  {'whose':<24} run")
    for row in rows:
        print(f"{row['Corpus'][:18]:<18} {row['Cell'][:20]:<20} {_percent(row['Right']):>6} "
              f"{_among(row['Unsure among']):>12} {_loss(row['Validation loss (nats)']):>11}  "
              f"{row['Whose'][:24]:<24} {row['Run']}")


def best_reading(status: dict, run_dir: Path) -> str:
    """What `train` prints when a run ends: 'at its best it guesses the next character right 54% of the time · as
    unsure as choosing between 4.3 characters (validation loss 1.4590 nats)'."""
    try:
        task = run_folder.read_configs(run_dir)[0].task
    except (SeqlabError, OSError, ValueError):
        task = "generate"
    loss = status.get("best_val_loss")
    if task == "forecast":
        return forecast_reading(status, run_dir)
    reading = quality_sentence(loss, status.get("best_val_accuracy"), task)
    nats = f"validation loss {loss:.4f} nats" if isinstance(loss, int | float) else ""
    return f"at its best it {reading} ({nats})" if reading else nats


def forecast_reading(status: dict, run_dir: Path) -> str:
    """What `train` prints when a forecast run ends: its validation error in the series' units beside the
    baselines' on the same windows (series.json), and where to see the tail."""
    mae, rmse = status.get("best_val_mae"), status.get("best_val_rmse")
    if not isinstance(mae, int | float) or not isinstance(rmse, int | float):
        return "no validation round yet"
    text = f"at its best its validation forecasts are off by {mae:.4g} on average (RMSE {rmse:.4g}"
    try:
        record = json.loads((run_dir / run_folder.SERIES).read_text(encoding="utf-8"))
        std = float(record["scale"]["std"])
        text += "; naive {:.4g}, seasonal-naive {:.4g}".format(
            *(std * record["baselines"][name]["val_loss"] ** 0.5 for name in ("naive", "seasonal_naive")))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return text + f"); the held-out tail: `python -m seqlab forecast {run_dir.name}`"
