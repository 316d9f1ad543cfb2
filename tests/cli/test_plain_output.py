"""The CLI says what the pages say: run names, the Train page's cell names and plain figures (nats last)."""

from __future__ import annotations

import math

from seqlab.cli.listing import best_reading, print_runs
from seqlab.cli.main import format_statistics
from seqlab.presets import default_configs
from seqlab.runs import jobs, names, run_folder
from seqlab.runs.states import RunState


def make_run(name: str, task: str, cell: str, created_at: float, **figures):
    model, train = default_configs(task, cell=cell)
    run_dir = run_folder.create_run_folder(run_folder.runs_root() / name, model, train)
    run_folder.write_status(run_dir, state=RunState.FINISHED, created_at=created_at, **figures)
    return run_dir


def test_runs_listing_shows_names_cells_and_plain_figures(capsys):
    text = make_run("20260101-000000-generate-simple_rnn-aaaa", "generate", "simple_rnn", 2.0,
                    best_val_loss=math.log(4.3), best_val_accuracy=0.54)
    names.write_label(text, name="simplernn-hamlet-1")
    make_run("20260101-000001-classify-gru-bbbb", "classify", "gru", 1.0, best_val_loss=0.4, best_val_accuracy=0.875)
    print_runs(jobs.list_runs())
    header, first, second = capsys.readouterr().out.splitlines()
    assert header.split()[:2] == ["name", "state"] and "unsure among" in header and "loss (nats)" in header
    assert first.startswith("simplernn-hamlet-1 ") and "SimpleRNN · 1 layer" in first
    assert "54.0%" in first and " 4.3 " in first and "1.4586" in first and text.name in first
    assert second.startswith("20260101-000001-classify-gru-bbbb") and "GRU · 1 layer" in second  # older: the id
    assert "87.5%" in second and "plain RNN" not in header + first + second


def test_the_end_of_train_and_inspect_speak_plainly():
    run_dir = make_run("r", "generate", "lstm", 1.0)
    assert best_reading({"best_val_loss": math.log(4.3), "best_val_accuracy": 0.54}, run_dir) == (
        "at its best it guesses the next character right 54% of the time · as unsure as choosing between "
        "4.3 characters (validation loss 1.4586 nats)")
    report = format_statistics({"name": "x", "task": "generate", "source": "s", "characters": 10,
                                "distinct_characters": 4, "lines": 1, "words": 2, "most_common": [("a", 3)],
                                "uniform_loss": math.log(4), "unigram_loss": 1.2})
    assert "random guessing among 4 characters (loss 1.39)" in report
    assert "guessing from letter frequencies alone (loss 1.20)" in report
