"""The trainer: Keras `fit`, with a callback that makes the run folder the live record of training.

Runs inside the worker process started by the job runner (`python -m seqlab
worker RUN_DIR`), never in the app's process. Everything it learns goes to
disk: per-step metrics, per-epoch validation and samples, checkpoints, status.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from seqlab import runs
from seqlab.config import ModelConfig, TrainConfig
from seqlab.corpora import load_corpus
from seqlab.errors import SeqlabError
from seqlab.statistics import check_trainable, corpus_statistics
from seqlab.training_setup import (
    configure_threads,
    cosine_learning_rate,
    set_precision,
    validation_round_steps,
)
from seqlab.weight_averaging import WeightAverager

CHECKPOINT_EVERY_SECONDS = 30.0  # mid-epoch checkpoints bound what a kill can lose
STATUS_EVERY_SECONDS = 0.5  # status.json rewrite rate while training
SAMPLE_LENGTH = 300
SAMPLE_TEMPERATURE = 0.8
DISK_ADVICE = "free some disk space (or make the runs folder writable), then resume the run from its last checkpoint"
NAN_ADVICE = ("lower the learning rate (for example divide it by 10) and turn on gradient clipping "
              "(clip norm with threshold 1.0)")


@dataclass
class PreparedData:
    train: object  # tf.data.Dataset of (inputs, targets)
    validation: object
    steps_per_epoch: int
    tokens_per_step: int
    vocabulary_size: int
    vectorizer: object = None
    vocabulary: object = None
    sample_seed: str = ""
    reference_losses: dict | None = None


def prepare_data(model_config: ModelConfig, train_config: TrainConfig, run_dir: Path,
                 from_checkpoint: bool) -> PreparedData:
    """Corpus -> vocabulary/vectorizer -> tf.data pipelines, checked before any model is built."""
    from seqlab.datasets import classification_data, generation_data, stratified_split
    from seqlab.text import CharVocabulary, make_review_vectorizer

    corpus = load_corpus(train_config.corpus, text_column=train_config.text_column or None,
                         label_column=train_config.label_column or None)
    check_trainable(corpus, model_config.task, train_config.sequence_length)
    if model_config.task == "generate":
        vocabulary_path = run_dir / runs.VOCABULARY
        vocabulary = CharVocabulary.load(vocabulary_path) if from_checkpoint else \
            CharVocabulary.from_text(corpus.text)
        vocabulary.save(vocabulary_path)
        data = generation_data(vocabulary.encode(corpus.text, unknown="skip"), train_config.sequence_length,
                               train_config.batch_size, train_config.seed)
        stats = corpus_statistics(corpus)
        first_line = corpus.text.lstrip().split("\n", 1)[0][:40]
        return PreparedData(data.train, data.validation, data.steps_per_epoch,
                            data.batch_size * train_config.sequence_length, vocabulary.size,
                            vocabulary=vocabulary, sample_seed=first_line or corpus.text[:20],
                            reference_losses={"uniform": stats["uniform_loss"], "unigram": stats["unigram_loss"]})
    labels = np.asarray(corpus.labels)
    train_index, _ = stratified_split(labels, 0.1, train_config.seed)
    vectorizer = None if from_checkpoint else make_review_vectorizer(  # a checkpoint holds its vectorizer
        [corpus.texts[i] for i in train_index], model_config.vocabulary_size, train_config.sequence_length)
    train, validation, train_count, _ = classification_data(corpus.texts, labels, train_config.batch_size,
                                                            train_config.seed, max_words=train_config.sequence_length)
    share = float(labels.mean())
    prior = -(share * math.log(share) + (1 - share) * math.log(1 - share))
    return PreparedData(train, validation, math.ceil(train_count / train_config.batch_size),
                        train_config.batch_size * train_config.sequence_length,
                        model_config.vocabulary_size, vectorizer=vectorizer,
                        reference_losses={"uniform": math.log(2), "unigram": prior})


class RunRecorder(keras.callbacks.Callback):
    """Writes every step and epoch to the run folder; obeys Stop, the step cap, the time budget and NaN."""

    def __init__(self, run_dir: Path, train_config: TrainConfig, total_steps: int, steps_per_epoch: int,
                 tokens_per_step: int, start_step: int, data: PreparedData, elapsed_before: float,
                 round_steps: int, averager: WeightAverager | None = None):
        super().__init__()
        self.averager = averager  # validation, the best model and samples use its averaged weights
        self.run_dir, self.config = run_dir, train_config
        self.total_steps, self.steps_per_epoch, self.tokens_per_step = total_steps, steps_per_epoch, tokens_per_step
        self.step, self.data = start_step, data
        self.started = time.monotonic() - elapsed_before  # training time only, continued across resumes
        self.stop_reason: str | None = None
        self.last_status = self.last_checkpoint = time.monotonic()
        self.steps_per_second = 0.0
        self.best_val_loss = math.inf
        self.epoch_losses: list[float] = []
        self.metrics_path = run_dir / runs.METRICS
        self.round_steps = round_steps  # steps between validations: an "epoch" record per round
        self.current_epoch = start_step // round_steps

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def run_fraction(self) -> float:
        """How much of the run is done: by steps, or by the time budget if that ends it sooner."""
        fraction = self.step / max(1, self.total_steps)
        if self.config.time_budget_seconds:
            fraction = max(fraction, self.elapsed / self.config.time_budget_seconds)
        return min(1.0, fraction)

    def on_train_batch_begin(self, batch, logs=None):
        if self.config.learning_rate_schedule == "cosine":
            self.model.optimizer.learning_rate = cosine_learning_rate(self.config.learning_rate, self.run_fraction)
        self.batch_started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        seconds = time.perf_counter() - self.batch_started
        self.step += 1
        loss, norm = float(logs["loss"]), float(logs["grad_norm"])
        rate = 1.0 / max(seconds, 1e-9)
        self.steps_per_second = rate if self.step <= 2 else 0.9 * self.steps_per_second + 0.1 * rate
        record = {"type": "step", "step": self.step, "epoch": (self.step - 1) // self.steps_per_epoch, "loss": loss,
                  "accuracy": float(logs["accuracy"]), "grad_norm": norm,
                  "clipped": self.config.clip == "norm" and norm > self.config.clip_threshold,
                  "learning_rate": float(self.model.optimizer.learning_rate),
                  "tokens_per_second": self.tokens_per_step / max(seconds, 1e-9), "time": round(self.elapsed, 3)}
        runs.append_jsonl(self.metrics_path, record)
        self.epoch_losses.append(loss)
        if not math.isfinite(loss) or not math.isfinite(norm):
            self._stop("nan")
        elif (self.run_dir / runs.STOP_REQUEST).exists():
            self._stop("stop")
        elif self.step >= self.total_steps:
            self._stop("steps")
        elif self.config.time_budget_seconds and self.elapsed >= self.config.time_budget_seconds:
            self._stop("time")
        now = time.monotonic()
        if self.stop_reason is None and now - self.last_checkpoint >= CHECKPOINT_EVERY_SECONDS:
            self.save_checkpoint()
        if self.stop_reason or now - self.last_status >= STATUS_EVERY_SECONDS:
            self.write_progress(state="stopping" if self.stop_reason == "stop" else "running")

    def on_epoch_begin(self, epoch, logs=None):
        self.current_epoch, self.epoch_losses = epoch, []

    def on_epoch_end(self, epoch, logs=None):
        if self.stop_reason == "nan":
            return  # never save weights that went NaN
        logs = logs or {}
        record = {"type": "epoch", "epoch": epoch, "step": self.step, "time": round(self.elapsed, 3),
                  "epochs_seen": round(self.step / self.steps_per_epoch, 3),
                  "loss": float(np.mean(self.epoch_losses)) if self.epoch_losses else None,
                  "val_loss": _float(logs.get("val_loss")), "val_accuracy": _float(logs.get("val_accuracy"))}
        runs.append_jsonl(self.metrics_path, record)
        val_loss = record["val_loss"]
        with self.averager.applied() if self.averager else contextlib.nullcontext():
            if val_loss is not None and math.isfinite(val_loss) and val_loss < self.best_val_loss:
                self.best_val_loss = val_loss
                runs.save_model(self.run_dir, runs.BEST_MODEL, self.model)
                runs.write_status(self.run_dir, best_val_loss=val_loss, best_val_accuracy=record["val_accuracy"],
                                  best_step=self.step)
            if self.data.vocabulary is not None:
                self.write_sample(epoch)
        self.save_checkpoint()  # the training weights: a resumed run goes on from where training was

    def write_sample(self, epoch: int) -> None:
        from seqlab.sampling import CharSampler, NumpyCharModel

        sampler = CharSampler(NumpyCharModel.from_keras(self.model), self.data.vocabulary)
        text = sampler.generate(self.data.sample_seed, SAMPLE_LENGTH, temperature=SAMPLE_TEMPERATURE,
                                random_seed=self.config.seed + epoch)[0]
        runs.append_jsonl(self.run_dir / runs.SAMPLES, {"epoch": epoch, "step": self.step, "seed":
                          self.data.sample_seed, "temperature": SAMPLE_TEMPERATURE, "text": text})

    def save_checkpoint(self) -> None:
        runs.save_model(self.run_dir, runs.CHECKPOINT, self.model)  # with the optimizer state, for resume
        runs.write_status(self.run_dir, checkpoint_step=self.step, checkpoint_elapsed=self.elapsed)
        self.last_checkpoint = time.monotonic()

    def write_progress(self, state: str) -> None:
        steps_left = max(0, self.total_steps - self.step)
        eta = steps_left / self.steps_per_second if self.steps_per_second else None
        if self.config.time_budget_seconds:
            budget_left = max(0.0, self.config.time_budget_seconds - self.elapsed)
            eta = budget_left if eta is None else min(eta, budget_left)
        runs.write_status(self.run_dir, state=state, step=self.step, epoch=self.step // self.steps_per_epoch,
                          progress=self.run_fraction, eta_seconds=eta, elapsed_seconds=self.elapsed,
                          tokens_per_second=self.tokens_per_step * self.steps_per_second)
        self.last_status = time.monotonic()

    def _stop(self, reason: str) -> None:
        self.stop_reason = reason
        self.model.stop_training = True


def _float(value) -> float | None:
    return None if value is None else float(value)


def build_or_restore(model_config: ModelConfig, train_config: TrainConfig, data: PreparedData, run_dir: Path,
                     from_checkpoint: bool):
    """A fresh compiled model, or the checkpoint (weights + optimizer state) of the run being resumed."""
    from seqlab.models import SeqlabModel, build_model, compile_model

    if from_checkpoint:
        path = runs.verify_checksum(run_dir, runs.CHECKPOINT)
        model = keras.saving.load_model(path, custom_objects={"SeqlabModel": SeqlabModel})
        model.clip_mode, model.clip_threshold = train_config.clip, float(train_config.clip_threshold)
        return model, True
    model = build_model(model_config, data.vocabulary_size, vectorizer=data.vectorizer)
    compile_model(model, model_config.task, train_config.learning_rate, train_config.clip,
                  train_config.clip_threshold)
    return model, False


def train_run(run_dir: Path) -> str:
    """Train the run in `run_dir` to its end (or Stop / NaN / error); returns the final state."""
    run_dir = Path(run_dir)
    status = runs.read_status(run_dir)
    from_checkpoint = bool(status.get("resume")) and (run_dir / runs.CHECKPOINT).exists()
    runs.write_status(run_dir, state="running", pid=os.getpid(), started_at=status.get("started_at") or time.time(),
                      error=None, advice=None)
    try:
        configure_threads()
        model_config, train_config = runs.read_configs(run_dir)
        keras.utils.set_random_seed(train_config.seed + int(status.get("checkpoint_step") or 0))
        set_precision(train_config)
        data = prepare_data(model_config, train_config, run_dir, from_checkpoint)
        model, restored = build_or_restore(model_config, train_config, data, run_dir, from_checkpoint)
        start_step = int(status.get("checkpoint_step") or 0) if restored else 0
        runs.truncate_metrics(run_dir, start_step)
        total = data.steps_per_epoch * train_config.epochs
        total = min(total, train_config.max_steps) if train_config.max_steps else total
        round_steps = validation_round_steps(model_config.task, data.steps_per_epoch, train_config, 0.0)
        averager = WeightAverager(train_config.weight_average_steps) if train_config.weight_average_steps else None
        recorder = RunRecorder(run_dir, train_config, total, data.steps_per_epoch, data.tokens_per_step, start_step,
                               data, float(status.get("checkpoint_elapsed") or 0.0) if restored else 0.0,
                               round_steps, averager)
        recorder.best_val_loss = float(status.get("best_val_loss") or math.inf) if restored else math.inf
        runs.write_status(run_dir, total_steps=total, steps_per_epoch=data.steps_per_epoch, step=start_step,
                          reference_losses=data.reference_losses, vocabulary_size=data.vocabulary_size,
                          parameters=int(model.count_params()), resume=False)
        # Keras "epochs" here are validation rounds. The first round measures the speed; one more `fit` runs all
        # the others (each `fit` costs seconds to set up), on the repeated data: rounds need not end with an epoch.
        epoch, train = start_step // round_steps, data.train.repeat()
        while recorder.step < total and recorder.stop_reason is None:
            if recorder.step > start_step:  # the speed is known now
                round_steps = validation_round_steps(model_config.task, data.steps_per_epoch, train_config,
                                                     recorder.steps_per_second)
                steps, rounds = round_steps, math.ceil((total - recorder.step) / round_steps)
            else:  # the first round ends where a round of this length would have (after a resume too)
                steps, rounds = min(round_steps - recorder.step % round_steps, total - recorder.step), 1
            model.fit(train, validation_data=data.validation, epochs=epoch + rounds, initial_epoch=epoch,
                      steps_per_epoch=steps, callbacks=[recorder] + ([averager] if averager else []), verbose=0,
                      shuffle=False)
            epoch += rounds
        return finish(run_dir, recorder)
    except SeqlabError as error:
        runs.write_status(run_dir, state="failed", error=str(error), finished_at=time.time())
        return "failed"
    except OSError as error:  # a full disk or a folder made read-only: say so, not "internal error"
        runs.write_status(run_dir, state="failed", finished_at=time.time(), advice=DISK_ADVICE,
                          error=f"Training stopped: the run folder cannot be written ({error.strerror or error}). "
                                f"Fix: {DISK_ADVICE}.")
        return "failed"
    except Exception as error:  # a bug: keep the traceback in train.log, a short line in the status
        traceback.print_exc()
        runs.write_status(run_dir, state="failed", finished_at=time.time(),
                          error=f"Training crashed with an internal error: {type(error).__name__}: {error}. "
                                "Details are in train.log in the run folder.")
        return "failed"


def finish(run_dir: Path, recorder: RunRecorder) -> str:
    recorder.write_progress(state="running")
    if recorder.stop_reason == "nan":
        runs.write_status(run_dir, state="failed", finished_at=time.time(), advice=NAN_ADVICE,
                          error=f"The loss became NaN or infinite at step {recorder.step}: training diverged. "
                                f"Fix: {NAN_ADVICE}.")
        return "failed"
    state = "stopped" if recorder.stop_reason == "stop" else "finished"
    runs.write_status(run_dir, state=state, finished_at=time.time(), eta_seconds=0.0,
                      progress=1.0 if state == "finished" else recorder.step / recorder.total_steps)
    return state
