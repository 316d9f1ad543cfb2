"""Inside the network, the figures: plain NumPy arrays in, Plotly figures out (no Streamlit, no TensorFlow).

Every chart reads left to right as the text does. Characters a projector would lose (space, new line, tab) are
drawn as visible signs. Activations are on one diverging scale, -1 (blue) to +1 (red), the range of tanh, so two
charts can be compared by eye; gates are shares, 0 to 1; influence is a share of the prediction's total.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

SIGNS = {" ": "␣", "\n": "↵", "\t": "⇥"}
SPOKEN = {" ": "space", "\n": "new line", "\t": "tab"}
GATE_TITLES = {"kept": "How much it keeps", "written": "How much it writes", "shown": "How much it shows",
               "reset": "How much of the past it uses"}  # seqlab/insight/hidden_states.py's plain gate names
DIVERGING = "RdBu"  # reversed below: red for positive, blue for negative
AVERAGE_INK, UNIT_INK = "#78909c", "#d81b60"
INFLUENCE_SCALE = [[0.0, "#f5f5f5"], [0.25, "#ffe0b2"], [0.6, "#fb8c00"], [1.0, "#b71c1c"]]
MIN_STRIP_CELLS = 40  # a strip of a few characters keeps the cells of a long one (blank space on the left)
RUN_COLOURS = ["#1e88e5", "#d81b60", "#43a047", "#8e24aa", "#f4511e", "#00897b"]


def sign(character: str) -> str:
    """The character as drawn on an axis or a cell: space, new line and tab as visible signs."""
    return SIGNS.get(character, character)


def spoken(character: str) -> str:
    """The character as a hover names it: 'space', 'new line', or the character in quotes (curly ones, so that a
    quote mark itself still reads: “'”)."""
    return SPOKEN.get(character, f"“{character}”")


def _layout(figure: go.Figure, height: int, font_size: int, **extra) -> go.Figure:
    extra.setdefault("margin", dict(l=10, r=10, t=36, b=10))
    figure.update_layout(height=height, font=dict(size=font_size), plot_bgcolor="rgba(0,0,0,0)", **extra)
    return figure


def character_axis(text: str, start: int = 0, tick_size: int = 12) -> dict:
    """An x axis with one tick per character of `text` (positions start, start+1, ...), labelled by the character."""
    return dict(tickmode="array", tickvals=list(range(start, start + len(text))), ticktext=[sign(c) for c in text],
                tickangle=0, tickfont=dict(family="monospace", size=tick_size), showgrid=False,
                range=[start - 0.5, start + len(text) - 0.5], fixedrange=True)


def unit_scale(values: np.ndarray) -> np.ndarray:
    """Per unit (the last axis of (time, units) values), what its colours are divided by: 1, or its largest size
    when that is larger (an LSTM's memory can grow far past 1 and would otherwise be one flat colour)."""
    return np.maximum(np.abs(np.asarray(values, dtype=float)).max(axis=0, initial=0.0), 1.0)


def activation_heatmap(text: str, values: np.ndarray, unit_names: list[str], start: int = 0,
                       font_size: int = 14, scale: np.ndarray | None = None) -> go.Figure:
    """Units (rows, in the order given: the most telling first) by characters (columns) of `text`, which begins
    at position `start` of the passage; `values` is (units, len(text)), coloured -1 blue .. +1 red after dividing
    each row by its `scale` (unit_scale; None: 1). The hover gives the real value."""
    values = np.asarray(values, dtype=float)
    scale = np.ones(len(values)) if scale is None else np.asarray(scale, dtype=float)
    hover = [[f"{name} after {spoken(character)} (character {start + column + 1}): {value:+.2f}"
              for column, (character, value) in enumerate(zip(text, row))] for name, row in zip(unit_names, values)]
    figure = go.Figure(go.Heatmap(
        z=values / scale[:, None], x=list(range(start, start + len(text))), y=list(range(len(unit_names))), zmin=-1,
        zmax=1, zmid=0, colorscale=DIVERGING, reversescale=True, text=hover, hovertemplate="%{text}<extra></extra>",
        xgap=1, colorbar=dict(title="value", tickvals=[-1, 0, 1], ticktext=["−1", "0", "+1"], thickness=12, len=0.9)))
    rows = len(unit_names)
    return _layout(figure, max(180, 22 * rows + 90), font_size, xaxis=character_axis(text, start, font_size - 2),
                   yaxis=dict(tickmode="array", tickvals=list(range(rows)), ticktext=unit_names,
                              autorange="reversed", fixedrange=True))


def gates_figure(text: str, gates: dict[str, np.ndarray], unit: int | None, start: int = 0,
                 font_size: int = 14) -> go.Figure:
    """One small line chart per gate, stacked, over the characters of `text`: the average over all units (grey)
    and `unit` (an index, named counted from 1; pink; None: the average alone). Each gate array is
    (len(text), units), shares 0..1."""
    names = list(gates)
    figure = make_subplots(rows=len(names), cols=1, shared_xaxes=True, vertical_spacing=0.12,
                           subplot_titles=[GATE_TITLES.get(name, name) for name in names])
    x = list(range(start, start + len(text)))
    for row, name in enumerate(names, start=1):
        values = np.asarray(gates[name], dtype=float)
        figure.add_trace(go.Scatter(x=x, y=values.mean(axis=1), name="average of all units", mode="lines",
                                    line=dict(color=AVERAGE_INK, width=2), showlegend=row == 1,
                                    legendgroup="average", hovertemplate="%{y:.0%}<extra>average</extra>"), row, 1)
        if unit is not None:
            figure.add_trace(go.Scatter(x=x, y=values[:, unit], name=f"unit {unit + 1}", mode="lines",
                                        line=dict(color=UNIT_INK, width=2), showlegend=row == 1, legendgroup="unit",
                                        hovertemplate="%{y:.0%}<extra>unit " + str(unit + 1) + "</extra>"), row, 1)
        figure.update_yaxes(range=[-0.02, 1.02], tickvals=[0, 0.5, 1], tickformat=".0%", fixedrange=True,
                            row=row, col=1)
        figure.update_xaxes(showticklabels=row == len(names), row=row, col=1,
                            **{key: value for key, value in character_axis(text, start, font_size - 2).items()
                               if row == len(names) or key != "ticktext"})
    return _layout(figure, 120 + 130 * len(names), font_size, hovermode="x unified",
                   legend=dict(orientation="h", y=1.0, yanchor="bottom", x=1, xanchor="right"))


def telling_window(feature: np.ndarray, width: int) -> int:
    """Where a view `width` characters wide shows the most of a feature's ups and downs (the start of the window
    in which it varies most); 0 when the whole text fits."""
    feature = np.asarray(feature, dtype=float)
    if len(feature) <= width:
        return 0
    starts = range(0, len(feature) - width + 1, max(1, width // 10))
    return max(starts, key=lambda start: (float(feature[start:start + width].std()), -start))


def unit_strip(text: str, values: np.ndarray, feature: np.ndarray, unit_name: str, feature_name: str,
               start: int = 0, font_size: int = 14, scale: float = 1.0) -> go.Figure:
    """Two rows over the characters of `text` (from position `start`): one unit (-1 blue .. +1 red, its values
    divided by `scale`, see unit_scale) above the feature it follows (yellow where it holds; a count such as the
    position in the line is scaled to 0..1)."""
    values, feature = np.asarray(values, dtype=float), np.asarray(feature, dtype=float)
    span = feature.max() - feature.min() if feature.size else 0.0
    scaled = (feature - feature.min()) / span if span else np.zeros_like(feature)
    x = list(range(start, start + len(text)))
    figure = go.Figure([
        go.Heatmap(z=[values / scale], x=x, y=[0], zmin=-1, zmax=1, zmid=0, colorscale=DIVERGING,
                   reversescale=True, showscale=False, xgap=1,
                   customdata=[[[spoken(c), value] for c, value in zip(text, values)]],
                   hovertemplate="after %{customdata[0]}: %{customdata[1]:+.2f}<extra>" + unit_name + "</extra>"),
        go.Heatmap(z=[scaled], x=x, y=[1], zmin=0, zmax=1, showscale=False, xgap=1,
                   colorscale=[[0, "#fafafa"], [1, "#ffc107"]], customdata=[[spoken(c) for c in text]],
                   hovertemplate="after %{customdata}: " + feature_name + " %{z:.0%}<extra></extra>")])
    return _layout(figure, 110, font_size, margin=dict(l=10, r=10, t=4, b=10),
                   xaxis=character_axis(text, start, font_size - 3),
                   yaxis=dict(tickmode="array", tickvals=[0, 1], ticktext=[unit_name, feature_name],
                              range=[1.5, -0.5], fixedrange=True, tickfont=dict(size=font_size - 2)))


def influence_shares(influence: np.ndarray) -> np.ndarray:
    """Sizes as shares of their total (all zeros stay zeros)."""
    sizes = np.abs(np.asarray(influence, dtype=float))
    total = sizes.sum()
    return sizes / total if total > 0 else sizes


def reach_of(influence: np.ndarray, fraction: float = 0.5) -> int:
    """How many of the nearest earlier characters hold `fraction` of the influence; `influence` is ordered as the
    text (its last value is the character just before the prediction). 0 for an empty or all-zero array."""
    shares = influence_shares(influence)[::-1]
    if not shares.size or shares.sum() == 0:
        return 0
    return int(np.searchsorted(np.cumsum(shares), fraction - 1e-9) + 1)


def reach_sentence(influence: np.ndarray) -> str:
    """'Half of what decided this came from the last 7 characters (of 120 before it).'"""
    shares = influence_shares(influence)
    if not shares.size or shares.sum() == 0:
        return "Nothing before this character changed the prediction measurably."
    reach = reach_of(shares)
    last = "the character just before it" if reach == 1 else f"the last {reach} characters"
    return f"Half of what decided this came from {last} (of {shares.size:,} before it)."


def influence_strip(before: str, influence: np.ndarray, window: int = 100, font_size: int = 14) -> go.Figure:
    """The last `window` characters of `before` (the text ahead of the predicted character), each coloured by its
    share of the influence; the axis counts back from the prediction: '1 back' is the character just before it."""
    shares = influence_shares(influence)
    shown, values = before[-window:], shares[-window:] if window else shares[:0]
    count = len(shown)
    distances = np.arange(count, 0, -1)  # the first character shown is `count` back
    top = float(values.max()) if count and values.max() > 0 else 1.0
    hover = [f"{spoken(c)}, {d} back: {v:.1%} of the influence" for c, d, v in zip(shown, distances, values)]
    figure = go.Figure(go.Heatmap(
        z=[values], x=-distances, zmin=0, zmax=top, colorscale=INFLUENCE_SCALE, xgap=1, text=[[sign(c) for c in shown]],
        texttemplate="%{text}",
        textfont=dict(family="monospace", size=max(10, font_size - 2)), customdata=[hover],
        hovertemplate="%{customdata}<extra></extra>", showscale=False))
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500) if max(count, MIN_STRIP_CELLS) / s <= 10)
    ticks = [d for d in range(count, 0, -1) if d % step == 0 or d == 1]
    return _layout(figure, 130, font_size, margin=dict(l=30, r=30, t=10, b=10), xaxis=dict(
        tickmode="array", tickvals=[-d for d in ticks], ticktext=[f"{d} back" for d in ticks], tickangle=0,
        fixedrange=True,
        range=[-max(count, MIN_STRIP_CELLS) - 0.5, -0.5]), yaxis=dict(visible=False, fixedrange=True))


def reach_figure(curves: dict[str, tuple[np.ndarray, np.ndarray]], font_size: int = 14,
                 height: int = 380) -> go.Figure:
    """How far back each run looks: {label: (distances 1..N, share of the influence at each distance)}, drawn as
    the share that came from within the last N characters (0 .. 100%), one line per run. Where a line crosses the
    dotted 50% line is the run's reach; a model that looks further back rises more slowly. The x axis is
    logarithmic, so the first few characters and the far past both show."""
    figure = go.Figure()
    for index, (label, (distances, shares)) in enumerate(curves.items()):
        shares = np.asarray(shares, dtype=float)
        within = np.cumsum(shares) / shares.sum() if shares.sum() > 0 else np.zeros_like(shares)
        figure.add_trace(go.Scatter(
            x=np.asarray(distances), y=within, mode="lines", name=label,
            line=dict(color=RUN_COLOURS[index % len(RUN_COLOURS)], width=3),
            hovertemplate="the last %{x} characters: %{y:.0%} of the influence<extra>" + label + "</extra>"))
    figure.add_hline(y=0.5, line=dict(color="#9e9e9e", dash="dot", width=1.5), annotation_text="half",
                     annotation_position="bottom right")
    return _layout(figure, height, font_size, hovermode="x unified",
                   xaxis=dict(type="log", title="within the last … characters", tickvals=[1, 2, 5, 10, 20, 50,
                              100, 200, 500], showgrid=True, gridcolor="rgba(0,0,0,0.08)"),
                   yaxis=dict(title="share of the influence", tickformat=".0%", range=[0, 1.02],
                              gridcolor="rgba(0,0,0,0.08)"),
                   legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, xanchor="left"))
