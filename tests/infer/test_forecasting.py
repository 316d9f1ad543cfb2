"""A forecast run end to end, trained once in this process for a few seconds: it beats the naive forecast on the
synthetic series, forecast_run keeps its contract, and the CLI's forecast, evaluate and runs read it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from seqlab.cli.main import main
from seqlab.errors import SeqlabError
from seqlab.infer.forecasting import evaluate_forecast, forecast_run
from seqlab.presets import default_configs
from seqlab.runs import run_folder

TINY = dict(cell="gru", units=16, dropout=0.0, sequence_length=24, batch_size=32, max_steps=150, learning_rate=1e-2,
            horizon=3, seed=7)


@pytest.fixture(scope="module")
def forecast_root(tmp_path_factory):
    """A runs root holding one finished forecast run on seasonal-synthetic (about 4 s of training)."""
    from seqlab.runs.worker import train_run

    root = tmp_path_factory.mktemp("forecast-runs")
    model, train = default_configs("forecast", corpus="seasonal-synthetic", **TINY)
    run_dir = run_folder.create_run_folder(root / "synthetic", model, train)
    assert train_run(run_dir) == "finished", run_folder.read_status(run_dir)
    return root


def test_a_forecast_model_beats_the_naive_baseline_on_the_synthetic_series(forecast_root):
    run_dir = forecast_root / "synthetic"
    tail = evaluate_forecast(run_dir, root=forecast_root)
    assert tail["values"] == 24 and tail["model"]["rmse"] < tail["naive"]["rmse"]  # two seasons, held out
    record = json.loads((run_dir / run_folder.SERIES).read_text())
    status = run_folder.read_status(run_dir)
    naive_val_rmse = record["scale"]["std"] * record["baselines"]["naive"]["val_loss"] ** 0.5
    assert status["best_val_rmse"] < naive_val_rmse and status["best_val_loss"] < record["baselines"]["naive"][
        "val_loss"]
    values = np.asarray(record["values"])
    assert record["scale"]["mean"] == pytest.approx(values[:record["train_end"]].mean())  # training part only
    steps, rounds = run_folder.read_metrics(run_dir)
    assert "accuracy" not in steps[-1] and rounds[-1]["val_rmse"] > 0 and rounds[-1]["val_mae"] > 0


def test_forecast_run_rolls_out_past_its_horizon_and_keeps_the_contract(forecast_root):
    result = forecast_run(forecast_root / "synthetic", 7, root=forecast_root)
    assert len(result["future"]) == 7 and result["horizon"] == 3 and result["season_length"] == 12
    tail = result["tail"]
    assert {len(tail[name]) for name in ("truth", "model", "naive", "seasonal_naive")} == {24}
    assert tail["truth"] == result["history"][result["tail_start"]:]
    assert set(result["metrics"]) == {"model", "naive", "seasonal_naive"}
    with pytest.raises(SeqlabError, match="steps is 0"):
        forecast_run(forecast_root / "synthetic", 0, root=forecast_root)


def test_the_cli_forecasts_evaluates_and_lists_a_forecast_run(forecast_root, capsys):
    root = ["--runs-root", str(forecast_root)]
    assert main(["forecast", "synthetic", "--steps", "4", *root]) == 0
    table = capsys.readouterr().out
    assert "naive (last value again)" in table and "It beats repeating the last value" in table
    assert "next 4 values" in table
    assert main(["forecast", "synthetic", "--steps", "2", "--json", *root]) == 0
    assert len(json.loads(capsys.readouterr().out)["future"]) == 2
    assert main(["evaluate", "synthetic", "--split", "validation", *root]) == 0
    assert set(json.loads(capsys.readouterr().out)) >= {"model", "naive", "seasonal_naive"}
    assert main(["runs", *root]) == 0 and "forecast: off by" in capsys.readouterr().out
    assert main(["forecast", "synthetic", "--steps", "5000", *root]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_an_exported_forecaster_is_plain_keras_with_its_series(forecast_root, tmp_path):
    import keras

    from seqlab.infer.export import export_to_folder

    names = {path.name for path in export_to_folder(forecast_root / "synthetic", tmp_path, forecast_root)}
    assert names == {"model.keras", "config.json", "metrics.jsonl", "series.json", "README.md"}
    assert "off by" in (tmp_path / "README.md").read_text()
    model = keras.saving.load_model(tmp_path / "model.keras")
    assert all(type(layer).__module__.startswith("keras.") for layer in [model, *model.layers])  # no seqlab class
    assert model(np.zeros((1, 24, 1), np.float32)).shape == (1, 24, 3)


@pytest.mark.parametrize("flags, words", [
    (["--corpus", "imdb"], "is a classify corpus, but the run is a forecast run"),
    (["--corpus", "sunspots", "--sequence-length", "300"], "too few for windows of 300 values"),
    (["--corpus", "sunspots", "--value-column", "nope"], "has no column 'nope'"),
])
def test_bad_forecast_runs_are_refused_in_one_line(flags, words, capsys, tmp_path):
    if "nope" in flags:  # a user's table, with a column that is not there
        path = tmp_path / "series.csv"
        path.write_text("t,v\n" + "".join(f"{i},{i % 7}\n" for i in range(100)))
        flags = ["--corpus", str(path), "--value-column", "nope"]
    assert main(["train", "--task", "forecast", *flags]) == 2
    error = capsys.readouterr().err
    assert words in error and error.count("\n") == 1
