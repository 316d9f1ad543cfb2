"""Data page for series: a person's table used as a series (its column of numbers), and what a series looks like.

A .csv/.tsv can be reviews (a text and a label column: table_picker.py) or a series (one column of numbers in time
order); the person says which. A series' gaps are filled or dropped by seqlab/corpus/series.py, and the page says
how many, so nothing is changed silently. The choice goes to the Train page with the column, as a table's columns do.
"""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from seqlab.corpus.registry import Corpus
from seqlab.corpus.statistics import corpus_statistics
from seqlab.ui.messages import plain

USES = {"classify": "Reviews: a text and a label column", "forecast": "A series: a column of numbers in time order"}
DETECT = ""  # the value column seqlab picks: the only (or the last) column of numbers


def table_use(reference: str) -> str:
    """'classify' or 'forecast': what the person's table is (asked for every table; reviews first)."""
    return st.radio("Use this table as", list(USES), format_func=USES.get, horizontal=True,
                    key=f"seqlab_data_use_{Path(reference).stem[:16]}",
                    help="A table can teach a model to judge reviews (a text and a label column), or to forecast "
                         "a series (a column of numbers, one row per time step, oldest first).")


def pick_series(reference: str, header: list[str], label: str) -> tuple[Corpus, str]:
    """(the series as a corpus, its value column as chosen; "" = detected); SeqlabError when the column is not a
    series (shown by the caller, under the picker)."""
    value_column = st.selectbox("Value column", [DETECT, *header], key=f"seqlab_data_value_{Path(reference).stem[:16]}",
                                format_func=lambda name: name or "Find it for me (the last column of numbers)",
                                help="The column holding the series' numbers. A date column beside it is found by "
                                     "itself and used for the chart's time axis.")
    return cached_series(reference, value_column, Path(label).name or label), value_column


@st.cache_resource(show_spinner="Reading the series…", max_entries=8)
def cached_series(reference: str, value_column: str, label: str) -> Corpus:
    from seqlab.corpus.series import load_series

    series = load_series(reference, value_column)
    series.name = label
    return Corpus(name=label, task="forecast", source="your table", series=series)


def series_figure(corpus: Corpus) -> go.Figure:
    series = corpus.series
    x = series.dates if series.dates and len(series.dates) == len(series.values) else list(range(len(series.values)))
    figure = go.Figure(go.Scatter(x=x, y=series.values, mode="lines", line=dict(color="#0068c9", width=1.5),
                                  name=corpus.name))
    figure.update_layout(title=dict(text="The series, oldest first"), height=360, margin=dict(l=10, r=10, t=50, b=10),
                         xaxis=dict(title=dict(text="date" if x is series.dates else "position"), automargin=True),
                         yaxis=dict(title=dict(text=series.unit or "value"), automargin=True))
    return figure


def show_series(corpus: Corpus) -> None:
    """Its size, range and season, the gaps that were filled or dropped, and the series itself."""
    stats = corpus_statistics(corpus)
    columns = st.columns(4)
    columns[0].metric("Values", f"{stats['values']:,}")
    columns[1].metric("Smallest", f"{stats['minimum']:,.4g}")
    columns[2].metric("Largest", f"{stats['maximum']:,.4g}")
    columns[3].metric("Season", f"{stats['season_length']:,} steps" if stats["season_length"] > 1 else "none found",
                      help="How many steps the series takes to repeat itself (its own, or found in its "
                           "autocorrelation): the seasonal baseline repeats the value one season back.")
    filled, dropped = stats["missing_filled"], stats["missing_dropped"]
    if filled or dropped:
        st.info(f"{filled:,} missing value{'s' if filled != 1 else ''} inside the series "
                f"{'were' if filled != 1 else 'was'} filled in from {'their' if filled != 1 else 'its'} neighbours; "
                f"{dropped:,} missing at the start or end {'were' if dropped != 1 else 'was'} left out.")
    if stats.get("value_column"):
        date = f", dates from column {plain(stats['date_column'])}" if stats.get("date_column") else ""
        st.caption(f"Values from column {plain(stats['value_column'])}{date}.")
    st.plotly_chart(series_figure(corpus), width="stretch")
    st.markdown("**What a model must beat:** repeating the last value, and repeating the value one season back. The "
                "Forecast page compares a trained model with both on the end of the series, which it never trains on.")
