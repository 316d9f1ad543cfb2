"""The Lesson page's figures, built from plain rows: no Streamlit, no TensorFlow, testable on hand-made numbers.

The race is drawn by the Runs page's own overlay (seqlab/report/comparison.py: one line per run), the memory probe
by `accuracy_figure`: the share of answers right against N, the distance back to the character that decides the
answer, one line per cell, with guessing as a dashed line. Each cell keeps one colour on both charts, so a class
follows "the red one" from the race to the probe.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from seqlab.report import comparison, plain_words

CELLS = ("simple_rnn", "lstm", "gru")  # the probe's order (the race's too, the Transformer last): plain, then gated
CELL_COLOURS = {"simple_rnn": "#EF553B", "lstm": "#636EFA", "gru": "#00CC96",  # Plotly's red, blue and green
                "transformer": "#AB63FA"}  # and its purple
CHART_HEIGHT = 440
RACE_METRIC = "unsure"  # from the first seconds on (the validation figures come once, at the end of a short run)


def cell_label(cell: str) -> str:
    """'SimpleRNN', 'LSTM', 'GRU', 'Tiny Transformer': the Train page's own words."""
    return plain_words.cell_name(cell)


def _share(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(
        value) else None


def race_figure(series: list[tuple[str, str, dict]], height: int = CHART_HEIGHT, font_size: int = 12) -> go.Figure:
    """The race's runs on one chart against training time: `series` is [(cell, legend label, the run's
    comparison.run_curves)], drawn in the cells' colours."""
    figure = comparison.overlay_figure({label: curves for _, label, curves in series}, "time", RACE_METRIC)
    for (cell, _, _), trace in zip(series, figure.data):
        trace.line.color = CELL_COLOURS.get(cell, trace.line.color)
    figure.update_layout(height=height, font_size=font_size, legend={"y": -0.2},  # below the axis title
                         title={"text": "The race: how unsure each cell still is about the next character "
                                        "(lower is better)"})
    return figure


def accuracy_figure(rows: list[dict], height: int = CHART_HEIGHT, font_size: int = 12) -> go.Figure:
    """Answers right against the distance N: `rows` as memory_probe.probe_table gives them ({"distance",
    "chance", "simple_rnn", "lstm", "gru"}, a cell's share None until its run is scored), one line per cell,
    guessing as a dashed line."""
    figure = go.Figure()
    distances = [int(row["distance"]) for row in rows]
    for cell in CELLS:
        points = [(int(row["distance"]), _share(row.get(cell))) for row in rows if _share(row.get(cell)) is not None]
        if not points:
            continue
        name = cell_label(cell)
        figure.add_trace(go.Scatter(
            x=[n for n, _ in points], y=[share for _, share in points], name=name, mode="lines+markers",
            line={"color": CELL_COLOURS[cell], "width": 4}, marker={"size": 12},
            hovertemplate=f"{name}<br>clue %{{x}} steps back: %{{y:.0%}} right<extra></extra>"))
    chance = _share(rows[0].get("chance")) if rows else None
    if chance is not None:
        figure.add_hline(y=chance, line={"dash": "dash", "color": "gray", "width": 2},
                         annotation_text=f"guessing ({chance:.0%})", annotation_position="top left")
    figure.update_layout(
        title={"text": "The memory probe: answers right when the clue is N steps back"}, height=height,
        font_size=font_size, margin={"l": 10, "r": 10, "t": 50, "b": 10}, hovermode="closest",
        xaxis={"title": {"text": "steps back to the clue (N)"}, "type": "log", "tickvals": distances,
               "ticktext": [str(n) for n in distances], "automargin": True},
        yaxis={"title": {"text": "answers right"}, "tickformat": ".0%", "range": [0, 1.05], "automargin": True},
        legend={"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0})
    if len(distances) == 1:  # a log axis around one point: keep it centred
        figure.update_xaxes(type="linear", range=[distances[0] - 1, distances[0] + 1])
    return figure


def scored_count(rows: list[dict]) -> int:
    """How many of a probe's runs have their answer accuracy (probe.json)."""
    return sum(_share(row.get(cell)) is not None for row in rows for cell in CELLS)
