"""Time estimates: epoch shapes match the real pipelines; machine speed comes from recent finished runs."""

from __future__ import annotations

import numpy as np
import pytest

from seqlab.model import estimate
from seqlab.model.size import flops_per_token
from seqlab.presets import default_configs
from seqlab.runs import run_folder


@pytest.mark.parametrize(("characters", "sequence_length", "batch_size"), [(24_000, 20, 8), (5_000, 100, 64)])
def test_generation_epoch_shape_matches_the_pipeline(characters, sequence_length, batch_size):
    from seqlab.encoding.datasets import generation_data

    data = generation_data(np.zeros(characters, dtype=np.int32), sequence_length, batch_size, seed=1)
    steps, tokens_per_step = estimate.epoch_shape("generate", characters, sequence_length, batch_size)
    assert steps == data.steps_per_epoch
    assert tokens_per_step == data.batch_size * sequence_length


def test_classification_epoch_shape_counts_the_training_reviews():
    assert estimate.epoch_shape("classify", 1000, 200, 64) == (15, 64 * 200)  # 900 reviews / 64 per batch


def test_step_time_has_an_arithmetic_and_a_sequential_part():
    model, _ = default_configs("generate", units=256, embedding_dim=64)
    arithmetic = 6400 * flops_per_token(model, 65) / estimate.FLOPS_PER_SECOND
    sequential = 100 * estimate.SECONDS_PER_TIMESTEP
    assert estimate.step_seconds(model, 100, 6400, 65) == pytest.approx(arithmetic + sequential)
    small, _ = default_configs("classify", cell="gru", units=32, embedding_dim=32)
    deep, _ = default_configs("classify", cell="gru", units=32, embedding_dim=32, num_layers=2, bidirectional=True)
    # a small model is dominated by stepping through time: twice the layers and both directions, ~4x the time
    assert 3.5 < estimate.step_seconds(deep, 200, 12800, 10000) / estimate.step_seconds(small, 200, 12800, 10000) < 4.5


def test_epoch_seconds_counts_steps_validation_and_slowdown():
    model, train = default_configs("generate", units=64, sequence_length=50, batch_size=10)
    steps, tokens = estimate.epoch_shape("generate", 100_000, 50, 10)
    per_step = estimate.step_seconds(model, 50, tokens, 65)
    seconds = estimate.epoch_seconds(model, train, 100_000, 65)
    assert steps * per_step < seconds < steps * per_step * 1.1  # plus a forward-only validation pass over 10%
    assert estimate.epoch_seconds(model, train, 100_000, 65, slowdown=2.0) == pytest.approx(seconds * 2)
    capped = default_configs("generate", units=64, sequence_length=50, batch_size=10, max_steps=10)[1]
    assert estimate.epoch_seconds(model, capped, 100_000, 65) == pytest.approx(seconds * 10 / steps)


def fake_run(root, name, state, slowdown, finished_at):
    """A run folder whose status says it trained `slowdown` times slower than the reference machine."""
    model, train = default_configs("generate", units=64, sequence_length=50, batch_size=10)
    run_dir = run_folder.create_run_folder(root / name, model, train)
    tokens = train.batch_size * train.sequence_length
    rate = tokens / (estimate.step_seconds(model, 50, tokens, 65) * slowdown)
    run_folder.write_status(run_dir, state=state, tokens_per_second=rate, vocabulary_size=65, finished_at=finished_at)


def test_measured_slowdown_is_the_median_of_the_newest_finished_runs(tmp_path):
    root = tmp_path / "runs"
    root.mkdir()
    assert estimate.measured_slowdown(root) == (1.0, 0)
    fake_run(root, "old", "finished", 50.0, finished_at=1)  # pushed out by five newer runs
    for index, slowdown in enumerate([1.0, 2.0, 3.0, 4.0, 5.0]):
        fake_run(root, f"new-{index}", "finished" if index % 2 else "stopped", slowdown, finished_at=10 + index)
    fake_run(root, "running", "running", 90.0, finished_at=100)  # not ended: does not vote
    fake_run(root, "failed", "failed", 90.0, finished_at=100)
    (root / "damaged").mkdir()
    slowdown, count = estimate.measured_slowdown(root)
    assert count == 5 and slowdown == pytest.approx(3.0)


def test_durations_read_as_plain_words():
    assert estimate.format_duration(42.4) == "42 s"
    assert estimate.format_duration(200) == "3 min 20 s"
    assert estimate.format_duration(7500) == "2 h 05 min"
    assert estimate.format_duration(None) == "unknown"
