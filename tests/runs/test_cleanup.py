"""Housekeeping: old unused uploads and old finished runs go; used uploads, new files and active runs stay."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from seqlab.errors import SeqlabError
from seqlab.presets import default_configs
from seqlab.runs import cleanup, processes, run_folder

DAY = 86_400.0


def make_run(parent: Path, name: str, state: str = "finished", corpus: str = "hamlet") -> Path:
    model, train = default_configs("generate", corpus=corpus)
    run_dir = run_folder.create_run_folder(parent / name, model, train)
    (run_dir / run_folder.BEST_MODEL).write_bytes(b"w" * 1000)
    run_folder.write_status(run_dir, state=state)
    return run_dir


def make_old(path: Path, days: float) -> Path:
    """Set the modification time of `path` and of everything under it to `days` ago."""
    when = time.time() - days * DAY
    for folder, _, names in os.walk(path):
        for name in names:
            os.utime(Path(folder) / name, (when, when), follow_symlinks=False)
        os.utime(folder, (when, when))
    if path.is_file():
        os.utime(path, (when, when))
    return path


def upload(root: Path, name: str, days: float, workspace: str | None = "ab12") -> Path:
    folder = root / cleanup.UPLOADS / workspace if workspace else root / cleanup.UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("some corpus text\n" * 10, encoding="utf-8")
    return make_old(path, days)


@pytest.fixture
def garden(tmp_path):
    """A runs root with something of everything; returns (root, {label: path})."""
    root = run_folder.runs_root()
    paths = {
        "old-unused": upload(root, "0a.txt", 40),
        "old-unused-flat": upload(root, "0b.csv", 40, workspace=None),
        "old-used-by-new-run": upload(root, "1a.txt", 40),
        "old-used-by-old-active-run": upload(root, "2a.txt", 40),
        "new-unused": upload(root, "3a.txt", 1),
    }
    paths["old-finished"] = make_old(make_run(root, "old-finished", corpus=str(paths["old-unused"])), 40)
    paths["new-finished"] = make_run(root, "new-finished", corpus=str(paths["old-used-by-new-run"]))
    paths["old-queued"] = make_old(make_run(root, "old-queued", "queued", str(paths["old-used-by-old-active-run"])), 40)
    running = make_run(root, "old-running", "running")
    run_folder.write_status(running, pid=os.getpid(), pid_start_time=processes.process_start_time(os.getpid()))
    paths["old-running"] = make_old(running, 40)
    dead = make_run(root, "old-dead-worker", "running")  # its process is gone: deletable, as delete_run sees it
    run_folder.write_status(dead, pid=os.getpid(), pid_start_time=-1.0)
    paths["old-dead-worker"] = make_old(dead, 40)
    external = make_run(tmp_path / "elsewhere", "linked", corpus=str(upload(root, "4a.txt", 40)))
    (root / "linked").symlink_to(external, target_is_directory=True)
    paths["linked"], paths["linked-target"] = root / "linked", make_old(external, 40)
    paths["upload-of-linked-run"] = root / cleanup.UPLOADS / "ab12" / "4a.txt"
    return root, paths


def snapshot(root: Path) -> dict[str, float]:
    return {str(path): path.lstat().st_mtime for path in root.rglob("*")}


@pytest.mark.parametrize("text, seconds", [("30d", 30 * DAY), ("12h", 43_200), ("90m", 5_400), ("45s", 45),
                                           (" 7 d ", 7 * DAY)])
def test_durations(text, seconds):
    assert cleanup.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "30", "d", "0d", "-3d", "1.5d", "30 days", "2w", "30D", "3e1d", "1d2h"])
def test_bad_durations_are_explained(text):
    with pytest.raises(SeqlabError, match="is not a duration.*such as 30d, 12h, 90m or 45s"):
        cleanup.parse_duration(text)


def test_the_plan_lists_exactly_what_is_old_and_unused_and_writes_nothing(garden):
    root, paths = garden
    before = snapshot(root)
    plan = cleanup.plan_cleanup(30 * DAY)
    assert snapshot(root) == before  # not even a corrected status
    assert {item.path.name for item in plan.of_kind("run")} == {"old-finished", "old-dead-worker", "linked"}
    assert {item.path for item in plan.of_kind("upload")} == {paths["old-unused"], paths["old-unused-flat"]}
    finished = next(item for item in plan.items if item.path.name == "old-finished")
    assert finished.size > 1000 and 39 * DAY < finished.age_seconds < 41 * DAY
    linked = next(item for item in plan.items if item.path.name == "linked")
    assert linked.size == 0 and linked.linked_to == paths["linked-target"].resolve()
    assert plan.total_size == sum(item.size for item in plan.items) > 2000
    assert cleanup.plan_cleanup(60 * DAY).items == []


def test_apply_removes_exactly_the_plan(garden):
    root, paths = garden
    removed, problems = cleanup.apply_plan(cleanup.plan_cleanup(30 * DAY))
    assert problems == [] and len(removed) == 5
    gone = {"old-unused", "old-unused-flat", "old-finished", "old-dead-worker", "linked"}
    for label, path in paths.items():
        assert (path.exists() or path.is_symlink()) == (label not in gone), label
    assert (paths["linked-target"] / run_folder.CONFIG).is_file()  # only the link went
    assert paths["upload-of-linked-run"].is_file()  # its run still exists, elsewhere
    assert not [path for path in root.iterdir() if path.name.startswith(".deleting")]
    # Once its link is gone the root knows nothing of the linked run: a later clean-up may take its upload.
    assert [item.path for item in cleanup.plan_cleanup(30 * DAY).items] == [paths["upload-of-linked-run"]]


def test_a_run_that_became_active_since_the_plan_is_kept_with_its_upload(garden):
    root, paths = garden
    plan = cleanup.plan_cleanup(30 * DAY)
    run_folder.write_status(paths["old-finished"], state="queued")  # resumed meanwhile
    removed, problems = cleanup.apply_plan(plan)
    assert problems == ["Run old-finished is queued"]
    assert paths["old-finished"].is_dir() and paths["old-unused"].is_file()  # its corpus stays with it
    assert not paths["old-unused-flat"].exists() and not paths["old-dead-worker"].exists()


def test_a_damaged_config_keeps_the_uploads_it_names():
    root = run_folder.runs_root()
    used = upload(root, "5a.txt", 40)
    run_dir = make_run(root, "new-damaged", corpus=str(used))
    text = (run_dir / run_folder.CONFIG).read_text(encoding="utf-8")
    (run_dir / run_folder.CONFIG).write_text(text[: text.index(used.name) + 40], encoding="utf-8")  # cut short
    assert cleanup.plan_cleanup(30 * DAY).items == []
