"""The trainer: Keras `fit` in validation rounds, with the optimizer built from TrainConfig.

Like minGPT's Trainer it knows no particular model: it is handed a compiled Keras model, the datasets and the
callbacks that record the run (seqlab/train/callbacks.py), and runs steps until the clock says stop. The worker
process (seqlab/runs/worker.py) puts these together for a run folder.

Gradient clipping lives in exactly one place, the optimizer made here: Keras applies `global_clipnorm` (all
gradients rescaled together when their global norm exceeds the threshold, Pascanu et al.; not Keras' per-variable
`clipnorm`) or `clipvalue` inside `optimizer.apply`. The optimizer's settings are saved in checkpoint.keras, so a
resumed run clips as it did.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import keras

from seqlab.config import TrainConfig
from seqlab.train.callbacks import TrainingClock


def clipping_options(train_config: TrainConfig) -> dict:
    """The Keras optimizer arguments for the configured clipping: {"global_clipnorm": t}, {"clipvalue": t} or {}."""
    option = {"norm": "global_clipnorm", "value": "clipvalue"}.get(train_config.clip)
    return {option: float(train_config.clip_threshold)} if option else {}


def optimizer_for(train_config: TrainConfig) -> keras.optimizers.Optimizer:
    """Adam at the configured learning rate, clipping as configured."""
    return keras.optimizers.Adam(train_config.learning_rate, **clipping_options(train_config))


def restore_clipping(optimizer: keras.optimizers.Optimizer, train_config: TrainConfig) -> None:
    """Checkpoints written before clipping moved into the optimizer (runs made before 2026-12-04) carry none: give
    their optimizer the run's clipping, as the model class applied it then. Newer checkpoints already have it."""
    if optimizer.global_clipnorm is None and optimizer.clipvalue is None and optimizer.clipnorm is None:
        for name, value in clipping_options(train_config).items():
            setattr(optimizer, name, value)


def fit_in_rounds(model: keras.Model, train, validation, clock: TrainingClock,
                  round_steps: Callable[[float], int], callbacks: list) -> None:
    """Train until the clock stops it. Keras "epochs" here are validation rounds of `round_steps(steps_per_second)`
    steps. The first round measures the speed; one more `fit` runs all the others (each `fit` costs seconds to set
    up), on the repeated data: rounds need not end with an epoch."""
    steps_per_round, start = round_steps(0.0), clock.step
    epoch, train = start // steps_per_round, train.repeat()
    while clock.step < clock.total_steps and clock.stop_reason is None:
        if clock.step > start:  # the speed is known now
            steps_per_round = round_steps(clock.steps_per_second)
            steps, rounds = steps_per_round, math.ceil((clock.total_steps - clock.step) / steps_per_round)
        else:  # the first round ends where a round of this length would have (after a resume too)
            steps, rounds = min(steps_per_round - clock.step % steps_per_round, clock.total_steps - clock.step), 1
        model.fit(train, validation_data=validation, epochs=epoch + rounds, initial_epoch=epoch, steps_per_epoch=steps,
                  callbacks=callbacks, verbose=0, shuffle=False)
        epoch += rounds
