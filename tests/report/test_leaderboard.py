"""The teacher's leaderboard (report/leaderboard.py) and its CLI twin, `python -m seqlab runs --leaderboard`."""

from __future__ import annotations

import json
import math

import pytest

from seqlab.presets import default_configs
from seqlab.report.leaderboard import UNOWNED, leaderboard, workspace_label
from seqlab.runs import jobs, run_folder, workspaces
from seqlab.runs.states import RunState
from tests.cli.test_main import seqlab

ALICE, BOB = workspaces.new_workspace_id(), workspaces.new_workspace_id()


def finished(root, name: str, workspace: str | None, task: str, corpus: str, cell: str, **figures) -> None:
    model, train = default_configs(task, corpus=corpus, cell=cell)
    run_dir = run_folder.create_run_folder(root / name, model, train)
    workspaces.write_owner(run_dir, workspace)
    run_folder.write_status(run_dir, state=RunState.FINISHED, **figures)


def make_class(root) -> None:
    finished(root, "a-lstm", ALICE, "generate", "hamlet", "lstm", best_val_loss=1.9)
    finished(root, "b-lstm", BOB, "generate", "hamlet", "lstm", best_val_loss=1.7)  # the best LSTM on Hamlet
    finished(root, "b-rnn", BOB, "generate", "hamlet", "simple_rnn", best_val_loss=2.4)
    finished(root, "cli-gru", None, "classify", "rotten-tomatoes", "gru", best_val_loss=0.5, best_val_accuracy=0.71)
    finished(root, "a-gru", ALICE, "classify", "rotten-tomatoes", "gru", best_val_loss=0.4, best_val_accuracy=0.69)
    finished(root, "a-new", ALICE, "generate", "hamlet", "gru")  # no figure yet: tried, not ranked


def test_the_best_run_per_corpus_and_cell_and_whose_it_is():
    root = run_folder.runs_root()
    make_class(root)
    rows = leaderboard(jobs.list_runs(root))
    by_key = {(row["Corpus"], row["Cell"]): row for row in rows}
    assert set(by_key) == {("hamlet", "LSTM"), ("hamlet", "SimpleRNN"), ("rotten-tomatoes", "GRU")}
    assert by_key["hamlet", "LSTM"]["Run"] == "b-lstm" and by_key["hamlet", "LSTM"]["Runs tried"] == 2
    assert by_key["hamlet", "LSTM"]["Whose"] == workspace_label(BOB) != workspace_label(ALICE)
    best_reviews = by_key["rotten-tomatoes", "GRU"]  # accuracy decides for reviews, not loss
    assert best_reviews["Run"] == "cli-gru" and best_reviews["Whose"] == UNOWNED
    assert best_reviews["Right"] == 0.71 and best_reviews["Unsure among"] is None  # reviews: accuracy only
    assert by_key["hamlet", "LSTM"]["Unsure among"] == pytest.approx(math.exp(1.7))  # text: choosing between K
    assert by_key["hamlet", "LSTM"]["Validation loss (nats)"] == 1.7  # kept, last, for experts
    assert [row["Run"] for row in rows if row["Corpus"] == "hamlet"] == ["b-lstm", "b-rnn"]  # best first
    assert BOB not in json.dumps(rows)  # a label, never the id (a browser's key to its runs)


def test_the_cli_prints_the_same_leaderboard():
    root = run_folder.runs_root()
    make_class(root)
    result = seqlab("runs", "--leaderboard", "--runs-root", str(root))
    assert result.returncode == 0, result.stderr
    assert "b-lstm" in result.stdout and "a-lstm" not in result.stdout and "1.7000" in result.stdout
    assert "unsure among" in result.stdout and f"{math.exp(1.7):.1f}" in result.stdout and "71.0%" in result.stdout
    assert "SimpleRNN" in result.stdout and "plain RNN" not in result.stdout
    as_json = json.loads(seqlab("runs", "--leaderboard", "--json", "--runs-root", str(root)).stdout)
    assert as_json == leaderboard(jobs.list_runs(root))
