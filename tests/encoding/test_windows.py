"""Cutting a series for forecasting: the cut, the scaling (training part only), the windows and the baselines."""

from __future__ import annotations

import numpy as np
import pytest

from seqlab.encoding.baselines import baseline_record, naive_forecast, seasonal_naive_forecast
from seqlab.encoding.windows import (
    check_series_fits,
    cut_series,
    fit_scale,
    last_position_windows,
    minimum_values,
    training_window_count,
)
from seqlab.errors import SeqlabError


def test_the_cut_holds_out_validation_and_a_tail_of_at_most_two_seasons():
    assert cut_series(1000, 1) == cut_series(1000, 1, 1)
    assert (cut_series(1000, 1).train_end, cut_series(1000, 1).tail_start) == (800, 900)
    assert (cut_series(1000, 1, 12).train_end, cut_series(1000, 1, 12).tail_start) == (876, 976)
    assert cut_series(30, 5).tail_start == 25  # at least one whole forecast


def test_scaling_is_fitted_on_the_training_part_only():
    values = np.concatenate([np.arange(80.0), np.full(20, 1e6)])  # wild values after the cut change nothing
    scale = fit_scale(values, 80)
    assert scale.mean == pytest.approx(39.5) and scale.std == pytest.approx(np.arange(80.0).std())
    assert fit_scale(np.ones(10), 8).std == 1.0  # a flat training part: nothing to divide by


def test_every_position_of_a_training_window_predicts_the_next_horizon_values():
    from seqlab.encoding.datasets import forecast_windows

    assert training_window_count(10, 4, 2) == 5
    inputs, targets = next(iter(forecast_windows(np.arange(10.0), 4, 2, batch_size=5, seed=0)))
    order = np.argsort(inputs[:, 0, 0])  # shuffled: put them back in order of their starts
    inputs, targets = inputs.numpy()[order], targets.numpy()[order]
    assert inputs.shape == (5, 4, 1) and targets.shape == (5, 4, 2)
    assert inputs[1, :, 0].tolist() == [1, 2, 3, 4]
    assert targets[1].tolist() == [[2, 3], [3, 4], [4, 5], [5, 6]]
    assert targets.max() == 9  # the last value is a target, never past it


def test_validation_windows_forecast_from_each_start_with_the_past_only():
    inputs, targets = last_position_windows(np.arange(20.0), 14, 18, sequence_length=3, horizon=2)
    assert inputs[:, :, 0].tolist() == [[11, 12, 13], [12, 13, 14], [13, 14, 15]]
    assert targets.tolist() == [[14, 15], [15, 16], [16, 17]]


def test_a_short_series_is_refused_with_what_would_fit():
    assert minimum_values(10, 1) == 23
    with pytest.raises(SeqlabError, match="has 22 values") as raised:
        check_series_fits("tiny", 22, 10, 1)
    assert "at most 9" in str(raised.value)
    check_series_fits("tiny", 23, 10, 1)


def test_baselines_repeat_the_last_value_or_the_last_season():
    assert naive_forecast([1, 2, 3], 2).tolist() == [3, 3]
    assert seasonal_naive_forecast([9, 1, 2, 3], 5, 3).tolist() == [1, 2, 3, 1, 2]


def test_baselines_are_scored_on_the_validation_windows_and_the_tail():
    values = np.tile([0.0, 10.0, 20.0, 30.0], 25)  # a season of 4, no noise: seasonal-naive is exact
    cut = cut_series(len(values), 1, 4)
    record = baseline_record(values, cut, fit_scale(values, cut.train_end), 8, 1, 4)
    assert record["seasonal_naive"] == {"val_loss": 0.0, "tail_mae": 0.0, "tail_rmse": 0.0}
    naive = record["naive"]  # the tail starts after a 30: repeating it is off by 30, 20, 10, 0, ...
    assert naive["tail_mae"] == pytest.approx(15.0) and naive["val_loss"] > 1.0
