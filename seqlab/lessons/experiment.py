"""Several runs started as one lesson experiment (a cell-type race, a memory probe), marked in their run folders.

The run folder is the single source of truth, so the grouping lives there too: each run of an experiment holds an
`experiment.json` beside its label.json,

    {"kind": "race", "id": "race-3", "cell": "lstm", "created_at": 1764860000.0, ...the experiment's own fields}

written by the app or CLI that started it (the worker never touches it). Finding an experiment again is a scan of
the runs root, as listing runs is: nothing else to keep in step, and deleting a run simply drops it from its group.
Each run is marked as it is created, before it queues: the experiment then takes one place in the workspace's
share of the queue (seqlab/runs/workspaces.py check_room), however many runs it has.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from seqlab.errors import SeqlabError
from seqlab.runs import jobs, names, run_folder, workspaces
from seqlab.runs.launch import start_training
from seqlab.runs.storage import write_json_atomic
from seqlab.runs.workspaces import OPERATOR, Viewer

EXPERIMENT = run_folder.EXPERIMENT
KINDS = ("race", "probe")


def read_experiment(run_dir: Path) -> dict | None:
    """The run's experiment record, or None (a run started on its own, or an unreadable file)."""
    try:
        record = json.loads((Path(run_dir) / EXPERIMENT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("kind") in KINDS and isinstance(
        record.get("id"), str) else None


def write_experiment(run_dir: Path, record: dict) -> None:
    write_json_atomic(Path(run_dir) / EXPERIMENT, record)


def _run_folders(root: Path) -> list[Path]:
    return [entry for entry in root.iterdir() if not entry.name.startswith(".") and entry.is_dir()
            and (entry / run_folder.CONFIG).is_file()]


def new_experiment_id(kind: str, root: Path) -> str:
    """'race-4': one more than the highest number of that kind in the runs root (every workspace's: ids are
    unique in the root)."""
    pattern, highest = re.compile(rf"^{kind}-([0-9]+)$"), 0
    for entry in _run_folders(root):
        match = pattern.match((read_experiment(entry) or {}).get("id", ""))
        highest = max(highest, int(match.group(1))) if match else highest
    return f"{kind}-{highest + 1}"


def find_experiments(kind: str, root: Path | None = None, viewer: Viewer = OPERATOR) -> list[dict]:
    """The experiments of `kind` this viewer may control, newest first: {"id", "kind", "created_at", "record"
    (the first run's experiment.json), "runs": [run folder paths as str, in the order they were started]}."""
    groups: dict[str, dict] = {}
    for entry in _run_folders(run_folder.runs_root(root)):
        record = read_experiment(entry)
        if not record or record["kind"] != kind or not workspaces.can_control(viewer, workspaces.owner_of(entry)):
            continue
        group = groups.setdefault(record["id"], {"id": record["id"], "kind": kind, "record": record, "runs": []})
        group["runs"].append((record.get("order", 0), str(entry)))
    found = []
    for group in groups.values():
        group["runs"] = [path for _, path in sorted(group["runs"])]
        group["created_at"] = group["record"].get("created_at", 0.0)
        found.append(group)
    return sorted(found, key=lambda group: (group["created_at"], group["id"]), reverse=True)


def experiment_runs(experiment_id: str, root: Path | None = None, viewer: Viewer = OPERATOR) -> list[str]:
    """The run folders of one experiment (by id, e.g. 'race-3'), in the order they were started."""
    kind = experiment_id.rsplit("-", 1)[0]
    for group in find_experiments(kind, root, viewer) if kind in KINDS else []:
        if group["id"] == experiment_id:
            return group["runs"]
    raise SeqlabError(f"There is no experiment '{experiment_id}' among your runs", "an id such as race-3 or probe-1",
                      "start one, or pick one from the list")


def check_room_for(count: int, viewer: Viewer, root: Path) -> None:
    """Refuse, before anything starts, an experiment the viewer's workspace has no room for. However many runs
    (`count`) it has, an experiment takes one place in the share (workspaces.check_room says why); the operator has
    no share: its runs simply queue."""
    with jobs.scheduler_lock(root):
        workspaces.check_room(viewer, root)


def start_group(kind: str, plans: list[dict], root: Path | None = None, viewer: Viewer = OPERATOR,
                fields: dict | None = None) -> dict:
    """Start one run per plan ({"model": ModelConfig, "train": TrainConfig, "name": str, "record": {...}}) through
    the job runner, as one experiment of `kind`; returns {"id", "runs": [paths as str]}. If one cannot start,
    the ones already started are stopped and the error is raised."""
    root = run_folder.runs_root(root)
    check_room_for(len(plans), viewer, root)
    experiment_id, started = new_experiment_id(kind, root), []
    base = {"kind": kind, "id": experiment_id, "created_at": time.time(), **(fields or {})}
    try:
        for order, plan in enumerate(plans):
            record = {**base, "order": order, **plan.get("record", {})}
            run_dir = start_training(plan["model"], plan["train"], root, viewer=viewer, experiment=record)
            started.append(run_dir)
            names.write_label(run_dir, name=f"{experiment_id} {plan['name']}"[:names.MAX_NAME_CHARACTERS])
    except BaseException:
        for run_dir in started:
            jobs.stop(run_dir, root=root)
        raise
    return {"id": experiment_id, "runs": [str(path) for path in started]}

