"""`python -m seqlab export RUN --out DIR [--tensorboard DIR]` on a tiny trained run.

Most calls go through seqlab.cli.main in this process (TensorFlow loads once); one runs the real command in a
subprocess, so the exit code and the files are checked as a person gets them.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from seqlab.runs import run_folder
from tests.cli.test_generation import assert_one_line_error, seqlab
from tests.conftest import REPO
from tests.tiny_runs import GENERATE_TINY, train_tiny, write_generation_text

EXPORTED = ["README.md", "config.json", "metrics.jsonl", "model.keras", "vocabulary.json"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("cli-export")
    root = folder / "runs"
    root.mkdir()
    return {"root": root, "folder": folder,
            "generate": train_tiny(root, "tiny-generate", "generate", write_generation_text(folder), **GENERATE_TINY)}


@pytest.fixture(autouse=True)
def root(trained, monkeypatch):
    monkeypatch.setenv("SEQLAB_RUNS", str(trained["root"]))
    return trained["root"]


def event_scalars(folder) -> dict[str, int]:
    """Tag -> number of scalars in the TensorBoard event files under `folder`."""
    import tensorflow as tf

    counts: dict[str, int] = {}
    for path in folder.rglob("events.out.tfevents.*"):
        for record in tf.data.TFRecordDataset(str(path)):
            for value in tf.compat.v1.Event.FromString(record.numpy()).summary.value:
                assert value.metadata.plugin_data.plugin_name in ("", "scalars")  # later ones omit it
                counts[value.tag] = counts.get(value.tag, 0) + 1
    return counts


def test_export_writes_the_files_and_the_curves(trained, tmp_path):
    out, board = tmp_path / "exported", tmp_path / "board"
    result = subprocess.run([sys.executable, "-m", "seqlab", "export", "tiny-generate", "--out", str(out),
                             "--tensorboard", str(board)], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in out.iterdir()) == EXPORTED
    assert "Exported tiny-generate" in result.stdout and "no seqlab needed" in result.stdout
    assert json.loads((out / "config.json").read_text()) == json.loads(
        (trained["generate"] / run_folder.CONFIG).read_text())
    steps, epochs = run_folder.read_metrics(trained["generate"])
    counts = event_scalars(board / "tiny-generate")
    assert counts["train/loss"] == len(steps) and counts["validation/loss"] == len(epochs)
    assert {"train/grad_norm", "train/learning_rate", "validation/accuracy"} <= set(counts)
    assert f"Wrote {sum(counts.values()):,} scalars" in result.stdout


def test_tensorboard_alone_needs_no_model(trained, tmp_path, capsys):
    code, out, err = seqlab(capsys, "export", trained["generate"], "--tensorboard", tmp_path / "board")
    assert code == 0, err
    assert "tensorboard --logdir" in out and not (tmp_path / "exported").exists()
    assert event_scalars(tmp_path / "board")["train/loss"] == GENERATE_TINY["max_steps"]


def test_mistakes_are_one_line_and_exit_2(trained, tmp_path, capsys):
    assert_one_line_error(seqlab(capsys, "export", "no-such-run", "--out", tmp_path / "x"), "not a seqlab run")
    assert_one_line_error(seqlab(capsys, "export", "tiny-generate"), "Nothing to export", "--out")
    (tmp_path / "a-file").write_text("x")
    assert_one_line_error(seqlab(capsys, "export", "tiny-generate", "--out", tmp_path / "a-file"), "is a file")
    assert_one_line_error(seqlab(capsys, "export", "tiny-generate", "--tensorboard", tmp_path / "a-file"),
                          "is a file")
    unfinished = run_folder.create_run_folder(trained["root"] / "not-trained", *run_folder.read_configs(
        trained["generate"]))
    assert_one_line_error(seqlab(capsys, "export", unfinished, "--out", tmp_path / "x"), "no model.keras yet")
    assert_one_line_error(seqlab(capsys, "export", unfinished, "--tensorboard", tmp_path / "x"), "no metrics.jsonl")
