"""Real training through the job runner: a worker process per run, tiny models, a tiny corpus."""

from __future__ import annotations

import math
import os
import signal
from pathlib import Path

import pytest

from seqlab.errors import SeqlabError
from seqlab.presets import default_configs
from seqlab.runs import jobs, run_folder

TINY = dict(units=16, embedding_dim=8, sequence_length=20, batch_size=8)


@pytest.fixture
def tiny_text(tmp_path) -> Path:
    """~24k characters of Hamlet: 10 steps per epoch at batch 8 x 20 characters... enough to learn a little."""
    from seqlab.corpus.registry import load_corpus

    path = tmp_path / "tiny.txt"
    path.write_text(load_corpus("hamlet").text[:24_000], encoding="utf-8")
    return path


def submit(task: str, **overrides) -> Path:
    model, train = default_configs(task, **overrides)
    root = run_folder.runs_root()
    run_dir = run_folder.create_run_folder(root / run_folder.new_run_id(model, train), model, train)
    jobs.submit(run_dir, root)
    return run_dir


def wait_until(run_dir: Path, predicate, timeout: float = 90.0) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = jobs.reconcile(run_dir)
        if predicate(status):
            return status
        assert status["state"] not in ("failed", "interrupted"), status
        time.sleep(0.2)
    raise AssertionError(f"timed out; status: {run_folder.read_status(run_dir)}")


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_each_cell_trains_in_its_own_process(cell, tiny_text):
    run_dir = submit("generate", corpus=str(tiny_text), cell=cell, num_layers=2, max_steps=12, **TINY)
    status = jobs.wait_for(run_dir, timeout=120)
    assert status["state"] == "finished", status
    assert status["pid"] != os.getpid() and status["step"] == 12 == status["total_steps"]
    steps, epochs = run_folder.read_metrics(run_dir)
    assert [s["step"] for s in steps] == list(range(1, 13))
    assert all(math.isfinite(s["loss"]) and s["grad_norm"] > 0 and s["tokens_per_second"] > 0 for s in steps)
    assert steps[-1]["loss"] < steps[0]["loss"]
    assert epochs and epochs[-1]["val_loss"] is not None
    samples = run_folder.read_jsonl(run_dir / run_folder.SAMPLES)
    assert samples and samples[-1]["text"].startswith(samples[-1]["seed"])
    for name in (run_folder.BEST_MODEL, run_folder.CHECKPOINT, run_folder.VOCABULARY, run_folder.CONFIG):
        assert (run_dir / name).is_file()
    run_folder.verify_checksum(run_dir, run_folder.BEST_MODEL)


def test_stop_takes_effect_and_keeps_the_model(tiny_text):
    run_dir = submit("generate", corpus=str(tiny_text), cell="gru", epochs=1000, **TINY)
    wait_until(run_dir, lambda s: s.get("step", 0) >= 5)
    status = jobs.stop(run_dir, wait=True)
    assert status["state"] == "stopped"
    step = status["step"]
    assert run_folder.read_metrics(run_dir)[0][-1]["step"] == step  # nothing after the stop
    assert (run_dir / run_folder.BEST_MODEL).is_file()  # the stop still validated and saved


def test_killed_run_is_interrupted_and_resume_finishes_it(tiny_text):
    # 10 steps per epoch: checkpoints at every epoch end
    run_dir = submit("generate", corpus=str(tiny_text), cell="lstm", max_steps=300, **TINY)
    status = wait_until(run_dir, lambda s: (s.get("checkpoint_step") or 0) >= 10 and s.get("step", 0) >= 15)
    os.kill(status["pid"], signal.SIGKILL)
    status = jobs.wait_for(run_dir, states=("interrupted",), timeout=10)
    assert status["state"] == "interrupted" and "resume" in status["error"]
    checkpoint_step = status["checkpoint_step"]
    jobs.resume(run_dir)
    status = jobs.wait_for(run_dir, timeout=120)
    assert status["state"] == "finished" and status["step"] == 300
    steps, _ = run_folder.read_metrics(run_dir)
    assert [s["step"] for s in steps] == list(range(1, 301))  # metrics continue, no gap, no duplicates
    resumed = [s for s in steps if s["step"] > checkpoint_step]
    assert resumed[0]["loss"] < steps[0]["loss"]  # continued from the checkpoint, not from scratch


def test_nan_loss_fails_the_run_with_advice(tiny_text, monkeypatch):
    """Forced divergence: the training step's loss is turned into NaN (in-process, same trainer code)."""
    import tensorflow as tf

    from seqlab.model import builder
    from seqlab.runs import worker

    original = builder.SeqlabModel.train_step

    def diverging(self, data):
        logs = original(self, data)
        return {**logs, "loss": logs["loss"] * tf.constant(float("nan"))}

    monkeypatch.setattr(builder.SeqlabModel, "train_step", diverging)
    model, train = default_configs("generate", corpus=str(tiny_text), max_steps=20, **TINY)
    run_dir = run_folder.create_run_folder(run_folder.runs_root() / "nan-run", model, train)
    assert worker.train_run(run_dir) == "failed"
    status = run_folder.read_status(run_dir)
    assert status["state"] == "failed" and "NaN" in status["error"] and "learning rate" in status["advice"]
    assert not (run_dir / run_folder.BEST_MODEL).exists()  # NaN weights are never saved as the best model


def test_a_bad_corpus_fails_with_the_message(tmp_path):
    short = tmp_path / "short.txt"
    short.write_text("too short", encoding="utf-8")
    run_dir = submit("generate", corpus=str(short), **TINY)
    status = jobs.wait_for(run_dir, timeout=60)
    assert status["state"] == "failed" and "too short for sequence length 20" in status["error"]


def test_classifier_trains_on_a_csv(review_csv):
    """With the best review preset's extras (max+mean pooling, word pairs): trained, saved, loaded, evaluated."""
    run_dir = submit("classify", corpus=str(review_csv), units=8, embedding_dim=8, bidirectional=True,
                     sequence_length=12, batch_size=8, max_steps=8, vocabulary_size=100, pooling="max_mean",
                     word_pairs=1000)
    status = jobs.wait_for(run_dir, timeout=120)
    assert status["state"] == "finished", status
    assert status["best_val_accuracy"] is not None
    from seqlab.infer.evaluation import evaluate_run

    metrics = evaluate_run(run_dir, split="all")
    assert metrics["reviews"] == 60 and sum(map(sum, metrics["confusion_matrix"]["matrix"])) == 60
    with pytest.raises(SeqlabError, match="has no test split"):
        evaluate_run(run_dir, split="test")


def test_cosine_schedule_falls_to_its_floor_and_bfloat16_runs_sample(tiny_text):
    """Both settings go through the worker: the recorded rate falls step by step; a bfloat16 model still samples."""
    from seqlab.infer.loading import load_run, load_sampler

    run_dir = submit("generate", corpus=str(tiny_text), max_steps=20, learning_rate=0.01,
                     learning_rate_schedule="cosine", precision="bfloat16", **TINY)
    status = jobs.wait_for(run_dir, timeout=120)
    assert status["state"] == "finished", status
    rates = [s["learning_rate"] for s in run_folder.read_metrics(run_dir)[0]]
    assert rates[0] == pytest.approx(0.01) and all(a > b for a, b in zip(rates, rates[1:]))
    assert rates[-1] < 0.01 * 0.1
    assert load_run(run_dir).model.get_layer("lstm_0").compute_dtype == "bfloat16"
    text = load_sampler(run_dir).generate("To be", 30)[0]
    assert text.startswith("To be") and len(text) == 35


def test_cosine_learning_rate_and_validation_rounds():
    from seqlab.config import TrainConfig
    from seqlab.train.pacing import FINAL_LEARNING_RATE_SHARE, cosine_learning_rate, validation_round_steps

    assert cosine_learning_rate(0.002, 0.0) == pytest.approx(0.002)
    assert cosine_learning_rate(0.002, 0.5) == pytest.approx(0.001 * (1 + FINAL_LEARNING_RATE_SHARE))
    assert cosine_learning_rate(0.002, 1.0) == pytest.approx(0.002 * FINAL_LEARNING_RATE_SHARE)
    budget = TrainConfig(time_budget_seconds=300.0)
    assert validation_round_steps("generate", 156, budget, 0.0) == 40  # speed unknown yet: demo rounds
    assert validation_round_steps("generate", 156, budget, 4.0) == 120  # ~10 rounds in 300 s
    assert validation_round_steps("generate", 100, budget, 10.0) == 100  # never longer than an epoch
    assert validation_round_steps("generate", 156, TrainConfig(), 4.0) == 40  # no budget: every 40 steps
    assert validation_round_steps("classify", 352, budget, 4.0) == 352


def test_weight_averaging_validates_and_keeps_the_average_and_resumes_from_the_training_weights(tiny_text):
    """The best model is the averaged one that was validated (its loss is the recorded one); the resumable
    checkpoint keeps the training weights, which differ from their average."""
    import keras
    import numpy as np

    from seqlab.infer.evaluation import evaluate_run
    from seqlab.model.builder import SeqlabModel

    run_dir = submit("generate", corpus=str(tiny_text), max_steps=20, learning_rate=0.01, weight_average_steps=5,
                     **TINY)
    status = jobs.wait_for(run_dir, timeout=120)
    assert status["state"] == "finished", status
    assert evaluate_run(run_dir, split="validation")["loss"] == pytest.approx(status["best_val_loss"], rel=1e-4)
    best, checkpoint = (keras.saving.load_model(run_dir / name, custom_objects={"SeqlabModel": SeqlabModel})
                        for name in (run_folder.BEST_MODEL, run_folder.CHECKPOINT))
    assert status["best_step"] == status["checkpoint_step"] == 20
    assert not np.allclose(best.get_layer("lstm_0").get_weights()[1], checkpoint.get_layer("lstm_0").get_weights()[1])
