"""A series cut for forecasting: train / validation / held-out tail, the scaling, and the windows a model reads.

The series is cut by time, never shuffled across the cuts: values[:train_end] train, values[train_end:tail_start]
validate (the best model is chosen on them), values[tail_start:] are the held-out tail that nothing is fitted or
chosen on, where the model and the baselines forecast from tail_start on (in one go: the model feeds its own
forecasts back in). The scaling (mean 0, spread 1) is
fitted on the training part only, so nothing of the later values leaks into training.

Training windows are many-to-many, as the character model's: at every position of a window of `sequence_length`
values the model predicts the next `horizon` values, so one window trains all its positions (earlier positions
see less of the past, as a forecast early in a series does). Validation and forecasts use the last position.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from seqlab.errors import SeqlabError

HELD_OUT_FRACTION = 0.1  # of the values: this share validates, the same share is the tail
MIN_TRAINING_WINDOWS = 8  # fewer windows than this teach nothing
TAIL_SEASONS = 2  # the held-out tail of a seasonal series: at most this many seasons


@dataclass(frozen=True)
class Cut:
    train_end: int
    tail_start: int
    count: int


@dataclass(frozen=True)
class Scale:
    mean: float
    std: float

    def apply(self, values):
        return (np.asarray(values, dtype=np.float64) - self.mean) / self.std

    def undo(self, values):
        return np.asarray(values, dtype=np.float64) * self.std + self.mean

    def as_dict(self) -> dict:
        return {"mean": self.mean, "std": self.std}


def cut_series(count: int, horizon: int, season_length: int = 1) -> Cut:
    """Validation: HELD_OUT_FRACTION of the values, at least `horizon` (one full forecast). The tail: as much,
    but at most TAIL_SEASONS seasons of a seasonal series: it is forecast in one go from its start, and a long
    roll-out measures mostly how the forecast drifts out of phase, not how well the model reads the series."""
    validation = tail = max(horizon, round(count * HELD_OUT_FRACTION))
    if season_length > 1:
        tail = max(horizon, min(tail, TAIL_SEASONS * season_length))
    return Cut(count - validation - tail, count - tail, count)


def minimum_values(sequence_length: int, horizon: int, season_length: int = 1) -> int:
    """The shortest series a run can use: the training part must hold MIN_TRAINING_WINDOWS windows (and one
    season, for the seasonal-naive forecast), and the validation and tail parts one forecast each."""
    train = max(sequence_length + horizon + MIN_TRAINING_WINDOWS - 1, season_length)
    count = math.ceil(train / (1 - 2 * HELD_OUT_FRACTION))
    while cut_series(count, horizon, season_length).train_end < train:
        count += 1
    return count


def check_series_fits(name: str, count: int, sequence_length: int, horizon: int, season_length: int = 1) -> Cut:
    """The cut, or a SeqlabError saying how many values are needed and what to change, before any work starts."""
    needed = minimum_values(sequence_length, horizon, season_length)
    if count < needed:
        fitting = [length for length in range(sequence_length - 1, 1, -1)
                   if minimum_values(length, horizon, season_length) <= count]
        fix = (f"use a longer series, a shorter sequence length (at most {fitting[0]}) or a smaller horizon"
               if fitting else f"use a longer series (at least {minimum_values(2, horizon, season_length):,} values "
                               f"even for windows of 2)")
        raise SeqlabError(
            f"'{name}' has {count:,} values, too few for windows of {sequence_length} values and a horizon of "
            f"{horizon}", f"at least {needed:,} values (the last 20% are held out for validation and the tail; the "
            f"rest must hold {MIN_TRAINING_WINDOWS} windows of {sequence_length} + {horizon})", fix)
    return cut_series(count, horizon, season_length)


def fit_scale(values: np.ndarray, train_end: int) -> Scale:
    """Mean and spread of the training part only; a flat training part gets spread 1 (nothing to divide)."""
    train = np.asarray(values[:train_end], dtype=np.float64)
    std = float(train.std())
    return Scale(float(train.mean()), std if std > 1e-12 else 1.0)


def training_window_count(train_end: int, sequence_length: int, horizon: int) -> int:
    """Training windows in values[:train_end]: one per start whose window and the `horizon` values after its last
    position all lie there (seqlab/encoding/datasets.py forecast_windows cuts them)."""
    return max(0, train_end - sequence_length - horizon + 1)


def last_position_windows(scaled: np.ndarray, first_target: int, last_target: int, sequence_length: int,
                          horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows whose forecast starts at each t in [first_target, last_target - horizon]: inputs
    scaled[t - length:t] (windows, length, 1) and targets scaled[t:t + horizon] (windows, horizon); float32."""
    scaled = np.asarray(scaled, dtype=np.float32)
    starts = forecast_starts(first_target, last_target, sequence_length, horizon)
    inputs = scaled[starts[:, None] - sequence_length + np.arange(sequence_length)[None, :]][..., None]
    return inputs, scaled[starts[:, None] + np.arange(horizon)[None, :]]


def forecast_starts(first_target: int, last_target: int, sequence_length: int, horizon: int) -> np.ndarray:
    """Where the last-position forecasts of [first_target, last_target) start: each t whose window of the past
    and whose `horizon` values ahead both fit (the baselines are scored at the same t)."""
    return np.arange(max(first_target, sequence_length), last_target - horizon + 1)
