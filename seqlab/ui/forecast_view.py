"""Forecast page glue: one forecast run's forecasts on the held-out end of its series, and beyond, in a chart and in
plain words beside two baselines.

The forecasting itself is seqlab.infer.forecasting's (it loads the model: TensorFlow, imported only when the page
first forecasts); this module reads series.json, asks for a forecast of the chosen number of steps, caches it per
model file and steps, and lays it out (the figure and the sentences are seqlab/report/forecast_charts.py's).
"""

from __future__ import annotations

import io
from pathlib import Path

import streamlit as st

from seqlab.errors import SeqlabError
from seqlab.report import forecast_charts
from seqlab.report.plain_words import model_shape
from seqlab.runs.names import run_name
from seqlab.ui.loaded_runs import _loaded, inference_on_cpu
from seqlab.ui.messages import plain, show_error
from seqlab.ui.run_files import read_series

STEPS_KEY = "seqlab_forecast_steps"
MAX_STEPS = 100  # the slider's end: a recurrent forecast far beyond the data says little, and costs a model call each
DEFAULT_STEPS = 24
ONE_AT_A_TIME = ("These forecasts run on from the start of the held-out end, each built on the model's own earlier "
                 "ones, as a real forecast must: harder than the figure in the list of models above, where each "
                 "value is forecast from the true values just before it.")
FUTURE_NOTE = ("Beyond the data there is no truth to compare with: the dashed orange line is the model's guess of the "
               "next values, and the further ahead, the less it can be trusted.")


def show_run_summary(item: dict, series: dict | None) -> None:
    """The run's name and shape, the series it learned, and what it reads and predicts, in words."""
    model, train = item["model"], item["train"]
    name = (series or {}).get("name") or train["corpus"]
    horizon = int(train.get("horizon") or (series or {}).get("horizon") or 1)
    st.markdown(f"**{plain(run_name(Path(item['path'])))}** · {plain(model_shape(model))} · trained on the series "
                f"{plain(Path(str(name)).name)}", help=f"Run id: {item['id']}")
    reads = f"It reads the last {int(train['sequence_length']):,} values and predicts the next " + (
        "one" if horizon == 1 else f"{horizon} at once")
    missing = int((series or {}).get("missing_filled") or 0)
    st.caption(reads + "." + (f" {missing:,} missing value{'s were' if missing != 1 else ' was'} filled in from "
                              "the neighbouring values before training." if missing else ""))


def forecast_for(run_dir: Path, steps: int) -> dict:
    """forecast_run's result, computed once per model file and number of steps (shared by every session)."""
    return _loaded(lambda path, checksum: _forecast(path, checksum, steps), run_dir)


@st.cache_data(max_entries=32, show_spinner="Forecasting…")
def _forecast(run_path: str, checksum: str, steps: int) -> dict:
    from seqlab.infer.forecasting import forecast_run

    inference_on_cpu()
    return forecast_run(Path(run_path), steps)


def choose_steps() -> int:
    """How many values beyond the data to forecast: a bounded slider."""
    return st.slider("Steps to forecast beyond the data", 1, MAX_STEPS, DEFAULT_STEPS, key=STEPS_KEY,
                     help="How many values after the last one the model forecasts (up to "
                          f"{MAX_STEPS}). The held-out end of the series is forecast in every case.")


def show_forecast(item: dict) -> None:
    """The chart, the comparison with the baselines in words and numbers, and the future values to download."""
    run_dir = Path(item["path"])
    series = read_series(run_dir)
    show_run_summary(item, series)
    if series is None:
        st.info("This run has not written its series yet (series.json): it appears once training has read the data.")
        return
    steps = choose_steps()
    try:
        result = forecast_for(run_dir, steps)
    except SeqlabError as error:
        show_error(error)
        return
    unit = plain(series.get("unit") or "")
    tail_length = len(result["tail"].get("truth") or [])
    for sentence in forecast_charts.comparison_sentences(result.get("metrics") or {}, unit,
                                                         int(series.get("season_length") or 0), tail_length):
        st.markdown(sentence)
    st.caption(ONE_AT_A_TIME)
    figure = forecast_charts.forecast_figure(result, str(series.get("name") or ""), str(series.get("unit") or ""))
    st.plotly_chart(figure, width="stretch", key="seqlab_forecast_chart")
    st.caption("The grey line is the part of the series the model learned from; the shaded end was held out. Click "
               "the baselines in the legend to draw them over the truth; double-click the chart to see the whole "
               "series. " + FUTURE_NOTE)
    with st.expander("The errors in numbers"):
        st.dataframe(forecast_charts.error_table(result.get("metrics") or {}), hide_index=True, width="stretch",
                     column_config={"off by on average (MAE)": st.column_config.NumberColumn(format="%.4g"),
                                    "RMSE": st.column_config.NumberColumn(
                                        format="%.4g", help="Root mean square error: like the average miss, but "
                                                            "big misses count for more.")})
        st.caption("MAE: the average size of a miss, in the series' own units. Both are measured on the held-out end "
                   "only, which no model or baseline saw while it was fitted.")
    st.download_button("Download the forecast (CSV)", future_csv(result), file_name=f"{item['id']}-forecast.csv",
                       mime="text/csv", icon=":material/download:",
                       help="The model's forecast of the values after the series ends, one per row.")


def future_csv(result: dict) -> str:
    """'step,forecast' rows: the values the model forecast beyond the data."""
    out = io.StringIO()
    out.write("step,forecast\n")
    for step, value in enumerate(result.get("future") or [], start=1):
        out.write(f"{step},{value}\n")
    return out.getvalue()
