"""The Forecast page's figure and words, and a forecast run's training charts (baselines as dashed lines)."""

from __future__ import annotations

from seqlab.report import forecast_charts, training_charts

HISTORY = [float(value) for value in range(20)]
RESULT = {"history": HISTORY, "dates": None, "tail_start": 16,
          "tail": {"truth": HISTORY[16:], "model": [15.9, 17.2, 18.1, 18.8], "naive": [15.0] * 4,
                   "seasonal_naive": [12.0, 13.0, 14.0, 15.0]},
          "metrics": {"model": {"mae": 0.35, "rmse": 0.4}, "naive": {"mae": 2.5, "rmse": 2.7},
                      "seasonal_naive": {"mae": 4.0, "rmse": 4.0}},
          "future": [20.1, 21.3, 22.0]}


def traces(figure) -> dict:
    return {trace.name: trace for trace in figure.data}


def test_the_figure_draws_history_truth_forecast_and_future_at_their_places():
    by_name = traces(forecast_charts.forecast_figure(RESULT, "ramp", "units"))
    names = forecast_charts.TRACE_NAMES
    assert list(by_name[names["history"]].x) == list(range(16)) and list(by_name[names["history"]].y) == HISTORY[:16]
    assert list(by_name[names["truth"]].x) == [16, 17, 18, 19] and list(by_name[names["truth"]].y) == HISTORY[16:]
    assert list(by_name[names["model"]].y) == RESULT["tail"]["model"]
    assert list(by_name[names["future"]].x) == [20, 21, 22] and list(by_name[names["future"]].y) == RESULT["future"]
    assert by_name[names["naive"]].visible == "legendonly"  # offered in the legend, not drawn over the truth
    assert forecast_charts.forecast_figure(RESULT).layout.xaxis.range is None  # a short series: all of it
    long = [float(value) for value in range(1000)]
    figure = forecast_charts.forecast_figure({**RESULT, "history": long, "tail_start": 990,
                                              "tail": {key: [1.0] * 10 for key in RESULT["tail"]}})
    assert list(figure.layout.xaxis.range) == [1000 - 10 - 60, 1002]  # the end and 60 values before it


def test_dates_that_step_evenly_run_on_into_the_future():
    dates = [f"{year}-01-01" for year in range(1990, 2010)]
    figure = forecast_charts.forecast_figure({**RESULT, "dates": dates})
    future = traces(figure)[forecast_charts.TRACE_NAMES["future"]]
    assert list(future.x) == ["2010-01-01", "2011-01-01", "2012-01-01"]
    years = [f"{year}.0" for year in range(1700, 1720)]
    assert forecast_charts.x_axis({**RESULT, "dates": years}, 2)[1] == [1720, 1721]  # sunspots' YEAR column
    uneven = dates[:5] + ["1995-03-07"] + dates[6:]
    xs, future_xs, title = forecast_charts.x_axis({**RESULT, "dates": uneven}, 3)
    assert xs == list(range(20)) and future_xs == [20, 21, 22] and title == "position in the series"


def test_the_sentences_say_the_errors_in_units_and_which_baselines_are_beaten():
    sentences = forecast_charts.comparison_sentences(RESULT["metrics"], "spots", season_length=11, tail_length=4)
    assert sentences[0] == ("On the last 4 values, held out from training, the model's forecasts are off by **0.35 "
                            "spots** on average; repeating the last value is off by **2.5 spots**; repeating the "
                            "value one season (11 steps) back is off by **4 spots**.")
    assert "beats both" in sentences[1]
    worse = {**RESULT["metrics"], "model": {"mae": 3.0, "rmse": 3.1}}
    assert "does not yet beat repeating the last value" in forecast_charts.comparison_sentences(worse)[1]
    assert "cannot be compared" in forecast_charts.comparison_sentences({})[0]


def test_the_error_table_lists_the_model_then_the_baselines():
    rows = forecast_charts.error_table(RESULT["metrics"])
    assert [row["forecaster"] for row in rows] == ["The model", "Repeat the last value",
                                                   "Repeat the value one season back"]
    assert rows[0]["off by on average (MAE)"] == 0.35 and rows[2]["RMSE"] == 4.0


def test_a_forecast_runs_loss_chart_draws_both_baselines_and_its_error_in_units():
    steps = [{"type": "step", "step": step, "loss": 1.0 / step, "grad_norm": 0.5} for step in range(1, 9)]
    epochs = [{"type": "epoch", "epoch": 0, "step": 8, "val_loss": 0.2, "val_mae": 12.34, "val_rmse": 15.0}]
    loss, error, _, _ = training_charts.training_figures(steps, epochs, "forecast",
                                                         {"naive": 0.5, "seasonal_naive": 0.3}, "norm", 1.0)
    assert sorted(shape.y0 for shape in loss.layout.shapes) == [0.3, 0.5]
    assert all(shape.line.dash == "dash" for shape in loss.layout.shapes)
    notes = [note.text for note in loss.layout.annotations]
    assert notes == ["repeating the last value (loss 0.500)", "repeating the value one season back (loss 0.300)"]
    assert "off by 12.3 on average" in loss.layout.title.text and "scaled" in loss.layout.yaxis.title.text
    assert [trace.name for trace in error.data] == ["validation: off by on average (MAE)"]
    assert list(error.data[0].y) == [12.34]
