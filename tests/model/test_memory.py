"""Memory admission: the estimate (seqlab/model/memory.py) grows with what a run keeps in memory, and a run that
would not fit under the per-job cap or in the free memory is refused before it starts, with the numbers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import namedtuple
from dataclasses import replace

import psutil
import pytest

from seqlab import settings
from seqlab.errors import SeqlabError
from seqlab.model.memory import MB, check_memory_fits, estimate_peak_memory, format_bytes
from seqlab.presets import default_configs, preset_configs
from tests.conftest import REPO

HUGE = dict(num_layers=4, units=2048, batch_size=4096, sequence_length=2000)
Memory = namedtuple("Memory", "available")


@pytest.fixture
def plenty_free(monkeypatch):
    """16 GB free, whatever this machine has now: the cap decides."""
    monkeypatch.setattr(psutil, "virtual_memory", lambda: Memory(16 * 1024 * MB))


def total(task="generate", vocabulary=65, **overrides) -> int:
    return estimate_peak_memory(*default_configs(task, **overrides), vocabulary).total


def test_the_estimate_grows_with_batch_sequence_vocabulary_units_and_layers():
    base = total()
    assert total(batch_size=128) > base and total(sequence_length=200) > base
    assert total(units=512) > base and total(num_layers=2) > base
    assert total(vocabulary=3000) > base
    assert total(task="classify", vocabulary=50_000) > total(task="classify", vocabulary=10_000)  # the embedding


def test_the_output_layer_enters_the_estimate():
    model, train = default_configs("generate")
    small, wide = estimate_peak_memory(model, train, 65), estimate_peak_memory(model, train, 5000)
    tokens = train.batch_size * train.sequence_length
    assert wide.output_layer - small.output_layer >= 3 * tokens * (5000 - 65) * 4  # logits, probabilities, gradient
    assert wide.total - small.total >= wide.output_layer - small.output_layer
    classify = estimate_peak_memory(*default_configs("classify"), 20_000)
    assert classify.output_layer < 1 * MB  # one verdict per review, not per word


def test_the_parts_add_up_and_read_in_plain_units():
    estimate = estimate_peak_memory(*preset_configs("generate", "quick-demo"), 65)
    assert estimate.total == sum(vars(estimate).values())
    assert estimate.activations > estimate.weights > 0 and estimate.runtime > 500 * MB
    assert format_bytes(350 * MB) == "350 MB" and format_bytes(4.25 * 1024 * MB) == "4.2 GB"


@pytest.mark.parametrize("task", ["generate", "classify"])
def test_the_quick_demo_fits(task, plenty_free):
    model, train = preset_configs(task, "quick-demo")
    estimate = check_memory_fits(model, train, 65 if task == "generate" else model.vocabulary_size)
    assert estimate.total < 2 * 1024 * MB


def test_the_largest_config_is_refused_with_the_numbers(plenty_free):
    model, train = default_configs("generate", **HUGE)
    with pytest.raises(SeqlabError) as caught:
        check_memory_fits(model, train, 65)
    message = str(caught.value)
    assert "TB of memory" in message and "recurrent activations" in message, message
    assert "4.0 GB" in message and settings.MAX_JOB_MEMORY_VARIABLE in message, message
    assert "smaller batch (now 4096)" in message and "shorter sequence (now 2000)" in message, message
    assert "fewer units (now 2048)" in message and message.count("Fix:") == 1, message


def test_a_transformer_counts_its_attention_scores_and_a_long_window_is_refused(plenty_free):
    """Attention scores grow with the square of the window: batch x heads x sequence² per layer."""
    model, train = default_configs("generate", cell="transformer", units=64, heads=4, num_layers=2, batch_size=32,
                                   sequence_length=128)
    estimate = estimate_peak_memory(model, train, 65)
    assert estimate.attention == 2 * 3 * 32 * 4 * 128 ** 2 * 4  # layers x (scores, softmax, gradient) x floats
    longer = estimate_peak_memory(model, replace(train, sequence_length=256), 65)
    assert longer.attention == 4 * estimate.attention and longer.activations == 2 * estimate.activations
    check_memory_fits(model, train, 65)
    with pytest.raises(SeqlabError) as caught:
        check_memory_fits(model, replace(train, sequence_length=2000, batch_size=512), 65)
    message = str(caught.value)
    assert "attention scores" in message and "shorter sequence (now 2000)" in message, message
    assert "fewer heads (now 4)" in message and "recurrent" not in message, message


def test_a_lowered_cap_refuses_a_normal_run(monkeypatch, plenty_free):
    model, train = preset_configs("generate", "quick-demo")
    monkeypatch.setenv(settings.MAX_JOB_MEMORY_VARIABLE, "600")
    with pytest.raises(SeqlabError, match="more than the 600 MB one training run may use"):
        check_memory_fits(model, train, 65)
    monkeypatch.setenv(settings.MAX_JOB_MEMORY_VARIABLE, "8192")
    assert check_memory_fits(model, train, 65).total < 8192 * MB


def test_too_little_free_memory_refuses_a_run(monkeypatch):
    monkeypatch.setattr(psutil, "virtual_memory", lambda: Memory(300 * MB))
    with pytest.raises(SeqlabError, match="the 300 MB of memory free on this machine now") as caught:
        check_memory_fits(*preset_configs("generate", "quick-demo"), 65)
    assert "wait until other programs" in str(caught.value)


@pytest.mark.parametrize("variable", [settings.MAX_JOB_MEMORY_VARIABLE, settings.WORKER_ADDRESS_SPACE_VARIABLE])
@pytest.mark.parametrize("value", ["lots", "-5", "1.5", "4 GB"])
def test_a_bad_value_of_a_memory_variable_is_refused(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SeqlabError, match=f"{variable} is '{value}'"):
        check_memory_fits(*preset_configs("generate", "quick-demo"), 65)


def test_the_memory_variables_defaults(monkeypatch):
    monkeypatch.delenv(settings.MAX_JOB_MEMORY_VARIABLE, raising=False)
    monkeypatch.delenv(settings.WORKER_ADDRESS_SPACE_VARIABLE, raising=False)
    assert settings.max_job_memory_bytes() == 4096 * MB
    if not os.path.exists("/dev/nvidiactl"):  # TensorFlow's VmPeak was 2.9-7.3 GB: far above what it touched
        assert settings.worker_address_space_bytes() >= 2 * settings.max_job_memory_bytes() + 4096 * MB
    monkeypatch.setenv(settings.MAX_JOB_MEMORY_VARIABLE, "0")
    with pytest.raises(SeqlabError, match="at least 1"):
        settings.max_job_memory_bytes()
    monkeypatch.setenv(settings.WORKER_ADDRESS_SPACE_VARIABLE, "0")
    assert settings.worker_address_space_bytes() == 0  # no limit


def test_the_cli_refuses_a_run_too_big_for_memory_before_creating_it(tmp_path):
    out = tmp_path / "too-big"
    flags = [item for name, value in HUGE.items() for item in (f"--{name.replace('_', '-')}", str(value))]
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "seqlab", "train", *flags, "--out", str(out)],
                            capture_output=True, text=True, timeout=120, env=environment, cwd=REPO)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "of memory" in result.stderr and "smaller batch" in result.stderr, result.stderr
    assert not out.exists()
    runs = settings.runs_root()
    assert not runs.exists() or not [path for path in runs.iterdir() if not path.name.startswith(".")]


def test_a_builtin_corpus_is_checked_too(plenty_free):
    from seqlab.runs.launch import check_corpus_fits

    model, train = default_configs("generate", **HUGE)
    with pytest.raises(SeqlabError, match="of memory"):
        check_corpus_fits(model, replace(train, corpus="hamlet"))
    check_corpus_fits(*preset_configs("generate", "quick-demo"))  # fits: no error
