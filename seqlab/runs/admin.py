"""Deleting a run: only an entry directly inside the runs root, never an active one.

A run linked into the root from elsewhere (`python -m seqlab train --out DIR` makes a symlink) loses
only its link: the folder it points to is the user's, and stays where it is.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from seqlab.errors import SeqlabError
from seqlab.runs import jobs, run_folder, states
from seqlab.runs.states import RunState


def _entry(run_id: str, root: Path) -> Path:
    """The run's entry in the root: an id with a config.json, or a listed (damaged) folder without one."""
    try:
        return run_folder.run_in_root(run_id, root)
    except SeqlabError:
        path = root / run_folder.check_run_id(run_id)  # letters, digits, '.', '_', '-' and no leading dot: no traversal
        if path.is_dir() and path.name in {entry.name for entry in jobs._entries(root)}:
            return path  # listed as damaged by list_runs: it must be deletable too
        raise


def _readable(path: Path) -> bool:
    try:
        run_folder.read_configs(path)
        return True
    except SeqlabError:
        return False


def delete_run(run_id: str, root: Path | None = None) -> str:
    """Remove a run from the runs root; returns a sentence saying what was removed."""
    root = run_folder.runs_root(root)
    path = _entry(run_id, root)
    with jobs.scheduler_lock(root):  # no schedule() can start it while it goes
        state = jobs.reconcile(path)["state"]
        if state in states.LIVE or (state == RunState.QUEUED and _readable(path)):  # a damaged one never starts
            raise SeqlabError(f"Run {run_id} is {state}", "a run that is not queued or training",
                              "stop it first (Train page or `python -m seqlab stop`), then delete it")
        try:
            if path.is_symlink():
                target = path.resolve()
                path.unlink()
                return f"Removed the link to run {run_id}; its folder {target} was kept."
            # Renamed to a dot-name first: a half-deleted folder is never listed as a damaged run.
            doomed = root / f".deleting-{run_id}-{os.urandom(3).hex()}"
            path.rename(doomed)
        except OSError as error:
            raise SeqlabError(f"Cannot delete run {run_id} ({error.strerror})", "a runs folder you can write",
                              "check the folder's permissions") from None
    shutil.rmtree(doomed, ignore_errors=True)
    return f"Deleted run {run_id} and all its files."
