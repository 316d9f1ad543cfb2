"""Deleting runs: only inside the runs root, never an active run, a linked run loses only its link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from seqlab.errors import SeqlabError
from seqlab.presets import default_configs
from seqlab.runs import jobs, processes, run_folder
from seqlab.runs.admin import delete_run


def make_run(parent: Path, name: str, state: str = "finished") -> Path:
    model, train = default_configs("generate")
    run_dir = run_folder.create_run_folder(parent / name, model, train)
    (run_dir / run_folder.BEST_MODEL).write_bytes(b"weights")
    run_folder.write_status(run_dir, state=state)
    return run_dir


def test_delete_removes_only_that_run():
    root = run_folder.runs_root()
    keep, doomed = make_run(root, "keep"), make_run(root, "doomed", state="stopped")
    message = delete_run("doomed")
    assert "Deleted run doomed" in message
    assert not doomed.exists() and keep.is_dir() and (keep / run_folder.BEST_MODEL).is_file()
    assert [item["id"] for item in jobs.list_runs()] == ["keep"]
    assert not [path for path in root.iterdir() if path.name.startswith(".deleting")]  # nothing left behind


def test_delete_refuses_an_active_run():
    root = run_folder.runs_root()
    running = make_run(root, "running", state="running")
    run_folder.write_status(running, pid=os.getpid(), pid_start_time=processes.process_start_time(os.getpid()))
    with pytest.raises(SeqlabError, match="Run running is running.*stop it first"):
        delete_run("running")
    queued = make_run(root, "queued", state="queued")
    with pytest.raises(SeqlabError, match="is queued"):
        delete_run("queued")
    assert running.is_dir() and queued.is_dir()
    damaged = make_run(root, "damaged", state="queued")  # its worker would fail at once: not really active
    (damaged / run_folder.CONFIG).write_text("{not json", encoding="utf-8")
    delete_run("damaged")
    assert not damaged.exists()


@pytest.mark.parametrize("run_id", ["../outside", ".uploads", "a/b", "", "missing"])
def test_delete_refuses_anything_but_a_run_of_the_root(run_id, tmp_path):
    root = run_folder.runs_root()
    (root / ".uploads").mkdir()
    outside = make_run(tmp_path, "outside")
    with pytest.raises(SeqlabError):
        delete_run(run_id)
    assert outside.is_dir() and (root / ".uploads").is_dir()


def test_delete_of_a_linked_run_removes_only_the_link(tmp_path):
    root = run_folder.runs_root()
    external = make_run(tmp_path / "mine", "experiment")
    (root / "experiment").symlink_to(external, target_is_directory=True)
    assert [item["id"] for item in jobs.list_runs()] == ["experiment"]
    message = delete_run("experiment")
    assert "link" in message and str(external) in message
    assert not (root / "experiment").exists() and not (root / "experiment").is_symlink()
    assert (external / run_folder.CONFIG).is_file() and (external / run_folder.BEST_MODEL).is_file()


def test_a_damaged_folder_without_config_can_be_deleted():
    root = run_folder.runs_root()
    (root / "half-made").mkdir()
    (root / "half-made" / "train.log").write_text("crash", encoding="utf-8")
    assert jobs.list_runs()[0]["status"]["state"] == "damaged"
    delete_run("half-made")
    assert not (root / "half-made").exists() and jobs.list_runs() == []
