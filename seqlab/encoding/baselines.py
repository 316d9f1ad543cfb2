"""The forecasts a model must beat: naive (the last value again) and seasonal-naive (the value one season back).

Both know nothing but the values before the forecast starts, as the model. They are scored where the model is:
on the same validation windows (MSE on scaled values, the model's val_loss) and on the held-out tail, forecast
from its start (MAE and RMSE in the series' own units), so a chart or table can put them side by side.
"""

from __future__ import annotations

import numpy as np

from seqlab.encoding.windows import Cut, Scale, forecast_starts


def naive_forecast(history: np.ndarray, steps: int) -> np.ndarray:
    """The last known value, `steps` times."""
    return np.full(steps, float(np.asarray(history)[-1]))


def seasonal_naive_forecast(history: np.ndarray, steps: int, season_length: int) -> np.ndarray:
    """The last full season, repeated: step k ahead gets the value season_length - (k mod season) steps back."""
    history = np.asarray(history, dtype=np.float64)
    season = max(1, min(season_length, len(history)))
    return history[len(history) - season + np.arange(steps) % season]


def errors(truth, forecast) -> dict:
    """{"mae", "rmse"} of a forecast against the truth (same length)."""
    difference = np.asarray(forecast, dtype=np.float64) - np.asarray(truth, dtype=np.float64)
    return {"mae": float(np.mean(np.abs(difference))), "rmse": float(np.sqrt(np.mean(difference ** 2)))}


def window_forecasts(values: np.ndarray, starts: np.ndarray, horizon: int, season_length: int) -> dict:
    """Each baseline's forecasts of the `horizon` values from each start: {name: (starts, horizon)}."""
    values = np.asarray(values, dtype=np.float64)
    ahead = np.arange(horizon)[None, :]
    season = max(1, season_length)
    return {"naive": np.repeat(values[starts - 1][:, None], horizon, axis=1),
            "seasonal_naive": values[starts[:, None] - season + ahead % season]}


def tail_forecasts(values: np.ndarray, tail_start: int, season_length: int) -> dict:
    """Each baseline's forecast of the whole tail, made at its start: {name: values}."""
    history, steps = np.asarray(values[:tail_start], dtype=np.float64), len(values) - tail_start
    return {"naive": naive_forecast(history, steps),
            "seasonal_naive": seasonal_naive_forecast(history, steps, season_length)}


def baseline_record(values: np.ndarray, cut: Cut, scale: Scale, sequence_length: int, horizon: int,
                    season_length: int) -> dict:
    """series.json's "baselines": per baseline its val_loss (scaled MSE on the model's validation windows) and
    its tail MAE and RMSE (original units)."""
    values = np.asarray(values, dtype=np.float64)
    starts = forecast_starts(cut.train_end, cut.tail_start, sequence_length, horizon)
    truth = scale.apply(values[starts[:, None] + np.arange(horizon)[None, :]])
    on_windows = window_forecasts(values, starts, horizon, season_length)
    on_tail = tail_forecasts(values, cut.tail_start, season_length)
    record = {}
    for name, forecast in on_windows.items():
        tail = errors(values[cut.tail_start:], on_tail[name])
        record[name] = {"val_loss": float(np.mean((scale.apply(forecast) - truth) ** 2)),
                        "tail_mae": tail["mae"], "tail_rmse": tail["rmse"]}
    return record
