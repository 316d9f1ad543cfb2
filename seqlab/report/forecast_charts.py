"""The Forecast page's chart and words: data in, figure and sentences out (no Streamlit, no TensorFlow).

Input is what `seqlab.infer.forecasting.forecast_run` returns: the series (`history`), where its held-out tail starts,
the model's and the two baselines' forecasts over that tail beside the truth, their errors, and the model's forecast
of the values after the series ends (`future`). The held-out tail was never trained or validated on, so the errors
there are an honest test; the sentences say them in the series' own units, model first, then the two baselines a
forecaster must beat to be worth anything: repeating the last value, and repeating the value one season back.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from seqlab.report import plain_words

HISTORY_COLOR = "#5f6b7a"  # slate: the past stays in the background
TRUTH_COLOR = "#111111"  # the held-out truth: what the forecasts are judged against
MODEL_COLOR = "#0068c9"  # blue, as the training curves
FUTURE_COLOR = "#ff8700"  # orange: beyond the data, nothing to judge it against
NAIVE_COLOR, SEASONAL_COLOR = "#8c8c8c", "#2e9e5b"
TAIL_SHADE = "rgba(140, 140, 140, 0.12)"
CHART_HEIGHT = 480
CONTEXT = 60  # values of history shown before the held-out end, at least (double-click shows the whole series)
BASELINES = {"naive": "Repeat the last value", "seasonal_naive": "Repeat the value one season back"}
TRACE_NAMES = {"history": "the series (what the model could learn from)", "truth": "truth (held out)",
               "model": "the model's forecast", "naive": "repeat the last value",
               "seasonal_naive": "repeat the value one season back", "future": "the model's forecast beyond the data"}


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(
        value) else None


def shown_value(value: float, unit: str = "") -> str:
    """'12.3', '0.0412', '1,234' (+ the unit)."""
    return f"{plain_words.short_number(value)} {unit}".strip()


def _positions(result: dict) -> tuple[int, int]:
    """(where the held-out tail starts, how many values the series has)."""
    start = int(result["tail_start"])
    return start, max(len(result.get("history") or []), start + len(result["tail"].get("truth") or []))


def x_axis(result: dict, steps: int) -> tuple[list, list, str]:
    """(x of each value of the series, x of each future step, the axis title): the series' dates where it has them
    and they step evenly (a year number, a month, a day), else the values' positions 0, 1, 2, …"""
    _, count = _positions(result)
    dates = result.get("dates")
    if isinstance(dates, list) and len(dates) >= max(count, 3):
        numbers = _even_numbers(dates[:count], steps)
        if numbers is not None:
            return numbers[0], numbers[1], "time"
        extended = _extend_dates(dates[:count], steps)
        if extended is not None:
            return list(dates[:count]), extended, "date"
    return list(range(count)), list(range(count, count + steps)), "position in the series"


def _even_numbers(dates: list, steps: int) -> tuple[list, list] | None:
    """Dates written as evenly spaced numbers (years 1700.0, 1701.0, …) and the next `steps` of them; else None."""
    try:
        numbers = [float(date) for date in dates]
    except (TypeError, ValueError):
        return None
    step = numbers[1] - numbers[0]
    if step <= 0 or any(abs(b - a - step) > 1e-9 * max(1.0, abs(b)) for a, b in zip(numbers, numbers[1:])):
        return None
    shown = [int(number) if number.is_integer() else number for number in numbers]
    future = [numbers[-1] + step * k for k in range(1, steps + 1)]
    return shown, [int(number) if number.is_integer() else number for number in future]


def _extend_dates(dates: list, steps: int) -> list | None:
    """The next `steps` dates after `dates` at their own even spacing; None when the spacing is not regular."""
    import pandas as pd

    try:
        parsed = pd.to_datetime(pd.Series(dates), errors="raise")
        frequency = pd.infer_freq(pd.DatetimeIndex(parsed))
    except (ValueError, TypeError, OverflowError):
        return None
    if frequency is None:
        return None
    future = pd.date_range(parsed.iloc[-1], periods=steps + 1, freq=frequency)[1:]
    return [day.strftime("%Y-%m-%d") for day in future]


def forecast_figure(result: dict, name: str = "", unit: str = "") -> go.Figure:
    """History up to the held-out tail, the truth on the tail with the model's and the baselines' forecasts over it,
    and the model's forecast beyond the data; the tail shaded and marked 'held out'."""
    start, count = _positions(result)
    future = [value for value in result.get("future") or [] if _number(value) is not None]
    xs, future_xs, x_title = x_axis(result, len(future))
    history = result.get("history") or []
    tail = result["tail"]
    traces = [go.Scatter(x=xs[:start], y=history[:start], name=TRACE_NAMES["history"], mode="lines",
                         line=dict(color=HISTORY_COLOR, width=1.5))]
    tail_xs = xs[start:count]
    traces.append(go.Scatter(x=tail_xs, y=tail.get("truth") or [], name=TRACE_NAMES["truth"], mode="lines",
                             line=dict(color=TRUTH_COLOR, width=2.5)))
    for key, color, dash in (("naive", NAIVE_COLOR, "dot"), ("seasonal_naive", SEASONAL_COLOR, "dot")):
        if tail.get(key):
            traces.append(go.Scatter(x=tail_xs, y=tail[key], name=TRACE_NAMES[key], mode="lines",
                                     line=dict(color=color, width=1.5, dash=dash), visible="legendonly"))
    traces.append(go.Scatter(x=tail_xs, y=tail.get("model") or [], name=TRACE_NAMES["model"], mode="lines",
                             line=dict(color=MODEL_COLOR, width=2.5)))
    if future:
        traces.append(go.Scatter(x=future_xs, y=future, name=TRACE_NAMES["future"], mode="lines",
                                 line=dict(color=FUTURE_COLOR, width=2.5, dash="dash")))
    figure = go.Figure(traces)
    if start < count:
        figure.add_vrect(x0=xs[start], x1=xs[count - 1], fillcolor=TAIL_SHADE, line_width=0, layer="below",
                         annotation_text="held out: never trained on", annotation_position="top left")
    title = "Forecasts on the held-out end, and beyond" + (f" · {name}" if name else "")
    shown = shown_range(xs, future_xs, start, count)
    figure.update_layout(title=dict(text=title), height=CHART_HEIGHT, margin=dict(l=10, r=10, t=60, b=10),
                         hovermode="x unified", xaxis=dict(title=dict(text=x_title), automargin=True,
                                                           **({"range": shown} if shown else {})),
                         yaxis=dict(title=dict(text=unit or "value"), automargin=True),
                         legend=dict(orientation="h", yanchor="top", y=-0.15, xanchor="left", x=0))
    return figure


def shown_range(xs: list, future_xs: list, start: int, count: int) -> list | None:
    """The x range first shown: the held-out end and the future with some history before them (twice their
    length, at least CONTEXT values), so a short tail of a long series is not a sliver; None: the whole series."""
    context = max(CONTEXT, 2 * (count - start + len(future_xs)))
    if start - context <= 0 or not xs:
        return None
    return [xs[start - context], (future_xs or xs)[-1]]


def error_table(metrics: dict) -> list[dict]:
    """One row per forecaster (the model, then the baselines): its mean error and RMSE on the held-out tail."""
    rows = []
    for key, label in (("model", "The model"), *BASELINES.items()):
        errors = metrics.get(key) or {}
        mae, rmse = _number(errors.get("mae")), _number(errors.get("rmse"))
        if mae is not None or rmse is not None:
            rows.append({"forecaster": label, "off by on average (MAE)": mae, "RMSE": rmse})
    return rows


def comparison_sentences(metrics: dict, unit: str = "", season_length: int = 0, tail_length: int = 0) -> list[str]:
    """The held-out errors in plain words, model first: 'the model's forecasts are off by 12.3 on average;
    repeating the last value is off by 18.1 …', then a verdict: which baselines the model beats."""
    model = _number((metrics.get("model") or {}).get("mae"))
    if model is None:
        return ["The model made no forecast on the held-out end of the series, so it cannot be compared yet."]
    where = f"On the last {tail_length:,} values, held out from training," if tail_length else "On the held-out end,"
    parts = [f"{where} the model's forecasts are off by **{shown_value(model, unit)}** on average"]
    beaten, lost = [], []
    for key, words in (("naive", "repeating the last value"),
                       ("seasonal_naive", f"repeating the value one season ({season_length:,} steps) back"
                        if season_length else "repeating the value one season back")):
        baseline = _number((metrics.get(key) or {}).get("mae"))
        if baseline is None:
            continue
        parts.append(f"{words} is off by **{shown_value(baseline, unit)}**")
        (beaten if model < baseline else lost).append(words)
    sentences = ["; ".join(parts) + "."]
    if beaten and not lost:
        sentences.append("The model beats both simple baselines: it learned more than 'tomorrow looks like today'."
                         if len(beaten) == 2 else f"The model beats {beaten[0]}.")
    elif lost:
        sentences.append(f"The model does not yet beat {' or '.join(lost)}: a forecaster is worth using only when it "
                         "does. Train longer, widen the window it reads, or try another cell.")
    return sentences
