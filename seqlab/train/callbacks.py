"""The trainer's callbacks, one job each, sharing one `TrainingClock`: the run folder as the live record of training.

Each callback writes one kind of thing to the run folder (metrics, checkpoints, the best model, samples, progress)
or takes one decision (the learning rate now, whether to stop). None knows which model it trains: the text
samples come from a function the worker passes in. Order matters where noted in `run_callbacks` (seqlab/runs/
worker.py builds the list): the clock first, the weight averager last.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from seqlab.runs import progress, run_folder
from seqlab.runs.states import RunState
from seqlab.train.pacing import cosine_learning_rate

CHECKPOINT_EVERY_SECONDS = 30.0  # mid-epoch checkpoints bound what a kill can lose
STATUS_EVERY_SECONDS = 0.5  # status.json rewrite rate while training
FORECAST_SCORES = ("val_mae", "val_rmse")  # a forecast run's validation in the series' units (forecast_validation)


class TrainingClock(keras.callbacks.Callback):
    """Steps done, training time (continued across resumes), speed, the plan, and why training stops. Goes first."""

    def __init__(self, total_steps: int, start_step: int, elapsed_before: float, time_budget_seconds: float,
                 limit_rule: str = progress.EPOCHS):
        super().__init__()
        self.total_steps, self.step, self.time_budget_seconds = total_steps, start_step, time_budget_seconds
        self.limit_rule = limit_rule  # what sets total_steps: epochs or the step cap (seqlab/runs/progress.py)
        self.started = time.monotonic() - elapsed_before
        self.steps_per_second = 0.0
        self.last_step_seconds = 0.0
        self.stop_reason: str | None = None  # "nan" | "stop" | "steps" | "time"
        self.stopped_plan: progress.Plan | None = None
        self._first_step: tuple[int, float] | None = None  # (step, elapsed) after this process's first step

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def run_fraction(self) -> float:
        """How much of the run is done: by steps, or by the time budget if that ends it sooner."""
        fraction = self.step / max(1, self.total_steps)
        if self.time_budget_seconds:
            fraction = max(fraction, self.elapsed / self.time_budget_seconds)
        return min(1.0, fraction)

    @property
    def wall_steps_per_second(self) -> float:
        """Steps per second of wall time since this process's first step (validation and saving included, the
        first step's tracing not): what a time budget really buys. The batch speed until that is measurable."""
        if self._first_step is not None:
            steps, seconds = self.step - self._first_step[0], self.elapsed - self._first_step[1]
            if steps >= 5 and seconds > 0:
                return steps / seconds
        return self.steps_per_second

    def plan(self) -> progress.Plan:
        """The steps this run will have taken when it ends (frozen when it is stopped: the share it did)."""
        if self.stopped_plan is not None:
            return self.stopped_plan
        return progress.plan(self.step, self.total_steps, self.limit_rule, self.time_budget_seconds, self.elapsed,
                             self.wall_steps_per_second)

    def stop(self, reason: str) -> None:
        self.stopped_plan = self.plan()
        self.stop_reason = reason
        self.model.stop_training = True

    def on_train_batch_begin(self, batch, logs=None):
        self.batch_started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.last_step_seconds = max(time.perf_counter() - self.batch_started, 1e-9)
        self.step += 1
        rate = 1.0 / self.last_step_seconds
        self.steps_per_second = rate if self.step <= 2 else 0.9 * self.steps_per_second + 0.1 * rate
        if self._first_step is None:
            self._first_step = (self.step, self.elapsed)


class CosineLearningRate(keras.callbacks.Callback):
    """Sets the learning rate before each step: half a cosine from the configured rate over the run."""

    def __init__(self, clock: TrainingClock, base_rate: float):
        super().__init__()
        self.clock, self.base_rate = clock, base_rate

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate = cosine_learning_rate(self.base_rate, self.clock.run_fraction)


class MetricsWriter(keras.callbacks.Callback):
    """One metrics.jsonl record per step (loss, accuracy, gradient norm before clipping, learning rate, speed) and
    one per validation round."""

    def __init__(self, run_dir: Path, clock: TrainingClock, steps_per_epoch: int, tokens_per_step: int):
        super().__init__()
        self.path, self.clock = Path(run_dir) / run_folder.METRICS, clock
        self.steps_per_epoch, self.tokens_per_step = steps_per_epoch, tokens_per_step
        self.round_losses: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.round_losses = []

    def on_train_batch_end(self, batch, logs=None):
        step, loss = self.clock.step, float(logs["loss"])
        record = {"type": "step", "step": step, "epoch": (step - 1) // self.steps_per_epoch, "loss": loss}
        if "accuracy" in logs:  # a forecaster has none
            record["accuracy"] = float(logs["accuracy"])
        run_folder.append_jsonl(self.path, {
            **record, "grad_norm": float(logs["grad_norm"]), "learning_rate": float(self.model.optimizer.learning_rate),
            "tokens_per_second": self.tokens_per_step / self.clock.last_step_seconds,
            "time": round(self.clock.elapsed, 3)})
        self.round_losses.append(loss)

    def on_epoch_end(self, epoch, logs=None):
        if self.clock.stop_reason == "nan":
            return
        logs, step = logs or {}, self.clock.step
        run_folder.append_jsonl(self.path, {
            "type": "epoch", "epoch": epoch, "step": step, "time": round(self.clock.elapsed, 3),
            "epochs_seen": round(step / self.steps_per_epoch, 3),
            "loss": float(np.mean(self.round_losses)) if self.round_losses else None,
            "val_loss": _float(logs.get("val_loss")), "val_accuracy": _float(logs.get("val_accuracy")),
            **{key: _float(logs[key]) for key in FORECAST_SCORES if key in logs}})


class StopConditions(keras.callbacks.Callback):
    """Ends training after the step: on a NaN, a Stop request, the step cap or the time budget."""

    def __init__(self, run_dir: Path, clock: TrainingClock):
        super().__init__()
        self.stop_request, self.clock = Path(run_dir) / run_folder.STOP_REQUEST, clock

    def on_train_batch_end(self, batch, logs=None):
        clock = self.clock
        if not math.isfinite(float(logs["loss"])) or not math.isfinite(float(logs["grad_norm"])):
            clock.stop("nan")
        elif self.stop_request.exists():
            clock.stop("stop")
        elif clock.step >= clock.total_steps:
            clock.stop("steps")
        elif clock.time_budget_seconds and clock.elapsed >= clock.time_budget_seconds:
            clock.stop("time")


class CheckpointSaver(keras.callbacks.Callback):
    """The training weights and optimizer state, for resume: every CHECKPOINT_EVERY_SECONDS and each round."""

    def __init__(self, run_dir: Path, clock: TrainingClock):
        super().__init__()
        self.run_dir, self.clock, self.last_saved = Path(run_dir), clock, time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        if self.clock.stop_reason is None and time.monotonic() - self.last_saved >= CHECKPOINT_EVERY_SECONDS:
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        if self.clock.stop_reason != "nan":  # never save weights that went NaN
            self.save()

    def save(self) -> None:
        run_folder.save_model(self.run_dir, run_folder.CHECKPOINT, self.model)
        run_folder.write_status(self.run_dir, checkpoint_step=self.clock.step, checkpoint_elapsed=self.clock.elapsed)
        self.last_saved = time.monotonic()


class BestModelSaver(keras.callbacks.Callback):
    """model.keras: the weights (averaged, with weight averaging) of the best validation loss so far."""

    def __init__(self, run_dir: Path, clock: TrainingClock, best_val_loss: float, weights: Callable):
        super().__init__()
        self.run_dir, self.clock, self.best_val_loss, self.weights = Path(run_dir), clock, best_val_loss, weights

    def on_epoch_end(self, epoch, logs=None):
        val_loss = _float((logs or {}).get("val_loss"))
        if self.clock.stop_reason == "nan" or val_loss is None or not val_loss < self.best_val_loss:
            return
        self.best_val_loss = val_loss
        with self.weights():
            run_folder.save_model(self.run_dir, run_folder.BEST_MODEL, self.model)
        run_folder.write_status(self.run_dir, best_val_loss=val_loss, best_val_accuracy=_float(logs.get(
            "val_accuracy")), best_step=self.clock.step,
            **{f"best_{key}": _float(logs[key]) for key in FORECAST_SCORES if key in logs})


class SampleWriter(keras.callbacks.Callback):
    """samples.jsonl: a text the model writes after each validation round, from `generate(model, random_seed)`."""

    def __init__(self, run_dir: Path, clock: TrainingClock, generate: Callable[[keras.Model, int], str],
                 seed_text: str, temperature: float, random_seed: int, weights: Callable):
        super().__init__()
        self.path, self.clock = Path(run_dir) / run_folder.SAMPLES, clock
        self.generate, self.weights = generate, weights
        self.seed_text, self.temperature, self.random_seed = seed_text, temperature, random_seed

    def on_epoch_end(self, epoch, logs=None):
        if self.clock.stop_reason == "nan":
            return
        with self.weights():
            text = self.generate(self.model, self.random_seed + epoch)
        run_folder.append_jsonl(self.path, {"epoch": epoch, "step": self.clock.step, "seed": self.seed_text,
                                            "temperature": self.temperature, "text": text})


class ProgressWriter(keras.callbacks.Callback):
    """status.json: state, step, the plan and progress (seqlab/runs/progress.py), ETA, twice a second and when
    training stops."""

    def __init__(self, run_dir: Path, clock: TrainingClock, steps_per_epoch: int, tokens_per_step: int):
        super().__init__()
        self.run_dir, self.clock, self.last_written = Path(run_dir), clock, time.monotonic()
        self.steps_per_epoch, self.tokens_per_step = steps_per_epoch, tokens_per_step

    def on_train_batch_end(self, batch, logs=None):
        if self.clock.stop_reason or time.monotonic() - self.last_written >= STATUS_EVERY_SECONDS:
            # a Stop pressed since StopConditions looked (the app wrote "stopping") is not undone by "running"
            stopping = self.clock.stop_reason == "stop" or (self.run_dir / run_folder.STOP_REQUEST).exists()
            self.write(RunState.STOPPING if stopping else RunState.RUNNING)

    def write(self, state: RunState) -> None:
        clock, planned = self.clock, self.clock.plan()
        rate = clock.wall_steps_per_second
        eta = max(0, (planned.steps or clock.total_steps) - clock.step) / rate if rate else None
        if clock.time_budget_seconds:
            budget_left = max(0.0, clock.time_budget_seconds - clock.elapsed)
            eta = budget_left if eta is None else min(eta, budget_left)
        run_folder.write_status(self.run_dir, state=state, step=clock.step, epoch=clock.step // self.steps_per_epoch,
                                eta_seconds=eta, elapsed_seconds=clock.elapsed,
                                tokens_per_second=self.tokens_per_step * clock.steps_per_second,
                                **progress.status_fields(clock.step, planned, clock.time_budget_seconds,
                                                         clock.elapsed))
        self.last_written = time.monotonic()

    def finish(self, state: RunState) -> None:
        """The final figures: a finished run did all it planned (100 %); a stopped one the share of its plan it
        did before the Stop."""
        clock = self.clock
        if state == RunState.FINISHED:
            rule = progress.TIME_BUDGET if clock.stop_reason == "time" else clock.limit_rule
            fields = progress.status_fields(clock.step, progress.Plan(max(1, clock.step), rule))
        else:
            fields = progress.status_fields(clock.step, clock.plan(), clock.time_budget_seconds, clock.elapsed)
        run_folder.write_status(self.run_dir, state=state, finished_at=time.time(), eta_seconds=0.0, **fields)


def unchanged_weights():
    """The `weights` of BestModelSaver and SampleWriter without weight averaging: the model's own."""
    return contextlib.nullcontext()


def _float(value) -> float | None:
    return None if value is None else float(value)
