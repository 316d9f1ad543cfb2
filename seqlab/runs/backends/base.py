"""What the job runner needs of the place where a run trains: the job-backend seam.

The job runner (jobs.py) owns the queue, its fairness (turn_order), the stop request, reconciliation and resume;
a backend only starts, watches and ends the worker of one run, and says how many may train at once. It is a
Protocol, not a base class, so a backend is any object with these members (the local one wraps processes.py; the
Ray one submits Ray jobs) and neither imports the other.

A backend keeps nothing that matters in memory: `launch` returns the fields that name the job, the job runner writes
them into the run's status.json, and `is_alive`/`end` are handed that status back. So the run folder stays the
single source of truth, any process (the app, the CLI, an exiting worker) can watch or stop any run, and a run is
always asked about through the backend named in its own status (backends.for_status), whatever the current setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable


@runtime_checkable
class JobBackend(Protocol):
    """Where runs train. No TensorFlow: the job runner, and through it the app's pages, import backends."""

    name: str  # "local" | "ray": written as status["backend"]

    def launch(self, run_dir: Path, root: Path) -> dict:
        """Start the worker of `run_dir` (`python -m seqlab worker RUN_DIR --runs-root ROOT`, wherever it runs) and
        return the status fields that name its job: always "backend" (this name) and "where" (plain words: "this
        computer", "Ray cluster http://head:8265"); the local backend adds "pid" and "pid_start_time". OSError if
        it cannot be started (the job runner marks the run failed)."""
        ...

    def is_alive(self, status: dict) -> bool:
        """Whether the job named in `status` (fields from `launch`) still runs; False for a status naming none."""
        ...

    def end(self, status: dict, run_dir: Path, force: bool) -> None:
        """End the job named in `status`: politely (force=False: SIGTERM, a stop request to the cluster), or at once
        (force=True). Only that job, only while it is alive; never an error if it is already gone."""
        ...

    def capacity(self) -> int:
        """How many runs may train at once (the queue holds the rest); SeqlabError for a bad setting."""
        ...

    def reap(self) -> None:
        """Collect what this process needs to collect of ended jobs (local: poll child processes); may do nothing."""
        ...
