"""Runs for tests (not a test module): tiny finished runs trained in the test's own process in a few seconds, and
the clean-up that ends every worker a test started."""

from __future__ import annotations

from pathlib import Path

import psutil

from seqlab.presets import default_configs
from seqlab.runs import jobs, processes, run_folder, states, workspaces

GENERATE_TINY = dict(cell="lstm", units=16, embedding_dim=8, sequence_length=20, batch_size=8, max_steps=12)
CLASSIFY_TINY = dict(cell="lstm", units=8, embedding_dim=8, bidirectional=True, sequence_length=12, batch_size=8,
                     max_steps=20, vocabulary_size=100)


def train_tiny(root: Path, name: str, task: str, corpus: Path, workspace: str | None = None, **overrides) -> Path:
    """A finished run `name` in `root`, trained in this process (a few seconds); owned by `workspace` if given."""
    from seqlab.runs.worker import train_run

    model, train = default_configs(task, corpus=str(corpus), **overrides)
    run_dir = run_folder.create_run_folder(root / name, model, train)
    if workspace is not None:
        workspaces.write_owner(run_dir, workspace)
    assert train_run(run_dir) == "finished", run_folder.read_status(run_dir)
    return run_dir


def write_generation_text(folder: Path) -> Path:
    from seqlab.corpus.registry import load_corpus

    path = folder / "hamlet-excerpt.txt"
    path.write_text(load_corpus("hamlet").text[:6_000], encoding="utf-8")
    return path


def write_review_table(folder: Path) -> Path:
    rows = ["text,label"] + [f'"a good film number {i}, really good",pos' for i in range(30)] + [
        f'"a bad film number {i}, awful",neg' for i in range(30)]
    path = folder / "reviews.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def end_every_run(root: Path | None = None) -> None:
    """Stop the runs of `root` that are still queued or training (queued ones first, so that no exiting worker
    starts them), then kill any worker this process started that still lives."""
    for state in (states.RunState.QUEUED, states.RunState.RUNNING, states.RunState.STOPPING):
        for item in jobs.list_runs(root):
            if item["status"]["state"] == state:
                jobs.stop(Path(item["path"]), wait=True, grace=2)
    for proc in list(processes._children.values()):
        if proc.poll() is None:
            for member in [*psutil.Process(proc.pid).children(recursive=True), proc]:
                member.kill()
            proc.wait()
    processes._children.clear()
