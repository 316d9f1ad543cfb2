"""How a training run is paced: the learning-rate schedule and how often it validates.

Small decisions the trainer (seqlab/train/trainer.py) takes during `fit`, each measured on the 2-core
machine the presets are tuned for (see docs/performance-history.md).
"""

from __future__ import annotations

import math

from seqlab.config import TrainConfig

# Generation runs validate and write a sample every this many steps (or each epoch, if shorter): a 60-second
# demo on Tiny Shakespeare (156 steps per epoch) then shows its text improving a few times, not once at the end.
GENERATE_ROUND_STEPS = 40
VALIDATIONS_PER_BUDGET = 10  # longer time-budgeted runs validate ~this many times, not every 40 steps (~15 % of time)
FORECAST_ROUND_STEPS = 50  # forecast runs validate at most this often (rounds may end inside an epoch)
FORECAST_VALIDATIONS = 40  # ... and about this many times over a time budget: a forecast's rounds cost little
FINAL_LEARNING_RATE_SHARE = 0.05  # the cosine schedule ends at this share of the learning rate


def cosine_learning_rate(base: float, fraction: float) -> float:
    """Half a cosine from `base` (fraction 0) down to FINAL_LEARNING_RATE_SHARE * base (fraction 1)."""
    final = FINAL_LEARNING_RATE_SHARE * base
    return final + (base - final) * 0.5 * (1.0 + math.cos(math.pi * min(1.0, max(0.0, fraction))))


def validation_round_steps(task: str, steps_per_epoch: int, train_config: TrainConfig, steps_per_second: float) -> int:
    """Steps between validations: each epoch for reviews; for text every GENERATE_ROUND_STEPS (a demo shows its
    text improving), stretched on long time-budgeted runs to about VALIDATIONS_PER_BUDGET rounds in all; for a
    series every FORECAST_ROUND_STEPS, about FORECAST_VALIDATIONS rounds over a time budget."""
    if task == "classify":
        return steps_per_epoch
    if task == "forecast":  # a series' epoch is a few steps: a round (and its checkpoint) each would cost the most
        steps = FORECAST_ROUND_STEPS
        if train_config.time_budget_seconds and steps_per_second:
            steps = max(steps, int(steps_per_second * train_config.time_budget_seconds / FORECAST_VALIDATIONS))
        return steps
    steps = GENERATE_ROUND_STEPS
    if train_config.time_budget_seconds and steps_per_second:
        steps = max(steps, int(steps_per_second * train_config.time_budget_seconds / VALIDATIONS_PER_BUDGET))
    return max(1, min(steps_per_epoch, steps))
