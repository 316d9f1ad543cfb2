"""What a worker process does with a run folder: the whole pipeline, stage by stage, for one run.

The job runner starts `python -m seqlab worker RUN_DIR` (seqlab/runs/jobs.py), never in the app's process. Here the
stages meet: the corpus is read, encoded (seqlab/encoding/pipeline.py), the model built or restored
(seqlab/model/builder.py), the trainer runs it with callbacks that record everything in the run folder
(seqlab/train), and the final state is written. Every failure ends as a `failed` status with a message.
"""

from __future__ import annotations

import math
import os
import socket
import time
import traceback
from pathlib import Path

import keras
import tensorflow as tf

from seqlab.config import ModelConfig, TrainConfig
from seqlab.corpus.registry import load_corpus
from seqlab.encoding.pipeline import PreparedData, prepare_data
from seqlab.encoding.vocabulary import CharVocabulary
from seqlab.engine import choice, devices, labels, native_kernels
from seqlab.engine.cpu import configure_threads, set_precision
from seqlab.errors import SeqlabError
from seqlab.runs import progress as run_progress
from seqlab.runs import run_folder
from seqlab.runs.states import RunState
from seqlab.runs.storage import write_json_atomic
from seqlab.train import callbacks
from seqlab.train.pacing import validation_round_steps
from seqlab.train.trainer import fit_in_rounds, optimizer_for, restore_clipping
from seqlab.train.weight_averaging import WeightAverager

SAMPLE_LENGTH = 300
SAMPLE_TEMPERATURE = 0.8
DISK_ADVICE = "free some disk space (or make the runs folder writable), then resume the run from its last checkpoint"
MEMORY_ADVICE = ("use a smaller batch, a shorter sequence, or fewer units or layers, then start the run again "
                 "(the limits: SEQLAB_MAX_JOB_MEMORY_MB and SEQLAB_WORKER_ADDRESS_SPACE_MB, seqlab/settings.py)")
NAN_ADVICE = ("lower the learning rate (for example divide it by 10) and turn on gradient clipping "
              "(clip norm with threshold 1.0)")


def _node_named(status: dict) -> dict:
    """On a cluster, the node this worker landed on joins "where" (the launcher only knew the cluster): the Train
    page and `seqlab runs` then say "Ray cluster http://head:8265, node gpu-box-3" without asking Ray."""
    where = status.get("where") or ""
    if status.get("backend") in (None, "local") or not where or ", node " in where:
        return {}
    return {"where": f"{where}, node {socket.gethostname()}"}


def train_run(run_dir: Path) -> str:
    """Train the run in `run_dir` to its end (or Stop / NaN / error); returns the final state."""
    run_dir = Path(run_dir)
    status = run_folder.read_status(run_dir)
    run_folder.write_status(run_dir, state=RunState.RUNNING, pid=os.getpid(), error=None, advice=None,
                            engine=None, engine_note=None, started_at=status.get("started_at") or time.time(),
                            **_node_named(status))
    try:
        return _train(run_dir, status)
    except SeqlabError as error:
        return _failed(run_dir, str(error))
    except OSError as error:  # a full disk or a folder made read-only: say so, not "internal error"
        return _failed(run_dir, f"Training stopped: the run folder cannot be written ({error.strerror or error}). "
                                f"Fix: {DISK_ADVICE}.", advice=DISK_ADVICE)
    except (MemoryError, tf.errors.ResourceExhaustedError) as error:  # its address-space limit or the machine's
        traceback.print_exc()
        return _failed(run_dir, f"Training ran out of memory ({type(error).__name__}): this run needs more than its "
                                f"process could get. Fix: {MEMORY_ADVICE}.", advice=MEMORY_ADVICE)
    except Exception as error:  # a bug: keep the traceback in train.log, a short line in the status
        traceback.print_exc()
        return _failed(run_dir, f"Training crashed with an internal error: {type(error).__name__}: {error}. "
                                "Details are in train.log in the run folder.")
    finally:
        native_kernels.announce_build(None)


def _train(run_dir: Path, status: dict) -> str:
    resuming = bool(status.get("resume")) and (run_dir / run_folder.CHECKPOINT).exists()
    devices.enable_memory_growth()  # before anything allocates: runs sharing a GPU take only what they use
    configure_threads()
    model_config, train_config = run_folder.read_configs(run_dir)
    keras.utils.set_random_seed(train_config.seed + int(status.get("checkpoint_step") or 0))
    set_precision(train_config)
    data = _prepare(run_dir, model_config, train_config, resuming)
    engine_report = EngineReport(run_dir)  # before the model: compiling it may build the kernels
    model = _restore(run_dir, train_config) if resuming else _build(model_config, train_config, data)
    start_step = int(status.get("checkpoint_step") or 0) if resuming else 0
    run_folder.truncate_metrics(run_dir, start_step)
    total, limit_rule = run_progress.step_limit(data.steps_per_epoch, train_config.epochs, train_config.max_steps)
    clock = callbacks.TrainingClock(total, start_step, float(status.get("checkpoint_elapsed") or 0.0) if resuming
                                    else 0.0, train_config.time_budget_seconds, limit_rule)
    best = float(status.get("best_val_loss") or math.inf) if resuming else math.inf
    run_folder.write_status(run_dir, total_steps=total, steps_per_epoch=data.steps_per_epoch, step=start_step,
                            reference_losses=data.reference_losses, vocabulary_size=data.vocabulary_size,
                            parameters=int(model.count_params()), resume=False,
                            **run_progress.status_fields(start_step, clock.plan(), train_config.time_budget_seconds,
                                                         clock.elapsed))
    progress = callbacks.ProgressWriter(run_dir, clock, data.steps_per_epoch, data.tokens_per_step)
    fit_in_rounds(model, data.train, data.validation, clock,
                  lambda speed: validation_round_steps(model_config.task, data.steps_per_epoch, train_config, speed),
                  [*run_callbacks(run_dir, train_config, data, clock, progress, best), engine_report])
    return _finish(run_dir, clock, progress)


def _prepare(run_dir: Path, model_config: ModelConfig, train_config: TrainConfig, resuming: bool) -> PreparedData:
    """The datasets; a generation run's vocabulary is saved with it (and reused when it resumes); a forecast
    run's series.json (written again on a resume: the same series gives the same file)."""
    if model_config.task == "forecast":
        from seqlab.corpus.series import load_series
        from seqlab.encoding.pipeline import prepare_forecast

        data = prepare_forecast(load_series(train_config.corpus, train_config.value_column), train_config)
        write_json_atomic(run_dir / run_folder.SERIES, data.forecast.record)
        return data
    corpus = load_corpus(train_config.corpus, text_column=train_config.text_column or None,
                         label_column=train_config.label_column or None, star_threshold=train_config.star_threshold)
    vocabulary_path = run_dir / run_folder.VOCABULARY
    vocabulary = CharVocabulary.load(vocabulary_path) if resuming and model_config.task == "generate" else None
    data = prepare_data(corpus, model_config, train_config, vocabulary, vectorizer_needed=not resuming)
    if data.vocabulary is not None:
        data.vocabulary.save(vocabulary_path)
    return data


def _build(model_config: ModelConfig, train_config: TrainConfig, data: PreparedData) -> keras.Model:
    from seqlab.model.builder import build_model, compile_model

    model = build_model(model_config, data.vocabulary_size, vectorizer=data.vectorizer,
                        sequence_length=train_config.sequence_length, horizon=train_config.horizon)
    compile_model(model, model_config.task, optimizer_for(train_config))
    return model


def _restore(run_dir: Path, train_config: TrainConfig) -> keras.Model:
    """The checkpoint of the run being resumed: weights and optimizer state (only the file seqlab saved)."""
    from seqlab.model.builder import SeqlabModel

    path = run_folder.verify_checksum(run_dir, run_folder.CHECKPOINT)
    model = keras.saving.load_model(path, custom_objects={"SeqlabModel": SeqlabModel})
    restore_clipping(model.optimizer, train_config)
    return model


class EngineReport(keras.callbacks.Callback):
    """status.json's `engine` (choice.py's words: "compiled CPU kernels", "standard TensorFlow" with `engine_note`
    saying why, or "GPU") once the first batch has run: the layers choose when first traced. While the kernels are
    being built, `engine` is "preparing fast kernels (once, ~20 s)"."""

    def __init__(self, run_dir: Path):
        super().__init__()
        self.run_dir, self.reported = run_dir, False
        choice.forget_choices()
        native_kernels.announce_build(self._preparing)

    def _preparing(self, building: bool) -> None:
        run_folder.write_status(self.run_dir, engine=labels.PREPARING if building else None)

    def on_train_batch_end(self, batch, logs=None):
        words = None if self.reported else choice.engine_in_words()
        recurrent = (keras.layers.RNN, keras.layers.Bidirectional)
        if not self.reported and words is None and not any(isinstance(layer, recurrent) for layer in self.model.layers):
            words = choice.without_recurrence()  # a Transformer: its first batch chose no recurrent engine
        if words:
            self.reported = True
            run_folder.write_status(self.run_dir, engine=words[0], engine_note=words[1] or None)
            print(f"seqlab: engine: {words[0]}" + (f" ({words[1]})" if words[1] else ""), flush=True)


def run_callbacks(run_dir: Path, train_config: TrainConfig, data: PreparedData, clock: callbacks.TrainingClock,
                  progress: callbacks.ProgressWriter, best_val_loss: float) -> list:
    """The clock first (the others read its step), the weight averager last (it averages the step just taken)."""
    averager = WeightAverager(train_config.weight_average_steps) if train_config.weight_average_steps else None
    weights = averager.applied if averager else callbacks.unchanged_weights
    chosen = [clock]
    if train_config.learning_rate_schedule == "cosine":
        chosen.append(callbacks.CosineLearningRate(clock, train_config.learning_rate))
    if data.forecast is not None:  # scores each round before it is recorded and the best model kept by it
        from seqlab.train.forecast_validation import ForecastValidation

        parts = data.forecast
        chosen.append(ForecastValidation(parts.validation_inputs, parts.validation_targets, parts.scale, weights,
                                         lambda: clock.stop_reason == "nan"))
    chosen += [callbacks.MetricsWriter(run_dir, clock, data.steps_per_epoch, data.tokens_per_step),
               callbacks.StopConditions(run_dir, clock),
               callbacks.BestModelSaver(run_dir, clock, best_val_loss, weights)]
    if data.vocabulary is not None:
        chosen.append(callbacks.SampleWriter(run_dir, clock, _text_sampler(data.vocabulary, data.sample_seed),
                                             data.sample_seed, SAMPLE_TEMPERATURE, train_config.seed, weights))
    chosen += [callbacks.CheckpointSaver(run_dir, clock), progress]
    return chosen + ([averager] if averager else [])


def _text_sampler(vocabulary: CharVocabulary, seed_text: str):
    """generate(model, random_seed) -> a sample of SAMPLE_LENGTH characters from the model as it is now."""
    from seqlab.infer.sampling import CharSampler

    def generate(model: keras.Model, random_seed: int) -> str:
        sampler = CharSampler.from_keras(model, vocabulary)
        return sampler.generate(seed_text, SAMPLE_LENGTH, temperature=SAMPLE_TEMPERATURE, random_seed=random_seed)[0]

    return generate


def _finish(run_dir: Path, clock: callbacks.TrainingClock, progress: callbacks.ProgressWriter) -> str:
    progress.write(RunState.STOPPING if clock.stop_reason == "stop" else RunState.RUNNING)  # never back to running
    if clock.stop_reason == "nan":
        return _failed(run_dir, f"The loss became NaN or infinite at step {clock.step}: training diverged. "
                                f"Fix: {NAN_ADVICE}.", advice=NAN_ADVICE)
    state = RunState.STOPPED if clock.stop_reason == "stop" else RunState.FINISHED
    progress.finish(state)
    return state


def _failed(run_dir: Path, error: str, advice: str | None = None) -> str:
    fields = {"advice": advice} if advice else {}
    run_folder.write_status(run_dir, state=RunState.FAILED, error=error, finished_at=time.time(), **fields)
    return RunState.FAILED
