"""Validation for a forecast run: the model's last-position forecasts on the validation windows.

Keras' own validation would score every position of a window, as in training, and mix forecasts made from a few
values with forecasts made from a whole window. A forecast is made at the last position, so that is what is
scored: val_loss is the MSE on scaled values (the baselines' val_loss in series.json is measured the same way, on
the same windows), val_mae and val_rmse are in the series' own units. Put into the round's logs before the
callbacks that record them (MetricsWriter) or keep the best model by them (BestModelSaver).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from seqlab.encoding.windows import Scale

VALIDATION_BATCH = 1024  # windows per forward pass


def last_position_forecasts(model: keras.Model, inputs: np.ndarray) -> np.ndarray:
    """The model's forecasts (windows, horizon) at the last position of each window (windows, length, 1)."""
    outputs = [np.asarray(model(inputs[start:start + VALIDATION_BATCH], training=False))[:, -1, :]
               for start in range(0, len(inputs), VALIDATION_BATCH)]
    return np.concatenate(outputs).astype(np.float64) if outputs else np.zeros((0, 1))


def forecast_scores(predictions: np.ndarray, targets: np.ndarray, scale: Scale) -> dict:
    """{"val_loss" (scaled MSE), "val_mae", "val_rmse" (original units)} of last-position forecasts."""
    difference = np.asarray(predictions, dtype=np.float64) - np.asarray(targets, dtype=np.float64)
    squared = float(np.mean(difference ** 2))
    return {"val_loss": squared, "val_mae": float(np.mean(np.abs(difference))) * scale.std,
            "val_rmse": float(np.sqrt(squared)) * scale.std}


class ForecastValidation(keras.callbacks.Callback):
    """Scores the validation windows at the end of each round (with the weights `weights()` puts in: the
    averaged ones under weight averaging) and adds the scores to the round's logs."""

    def __init__(self, inputs: np.ndarray, targets: np.ndarray, scale: Scale, weights: Callable,
                 stopped: Callable[[], bool]):
        super().__init__()
        self.inputs, self.targets, self.scale, self.weights, self.stopped = inputs, targets, scale, weights, stopped

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or self.stopped():  # a NaN: nothing worth scoring
            return
        with self.weights():
            predictions = last_position_forecasts(self.model, self.inputs)
        logs.update(forecast_scores(predictions, self.targets, self.scale))
