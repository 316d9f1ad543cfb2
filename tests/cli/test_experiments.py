"""The CLI's experiment links (`train --link`, `train --print-link`) and run names (`runs --rename/--note`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqlab.cli.main import main
from seqlab.presets import default_configs, preset_configs
from seqlab.runs import run_folder
from seqlab.runs.names import read_label, write_label

LINK = "http://classroom:8501/train?task=generate&corpus=hamlet&preset=balanced&cell=gru&units=64"


@pytest.fixture
def started(monkeypatch, tmp_path) -> list:
    """What `train` would start, caught before a process is launched."""
    calls = []

    def start_training(model, train, root, out=None):
        calls.append((model, train))
        return tmp_path / "never-started"

    monkeypatch.setattr("seqlab.runs.launch.start_training", start_training)
    return calls


def test_train_link_trains_what_the_link_says_and_flags_win(started):
    assert main(["train", "--link", LINK, "--detach"]) == 0
    assert started[-1] == preset_configs("generate", "balanced", corpus="hamlet", cell="gru", units=64)
    assert main(["train", "--link", LINK, "--units", "32", "--preset", "quick-demo", "--detach"]) == 0
    assert started[-1] == preset_configs("generate", "quick-demo", corpus="hamlet", cell="gru", units=32)
    assert main(["train", "--cell", "gru", "--detach"]) == 0  # no link, no preset: the task's defaults, as before
    assert started[-1] == default_configs("generate", cell="gru")


def test_a_bad_link_value_is_a_warning_and_the_rest_applies(started, capsys):
    assert main(["train", "--link", "?task=generate&units=lots&num_layers=2", "--detach"]) == 0
    assert "warning: From the link: The link's units is 'lots'" in capsys.readouterr().err
    assert started[-1][0].num_layers == 2 and started[-1][0].units == preset_configs("generate", "quick-demo")[0].units
    assert main(["train", "--link", "units=" + "9" * 3000]) == 2
    assert "longer than 2,000 characters" in capsys.readouterr().err


def test_print_link_round_trips_through_link(started, capsys, tmp_path):
    assert main(["train", "--preset", "balanced", "--corpus", "hamlet", "--cell", "gru", "--units", "64",
                 "--print-link", "--app-url", "http://classroom:8501/"]) == 0
    assert capsys.readouterr().out.strip() == LINK and not started  # printed, not trained
    assert main(["train", "--link", LINK, "--print-link", "--app-url", "http://classroom:8501"]) == 0
    assert capsys.readouterr().out.strip() == LINK
    assert main(["train", "--corpus", str(tmp_path / "mine.txt"), "--print-link"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("http://localhost:8501/train?task=generate&preset=quick-demo") and "corpus=" not in out
    assert "is not in the link" in err


def _run(name: str) -> Path:
    model, train = default_configs("generate", corpus="hamlet")
    run_dir = run_folder.create_run_folder(run_folder.runs_root() / name, model, train)
    write_label(run_dir, name="lstm-hamlet-1")
    return run_dir


def test_runs_rename_and_note(capsys):
    run_dir = _run("20261204-120000-generate-lstm-abcd")
    assert main(["runs", "--rename", run_dir.name, "first try", "--note", run_dir.name, "clipping off"]) == 0
    assert read_label(run_dir) == {"name": "first try", "note": "clipping off"}
    assert "first try — clipping off" in capsys.readouterr().out
    assert main(["runs", "--note", "first try", ""]) == 0  # a run can be named by its name; '' clears the note
    assert read_label(run_dir) == {"name": "first try", "note": ""}


def test_a_refused_rename_changes_nothing(capsys):
    run_dir = _run("20261204-120000-generate-lstm-abce")
    assert main(["runs", "--rename", run_dir.name, "x" * 41, "--note", run_dir.name, "kept?"]) == 2
    assert "A run name must be 1 to 40 characters" in capsys.readouterr().err
    assert read_label(run_dir) == {"name": "lstm-hamlet-1", "note": ""}
    assert main(["runs", "--rename", "no-such-run", "a"]) == 2
    assert "no-such-run" in capsys.readouterr().err
