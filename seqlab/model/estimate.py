"""How long will an epoch take? An estimate for the Train page, before anything is trained.

Cost model of one training step on a reference machine (a 2-core laptop, measured once):
    arithmetic  tokens per step x forward FLOPs per token (`model.size.flops_per_token`) / FLOPS_PER_SECOND
  + recurrence  sequence length x layers x directions x SECONDS_PER_TIMESTEP
The second term matters: a recurrent layer steps through time one position after another, and for small
models that sequential overhead, not the arithmetic, dominates. A Transformer reads all positions at once: it has
no such term, and its arithmetic includes attention over the window (`flops_per_token`). This machine's speed
relative to the reference is calibrated from the newest finished runs in the runs root (their status records tokens/s);
with none, the reference speed is assumed. Other jobs running at the same time, batch size and the CPU all
move the real figure, so the page calls it an estimate.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

from seqlab.config import ModelConfig, TrainConfig
from seqlab.corpus.statistics import VALIDATION_FRACTION
from seqlab.errors import SeqlabError
from seqlab.model.size import directions, flops_per_token
from seqlab.runs import run_folder
from seqlab.runs.states import RunState

# Reference machine, fitted to two runs: quick-demo LSTM-256 on Hamlet (~23,000 characters/s) and
# quick-demo GRU-32 on Rotten Tomatoes reviews (~94,000 words/s).
FLOPS_PER_SECOND = 2e10  # forward FLOPs per second while training
SECONDS_PER_TIMESTEP = 6e-4  # per time step, layer and direction of a batch, forward and backward
CALIBRATION_RUNS = 5  # the newest finished runs that set the speed (their median)
VALIDATION_COST = 1 / 3  # a validation step is a forward pass only: about a third of a training step
CALIBRATING_STATES = (RunState.FINISHED, RunState.STOPPED)


def epoch_shape(task: str, corpus_size: int, sequence_length: int, batch_size: int) -> tuple[int, int]:
    """(steps per epoch, tokens per step), as the trainer's pipelines cut the corpus.

    `corpus_size` is characters (generate: non-overlapping windows of the first 90%, at any offset), reviews
    (classify: 90% train, each padded or cut to `sequence_length` words) or values (forecast).
    """
    train_share = 1 - VALIDATION_FRACTION
    if task == "forecast":  # values: one window per start in the first ~80% (seqlab/encoding/windows.py)
        windows = max(1, int(corpus_size * (1 - 2 * VALIDATION_FRACTION)) - sequence_length)
        batch = max(1, min(batch_size, windows))
        return max(1, windows // batch), batch * sequence_length
    if task == "generate":
        windows = max(0, (int(corpus_size * train_share) - sequence_length) // sequence_length)
        batch = max(1, min(batch_size, windows))
        return max(1, windows // batch), batch * sequence_length
    reviews = max(1, round(corpus_size * train_share))
    return max(1, math.ceil(reviews / batch_size)), batch_size * sequence_length


def step_seconds(model: ModelConfig, sequence_length: int, tokens_per_step: int, vocabulary_size: int) -> float:
    """Seconds per training step on the reference machine (see the module docstring)."""
    arithmetic = tokens_per_step * flops_per_token(model, vocabulary_size, sequence_length) / FLOPS_PER_SECOND
    if model.cell == "transformer":
        return arithmetic
    return arithmetic + sequence_length * model.num_layers * directions(model) * SECONDS_PER_TIMESTEP


def epoch_seconds(model: ModelConfig, train: TrainConfig, corpus_size: int, vocabulary_size: int,
                  slowdown: float = 1.0) -> float:
    """Estimated seconds for one epoch (training steps plus the cheaper validation pass) on a machine
    `slowdown` times slower than the reference one."""
    steps, tokens_per_step = epoch_shape(model.task, corpus_size, train.sequence_length, train.batch_size)
    if train.max_steps:
        steps = min(steps, train.max_steps)
    validation_steps = steps * VALIDATION_FRACTION / (1 - VALIDATION_FRACTION)
    per_step = step_seconds(model, train.sequence_length, tokens_per_step, vocabulary_size)
    return (steps + VALIDATION_COST * validation_steps) * per_step * slowdown


def run_slowdown(run_dir: Path) -> tuple[float, float] | None:
    """(time the run ended, how many times slower than the reference it trained), or None if it cannot tell."""
    status = run_folder.read_status(run_dir)
    rate, vocabulary = status.get("tokens_per_second"), status.get("vocabulary_size")
    if status["state"] not in CALIBRATING_STATES or not isinstance(rate, int | float) or rate <= 0:
        return None
    if not isinstance(vocabulary, int) or vocabulary <= 0:
        return None
    try:
        model, train = run_folder.read_configs(run_dir)
    except SeqlabError:  # a damaged run simply does not vote
        return None
    tokens_per_step = train.batch_size * train.sequence_length
    observed = tokens_per_step / rate
    ended = status.get("finished_at") or status.get("updated_at") or 0.0
    return float(ended), observed / step_seconds(model, train.sequence_length, tokens_per_step, vocabulary)


def measured_slowdown(root: Path, limit: int = CALIBRATION_RUNS) -> tuple[float, int]:
    """(this machine's slowdown against the reference, how many runs it comes from); (1.0, 0) with none."""
    slowdowns = []
    try:
        entries = [path for path in Path(root).iterdir() if not path.name.startswith(".") and path.is_dir()]
    except OSError:
        entries = []
    for entry in entries:
        try:
            slowdown = run_slowdown(entry)
        except (OSError, json.JSONDecodeError):
            slowdown = None
        if slowdown:
            slowdowns.append(slowdown)
    newest = [factor for _, factor in sorted(slowdowns, reverse=True)[:limit]]
    if not newest:
        return 1.0, 0
    return statistics.median(newest), len(newest)


def format_duration(seconds: float | None) -> str:
    """Plain words for a duration: '45 s', '3 min 20 s', '2 h 05 min'."""
    if seconds is None or not math.isfinite(seconds):
        return "unknown"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
