"""The Forecast page, and every other page meeting a forecast run, on a run folder written by hand (the UI only reads
run folders; forecast_run itself is seqlab/infer's and is tested there, so here it is replaced by a stand-in that
records what it was asked). A real tiny run is drawn by the browser test (tests/e2e/test_browser.py)."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from seqlab.config import ModelConfig, TrainConfig
from seqlab.errors import SeqlabError
from seqlab.runs import run_folder
from seqlab.ui import forecast_view
from tests.conftest import REPO
from tests.ui.test_page_runs import navigation_app

RUN_ID = "20260101-000000-forecast-gru-test"
VALUES = [50.0 + (i % 12) + 0.1 * i for i in range(120)]
SERIES = {"name": "seasonal-synthetic", "unit": "", "values": VALUES, "dates": None, "missing_filled": 3,
          "train_end": 84, "tail_start": 102, "scale": {"mean": 60.0, "std": 5.0}, "season_length": 12,
          "horizon": 1, "baselines": {"naive": {"val_loss": 0.52, "tail_mae": 4.1, "tail_rmse": 5.0},
                                      "seasonal_naive": {"val_loss": 0.31, "tail_mae": 1.8, "tail_rmse": 2.0}}}
TAIL = VALUES[102:]
RESULT = {"history": VALUES, "dates": None, "tail_start": 102,
          "tail": {"truth": TAIL, "model": [value + 0.5 for value in TAIL], "naive": [VALUES[101]] * len(TAIL),
                   "seasonal_naive": VALUES[90:108]},
          "metrics": {"model": {"mae": 0.5, "rmse": 0.5}, "naive": {"mae": 4.1, "rmse": 5.0},
                      "seasonal_naive": {"mae": 1.8, "rmse": 2.0}}}


@pytest.fixture
def run_dir(tmp_path, monkeypatch) -> Path:
    """A finished forecast run: config, status, metrics with baselines-to-be, series.json and a stand-in model."""
    root = tmp_path / "runs"
    monkeypatch.setenv("SEQLAB_RUNS", str(root))
    monkeypatch.setenv("SEQLAB_WORKSPACES", "off")
    model = ModelConfig(task="forecast", cell="gru", units=8)
    train = TrainConfig(corpus="seasonal-synthetic", sequence_length=24, batch_size=8, max_steps=12)
    run = run_folder.create_run_folder(root / RUN_ID, model, train)
    records = [{"type": "step", "step": step, "loss": 1.0 / step, "grad_norm": 0.4} for step in range(1, 13)]
    records.append({"type": "epoch", "epoch": 0, "step": 12, "val_loss": 0.2, "val_mae": 1.23, "val_rmse": 1.5})
    (run / run_folder.METRICS).write_text("".join(json.dumps(record) + "\n" for record in records))
    (run / "series.json").write_text(json.dumps(SERIES))
    (run / run_folder.BEST_MODEL).write_bytes(b"a stand-in: forecast_run is replaced in these tests")
    run_folder.record_checksum(run, run_folder.BEST_MODEL)
    run_folder.write_status(run, state="finished", progress=1.0, step=12, best_step=12, best_val_loss=0.2)
    return run


@pytest.fixture
def asked(monkeypatch) -> list:
    """forecast_run replaced: it returns RESULT with `steps` future values and records each call's steps."""
    calls = []

    def forecast_run(run_dir: Path, steps: int) -> dict:
        calls.append(steps)
        if steps == 13:
            raise SeqlabError("the model file is damaged", "a model seqlab saved", "train the run again")
        return {**RESULT, "future": [70.0 + step for step in range(steps)]}

    try:
        from seqlab.infer import forecasting
    except ImportError:  # the core's module not there yet: a stand-in module
        forecasting = types.ModuleType("seqlab.infer.forecasting")
        monkeypatch.setitem(sys.modules, "seqlab.infer.forecasting", forecasting)
    monkeypatch.setattr(forecasting, "forecast_run", forecast_run, raising=False)
    return calls


def open_page(name: str, run: str | None = None) -> AppTest:
    app = AppTest.from_file(str(REPO / "pages" / f"{name}.py"), default_timeout=60)
    if run:
        app.query_params["run"] = run
    return app.run()


def test_the_page_draws_the_forecast_and_says_how_it_compares_with_the_baselines(run_dir, asked):
    app = open_page("forecast")
    assert not app.exception and not app.error
    assert app.selectbox[0].value == RUN_ID and "off by 1.23 on average on held-back" in app.selectbox[0].options[0]
    text = " ".join(markdown.value for markdown in app.markdown)
    assert "the model's forecasts are off by **0.5** on average; repeating the last value is off by **4.1**" in text
    assert "one season (12 steps) back is off by **1.8**" in text and "beats both" in text
    assert any("3 missing values were filled in" in caption.value for caption in app.caption)
    slider = app.slider(key=forecast_view.STEPS_KEY)
    assert (slider.min, slider.max, slider.value) == (1, forecast_view.MAX_STEPS, forecast_view.DEFAULT_STEPS)
    figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    names = [trace["name"] for trace in figure["data"]]
    assert {"truth (held out)", "the model's forecast", "the model's forecast beyond the data"} <= set(names)
    future = next(trace for trace in figure["data"] if trace["name"] == "the model's forecast beyond the data")
    assert future["x"] == list(range(120, 144))
    slider.set_value(5).run()
    assert asked == [24, 5] and not app.exception
    assert app.get("download_button")


def test_a_forecast_that_fails_is_a_message_not_a_traceback(run_dir, asked):
    app = open_page("forecast")
    app.slider(key=forecast_view.STEPS_KEY).set_value(13).run()
    assert not app.exception and "damaged" in app.error[0].value


def test_generate_score_and_inside_send_a_forecast_run_to_the_forecast_page(run_dir):
    for name in ("generate", "score", "inside"):
        app = open_page(name, run=RUN_ID)
        assert not app.exception, name
        notice = " ".join(info.value for info in app.info)
        assert "is a series forecast run" in notice and "Forecast page" in notice, name


def test_the_loss_chart_of_a_forecast_run_draws_its_baselines(run_dir):
    app = open_page("train", run=RUN_ID)
    assert not app.exception and not app.error
    loss = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert sorted(shape["y0"] for shape in loss["layout"]["shapes"]) == [0.31, 0.52]
    assert "off by 1.23 on average" in loss["layout"]["title"]["text"]


def test_the_runs_page_lists_a_forecast_run_with_its_error(run_dir, tmp_path):
    app = navigation_app(tmp_path / "app", "runs").run()
    assert not app.exception and not app.error
    assert any(markdown.value == "**Series forecasts**" for markdown in app.markdown)
    table = app.dataframe[0].value
    assert list(table["Name"]) == [RUN_ID] and list(table["Off by"]) == [1.23]
    assert "at its best it is off by 1.23 on average" in " ".join(caption.value for caption in app.caption)


def series_table(rows: int = 300) -> bytes:
    """A monthly series with a yearly season and two gaps (one inside, one at the start)."""
    lines = ["month,visitors"] + [f"{2000 + i // 12}-{i % 12 + 1:02d}-01,{100 + 10 * (i % 12) + i}"
                                  for i in range(rows)]
    lines[1] = lines[1].split(",")[0] + ","  # at the start: dropped
    lines[50] = lines[50].split(",")[0] + ",NA"  # inside: filled
    return ("\n".join(lines) + "\n").encode()


def test_a_users_table_becomes_a_series_on_the_data_page_and_trains_on_the_train_page(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("SEQLAB_WORKSPACES", "off")
    data = AppTest.from_file(str(REPO / "pages" / "data.py"), default_timeout=60).run()
    data.radio[0].set_value("Upload").run()
    data.file_uploader[0].set_value(("visitors.csv", series_table(), "text/csv")).run()
    data.radio(key=next(radio.key for radio in data.radio if radio.label == "Use this table as")).set_value(
        "forecast").run()
    assert not data.exception and not data.error
    assert [(metric.label, metric.value) for metric in data.metric][:2] == [("Values", "299"), ("Smallest", "111")]
    assert any("1 missing value inside the series was filled in" in info.value and "1 missing at the start or end"
               in info.value for info in data.info)
    chosen = data.session_state["seqlab_corpus"]
    assert chosen["task"] == "forecast" and chosen["value_column"] == ""
    train = AppTest.from_file(str(REPO / "pages" / "train.py"), default_timeout=60)
    train.session_state["seqlab_corpus"] = chosen
    train.run()
    assert not train.exception and not train.error
    assert train.radio[0].value == "forecast"
    corpus = next(box for box in train.selectbox if box.label == "Corpus")
    assert corpus.value == chosen["corpus"] and "chosen on the Data page" in corpus.options[0]
    assert any(box.label == "Sequence length (values)" for box in train.number_input)
    assert not next(button for button in train.button if button.label == "Train").disabled
    from seqlab.model.size import parameter_count
    from seqlab.presets import preset_configs

    figures = {metric.label: metric.value for metric in train.metric}  # the summary counts the series, not words
    assert figures["Parameters"] == f"{parameter_count(preset_configs('forecast', 'quick-demo')[0], 1):,}"
    assert int(figures["Steps per epoch"]) > 1


def test_a_built_in_series_shows_its_size_season_and_chart_on_the_data_page():
    data = AppTest.from_file(str(REPO / "pages" / "data.py"), default_timeout=60).run()
    data.selectbox[0].set_value("sunspots").run()
    assert not data.exception and not data.error
    assert {metric.label: metric.value for metric in data.metric} == {
        "Values": "309", "Smallest": "0", "Largest": "190.2", "Season": "11 steps"}
    assert any("· series forecast" in heading.value for heading in data.subheader) and data.get("plotly_chart")
