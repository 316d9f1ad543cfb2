"""The training commands end to end, as a person types them: real processes, tiny budgets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

TINY_FLAGS = ["--units", "16", "--embedding-dim", "8", "--sequence-length", "20", "--batch-size", "8"]


def seqlab(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPO), "SEQLAB_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "seqlab", *args], capture_output=True, text=True, timeout=timeout,
                          env=environment, cwd=REPO)


@pytest.fixture
def tiny_text(tmp_path) -> Path:
    from seqlab.corpus.registry import load_corpus

    path = tmp_path / "tiny.txt"
    path.write_text(load_corpus("hamlet").text[:24_000], encoding="utf-8")
    return path


def test_train_runs_and_evaluate_end_to_end(tmp_path, tiny_text):
    out = tmp_path / "r1"
    result = seqlab("train", "--corpus", str(tiny_text), "--cell", "gru", *TINY_FLAGS, "--max-steps", "15",
                    "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "finished at step 15" in result.stderr
    assert "at its best it guesses the next character right" in result.stderr  # plain words, nats after them
    # said once, when known: the compiled kernels, or (tests/test_portable.py's failing compiler) the reason not
    failing_compiler = "fake-g++" in os.environ.get("CXX", "")
    expected = ("engine: standard TensorFlow (the kernels could not be built" if failing_compiler
                else "engine: compiled CPU kernels")
    assert result.stderr.count("engine: ") == 1 and result.stderr.count(expected) == 1, result.stderr
    assert result.stderr.count("backend: local (this computer") == 1, result.stderr  # which backend, and where
    status = json.loads((out / "status.json").read_text())
    assert status["state"] == "finished"
    steps = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len([record for record in steps if record.get("type") == "step"]) == 15
    for name in ("samples.jsonl", "model.keras", "config.json", "vocabulary.json"):
        assert (out / name).is_file(), name
    assert json.loads((out / "config.json").read_text())["model"]["cell"] == "gru"

    listing = seqlab("runs", "--json")
    assert listing.returncode == 0, listing.stderr
    rows = json.loads(listing.stdout)
    assert [row["status"]["state"] for row in rows] == ["finished"]
    assert rows[0]["status"]["best_val_loss"] == pytest.approx(status["best_val_loss"])
    table = seqlab("runs")
    assert "finished" in table.stdout and "GRU · 1 layer × 16 units" in table.stdout
    assert "local (this computer" in table.stdout and out.name in table.stdout and "unsure among" in table.stdout

    evaluated = seqlab("evaluate", str(out), "--split", "validation")
    assert evaluated.returncode == 0, evaluated.stderr
    metrics = json.loads(evaluated.stdout)
    assert metrics["characters"] > 0 and 0 <= metrics["accuracy"] <= 1
    assert metrics["loss"] == pytest.approx(status["best_val_loss"], rel=0.05)


def test_detach_stop_resume_continues_the_metrics(tmp_path, tiny_text):
    out = tmp_path / "r2"
    started = seqlab("train", "--corpus", str(tiny_text), *TINY_FLAGS, "--max-steps", "400", "--detach",
                     "--out", str(out))
    assert started.returncode == 0, started.stderr
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        metrics = out / "metrics.jsonl"
        if metrics.exists() and len(metrics.read_text().splitlines()) >= 5:
            break
        time.sleep(0.3)
    stopped = seqlab("stop", str(out))
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.startswith("stopped at step")
    stopped_step = json.loads((out / "status.json").read_text())["step"]
    assert 0 < stopped_step < 400

    resumed = seqlab("resume", str(out), timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "finished at step 400" in resumed.stderr
    steps = [record["step"] for record in map(json.loads, (out / "metrics.jsonl").read_text().splitlines())
             if record.get("type") == "step"]
    assert steps == list(range(1, 401))  # no gap, no repeat across the stop


@pytest.mark.parametrize("args, message", [
    (["train", "--corpus", "no-such-corpus"], "neither a built-in corpus"),
    (["train", "--cell", "mamba"], "invalid choice: 'mamba'"),
    (["train", "--layers", "9"], "num_layers is 9"),
    (["train", "--learning-rate", "-1"], "learning_rate is -1.0"),
    (["train", "--task", "generate", "--bidirectional"], "bidirectional"),
    (["stop", "/nonexistent/run"], "not a seqlab run folder"),
    (["resume", "../../etc"], "not a seqlab run folder"),
    (["evaluate", "/tmp", "--split", "validation"], "not a seqlab run folder"),
])
def test_bad_training_commands_give_one_line(args, message):
    result = seqlab(*args, timeout=60)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_every_config_field_is_a_train_flag():
    """The brief: everything the Train page sets, `python -m seqlab train` can set too."""
    from seqlab.cli.main import build_parser
    from seqlab.config import all_settings

    args = build_parser().parse_args(["train"])
    assert set(all_settings()) <= set(vars(args))


def test_stop_and_resume_never_adopt_a_folder_from_outside_the_runs_root(tmp_path):
    """A run folder copied from elsewhere (or any folder holding a config.json) is not linked into the root."""
    from seqlab.presets import default_configs
    from seqlab.runs import run_folder

    stranger = run_folder.create_run_folder(tmp_path / "elsewhere" / "copied-run", *default_configs("generate"))
    run_folder.write_status(stranger, state="stopped")
    root = run_folder.runs_root()
    before = sorted(path.name for path in root.iterdir())
    for command in ("resume", "stop"):
        result = seqlab(command, str(stranger), timeout=60)
        assert result.returncode == 2 and "is not a run of the runs root" in result.stderr, result.stderr
    assert sorted(path.name for path in root.iterdir()) == before
    assert run_folder.read_status(stranger)["state"] == "stopped"
