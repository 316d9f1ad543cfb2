"""Run folders made by the release before the package was restructured (commit 195b557) keep working.

tests/fixtures/runs_before_restructure/ holds two real runs that release trained (see its README): a stopped
LSTM text generator and a finished GRU review classifier. Their model files name seqlab's classes as the old flat
modules registered them, their checkpoints carry an optimizer without clipping (the old model class clipped), and
their status files were written by the old trainer. Each test works on a copy inside a fresh runs root.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import keras
import pytest

from seqlab.cli.main import main as run_cli
from seqlab.infer.loading import load_run, load_sampler
from seqlab.infer.scoring import ReviewScorer
from seqlab.runs import jobs, run_folder
from seqlab.runs.worker import train_run
from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "runs_before_restructure"


@pytest.fixture
def old_runs(tmp_path) -> Path:
    root = run_folder.runs_root(tmp_path / "runs")
    for name in ("generate-lstm", "classify-gru"):
        shutil.copytree(FIXTURES / name, root / name)
    return root


def test_old_runs_are_listed_with_their_figures(old_runs):
    listed = {run["id"]: run for run in jobs.list_runs(old_runs)}
    assert listed["generate-lstm"]["status"]["state"] == "stopped"
    assert listed["classify-gru"]["status"]["state"] == "finished"
    assert listed["generate-lstm"]["status"]["best_val_loss"] == pytest.approx(2.10545, abs=1e-4)
    steps, epochs = run_folder.read_metrics(old_runs / "generate-lstm")
    assert steps[-1]["step"] == 1601 and len(epochs) == 41


def test_old_generator_loads_and_generates(old_runs, capsys):
    sampler = load_sampler(old_runs / "generate-lstm", old_runs)
    text = sampler.generate("ROMEO:", 80, temperature=0.8, random_seed=1)[0]
    known = set(load_run(old_runs / "generate-lstm", old_runs).vocabulary.characters)
    assert text.startswith("ROMEO:") and len(text) == len("ROMEO:") + 80 and set(text) <= known
    assert run_cli(["generate", str(old_runs / "generate-lstm"), "--seed", "ROMEO:", "--length", "40",
                    "--runs-root", str(old_runs)]) == 0
    assert capsys.readouterr().out.startswith("ROMEO:")


def test_old_classifier_loads_and_scores(old_runs, capsys):
    scorer = ReviewScorer.from_run(old_runs / "classify-gru", old_runs)
    probabilities = scorer.probabilities(["a wonderful, moving film", "a dull, boring waste of time"])
    assert probabilities.shape == (2,) and ((0 < probabilities) & (probabilities < 1)).all()
    assert run_cli(["score", str(old_runs / "classify-gru"), "a wonderful film", "--runs-root", str(old_runs)]) == 0
    assert "a wonderful film" in capsys.readouterr().out


def test_old_generator_resumes_from_its_checkpoint(old_runs):
    """Resume as the job runner does (queued, resume=True) and let the worker code run in this process; the old
    run's Stop request is still in its folder, so it trains one step past its checkpoint and stops."""
    run_dir = old_runs / "generate-lstm"
    assert (run_dir / run_folder.STOP_REQUEST).exists()
    run_folder.write_status(run_dir, state="queued", resume=True)
    assert train_run(run_dir) == "stopped", run_folder.read_status(run_dir)
    status = run_folder.read_status(run_dir)
    assert status["step"] == 1602 and status["checkpoint_step"] == 1602 and status["error"] is None
    steps, _ = run_folder.read_metrics(run_dir)
    assert [record["step"] for record in steps[-2:]] == [1601, 1602]  # the metrics continue
    assert steps[-1]["time"] > 42.0  # and so does the training time
    checkpoint = keras.saving.load_model(run_folder.verify_checksum(run_dir, run_folder.CHECKPOINT))
    assert checkpoint.optimizer.global_clipnorm == pytest.approx(1.0)  # the run's clip norm 1.0, now in the optimizer
    assert int(checkpoint.optimizer.iterations) == 1602
    assert json.loads((run_dir / run_folder.CONFIG).read_text())["train"]["clip"] == "norm"
