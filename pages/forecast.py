"""Forecast: a trained series model forecasts the held-out end of its series, beside the truth and two baselines."""

import streamlit as st

from seqlab.ui.forecast_view import show_forecast
from seqlab.ui.loaded_runs import choose_run
from seqlab.ui.routing import require_router

require_router()
st.title("Forecast")
st.caption("A trained model reads a window of past values and predicts what comes next. Here it forecasts the end of "
           "its series, which it never saw while training, and you can compare it with the truth and with two simple "
           "rules it has to beat.")
item = choose_run("forecast")
if item is not None:
    show_forecast(item)
