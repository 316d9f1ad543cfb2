"""Figure builders: the traces, baselines and clipping figures the Train page draws from a run's metrics."""

from __future__ import annotations

import math

import pytest

from seqlab.report import training_charts


def step_records(losses: list[float], norms: list[float] | None = None) -> list[dict]:
    norms = norms or [0.5] * len(losses)
    return [{"type": "step", "step": i + 1, "loss": loss, "accuracy": 1 / (1 + loss), "grad_norm": norm}
            for i, (loss, norm) in enumerate(zip(losses, norms, strict=True))]


EPOCHS = [{"type": "epoch", "epoch": 0, "step": 4, "val_loss": 2.5, "val_accuracy": 0.3},
          {"type": "epoch", "epoch": 1, "step": 8, "val_loss": 2.1, "val_accuracy": 0.4}]
REFERENCES = {"uniform": math.log(65), "unigram": 3.3}


def traces(figure) -> dict:
    return {trace.name: trace for trace in figure.data}


def reference_ys(figure) -> list[float]:
    return sorted(shape.y0 for shape in figure.layout.shapes)


def test_loss_figure_has_raw_smoothed_validation_and_baselines():
    steps = step_records([4.2, 3.9, 3.5, 3.2, 3.0, 2.8, 2.7, 2.6])
    figure = training_charts.loss_figure(steps, EPOCHS, "generate", REFERENCES)
    by_name = traces(figure)
    raw, smoothed = by_name["training loss (raw)"], by_name["training loss (smoothed)"]
    assert list(raw.x) == list(range(1, 9)) and list(raw.y) == [s["loss"] for s in steps]
    assert raw.opacity < 1 and smoothed.opacity is None
    assert list(smoothed.y) == pytest.approx(training_charts.smooth([s["loss"] for s in steps]))
    validation = by_name["validation loss"]
    assert list(validation.x) == [4, 8] and list(validation.y) == [2.5, 2.1] and "markers" in validation.mode
    assert reference_ys(figure) == pytest.approx(sorted([math.log(65), 3.3]))
    texts = " ".join(annotation.text for annotation in figure.layout.annotations)
    assert "random guessing among 65 characters (loss 4.17)" in texts
    assert "guessing from letter frequencies alone (loss 3.30)" in texts
    # the newest validation round, in words, under the title; each validation point says it on hover too
    assert ("guesses the next character right 40% of the time · as unsure as choosing between 8.2 characters"
            in figure.layout.title.text)
    assert list(validation.text) == ["as unsure as choosing between 12.2 characters",
                                     "as unsure as choosing between 8.2 characters"]
    assert "loss" in figure.layout.yaxis.title.text.lower()  # how the browser test finds the loss chart


def test_classify_loss_draws_ln2_and_no_unigram_line():
    references = {"uniform": math.log(2), "unigram": 0.69}
    figure = training_charts.loss_figure(step_records([0.7, 0.6]), [], "classify", references)
    assert reference_ys(figure) == pytest.approx([math.log(2)])
    assert figure.layout.annotations[0].text == "a coin flip between positive and negative (loss 0.69)"
    assert "review" in figure.layout.yaxis.title.text
    # an older run without recorded references still gets the ln 2 line for reviews
    assert reference_ys(training_charts.loss_figure([], [], "classify", None)) == pytest.approx([math.log(2)])


def test_smoothing_is_bias_corrected_and_skips_non_finite_values():
    assert training_charts.smooth([2.0, 2.0, 2.0]) == pytest.approx([2.0, 2.0, 2.0])  # no drag towards zero
    smoothed = training_charts.smooth([1.0, math.nan, 3.0], weight=0.5)
    assert smoothed[0] == 1.0 and math.isnan(smoothed[1])
    assert smoothed[2] == pytest.approx((0.5 * 0.5 * 1.0 + 0.5 * 3.0) / (1 - 0.25))


def test_long_runs_are_thinned_but_keep_their_ends():
    steps = step_records([3.0 - i * 1e-4 for i in range(18_000)])
    figure = training_charts.loss_figure(steps, [], "generate", REFERENCES)
    for trace in figure.data[:2]:
        assert len(trace.x) <= training_charts.MAX_POINTS and trace.x[0] == 1 and trace.x[-1] == 18_000
    assert len(training_charts.grad_norm_figure(steps, "norm", 1.0).data[0].x) <= training_charts.MAX_POINTS


def test_accuracy_figure_shows_train_and_validation():
    steps = step_records([2.0, 1.0])
    figure = training_charts.accuracy_figure(steps, EPOCHS, "generate")
    by_name = traces(figure)
    assert list(by_name["training accuracy (raw)"].y) == pytest.approx([1 / 3, 1 / 2])
    assert list(by_name["validation accuracy"].y) == [0.3, 0.4]
    assert tuple(figure.layout.yaxis.range) == (0, 1) and not figure.layout.shapes
    assert figure.layout.yaxis.tickformat == ".0%" and figure.layout.yaxis.title.text == "next character right"
    assert reference_ys(training_charts.accuracy_figure(steps, [], "classify")) == [0.5]


def test_clipped_share_counts_steps_above_the_threshold():
    steps = step_records([1.0] * 8, norms=[0.2, 1.5, 0.9, 3.0, 1.0, 0.1, 2.0, math.nan])
    assert training_charts.clipped_share(steps, "norm", 1.0) == pytest.approx(3 / 7)  # the NaN step is not counted
    assert training_charts.clipped_share(steps, "norm", 0.15) == pytest.approx(6 / 7)
    assert training_charts.clipped_share(steps, "none", 1.0) is None
    assert training_charts.clipped_share(steps, "value", 1.0) is None
    assert training_charts.clipped_share([], "norm", 1.0) is None


def test_grad_norm_figure_draws_the_threshold_and_the_share():
    steps = step_records([1.0] * 4, norms=[0.5, 2.0, 0.7, 3.0])
    figure = training_charts.grad_norm_figure(steps, "norm", 1.5)
    assert list(figure.data[0].y) == [0.5, 2.0, 0.7, 3.0]
    assert reference_ys(figure) == [1.5]
    assert "clipped on 50% of steps" in figure.layout.title.text
    unclipped = training_charts.grad_norm_figure(steps, "none", 1.5)
    assert not unclipped.layout.shapes and "no clipping" in unclipped.layout.title.text
    assert "±0.5" in training_charts.grad_norm_figure(steps, "value", 0.5).layout.title.text


def test_figures_cope_with_empty_and_partial_records():
    epochs = [{"type": "epoch", "epoch": 0, "step": 3, "val_loss": None}]
    figure = training_charts.loss_figure([], epochs, "generate", {})
    assert [len(trace.x) for trace in figure.data] == [0, 0, 0] and not figure.layout.shapes


def test_charts_are_tall_and_leave_room_for_their_axis_titles():
    """Full-width charts one per row: a fixed 10 px left margin cut 'gradient norm' to 'radient norm'."""
    steps = step_records([2.0, 1.0])
    for figure in training_charts.training_figures(steps, EPOCHS, "generate", REFERENCES, "norm", 1.0)[:3]:
        assert figure.layout.height >= 400
        assert figure.layout.yaxis.automargin is True and figure.layout.xaxis.automargin is True
    grad = training_charts.grad_norm_figure(steps, "norm", 1.0)
    assert grad.layout.yaxis.title.text == "gradient norm (before clipping)"


def test_reviews_read_accuracy_first():
    epochs = [{"type": "epoch", "epoch": 0, "step": 4, "val_loss": 0.4, "val_accuracy": 0.875}]
    loss = training_charts.loss_figure(step_records([0.7, 0.6]), epochs, "classify", None)
    assert "gets 88% of reviews right" in loss.layout.title.text and "unsure" not in loss.layout.title.text
    accuracy = training_charts.accuracy_figure(step_records([0.7, 0.6]), epochs, "classify")
    assert "gets 88% of reviews right" in accuracy.layout.title.text
    assert training_charts.latest_reading([], "generate") == ""  # before the first validation round
