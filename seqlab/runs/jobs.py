"""The job runner: a queue of runs, each trained by its own worker, never in the caller (Streamlit, the CLI), so a
Stop, crash or leak never takes the caller down. Where the worker runs is the backend's business (backends/: a
process on this computer, or a Ray job): the job runner only launches, watches and ends it through the backend,
and asks it how many runs may train at once. All state lives in the run folder, so any process can see and
control any run (who *may* is workspaces.py's question, asked by the callers). No daemon: whoever acts calls
`schedule()`, which serialises itself with a file lock. The queue takes workspaces in turn (`turn_order`), not
first come, first served: one browser queueing many runs cannot keep a room waiting. No TensorFlow."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from seqlab.errors import SeqlabError
from seqlab.runs import backends, run_folder, states, workspaces
from seqlab.runs.states import RunState
from seqlab.runs.storage import exclusive, write_json_atomic

STOP_GRACE_SECONDS = 10.0
KILL_AFTER_TERM_SECONDS = 2.0
LOCK_NAME = ".scheduler.lock"
ON_WINDOWS = os.name == "nt"
INTERRUPTED_ERROR = ("the training process ended unexpectedly (killed, crashed, or out of memory); "
                     "resume it to continue from its last checkpoint")

def max_concurrent_jobs() -> int:
    """How many runs the current backend trains at once (local: $SEQLAB_MAX_JOBS, else half the cores plus one per
    GPU, seqlab/settings.py); SeqlabError for a bad value."""
    return backends.current().capacity()


def where_it_runs(status: dict) -> str:
    """The backend that runs the run, and where ("local (this computer)"); "" before it was launched."""
    return backends.describe(status)


@contextmanager
def scheduler_lock(root: Path) -> Iterator[None]:
    """One scheduler at a time across processes; the OS drops the lock if its holder dies."""
    with exclusive(root / LOCK_NAME):
        yield


def _root_for(run_dir: Path, root: Path | None) -> Path:
    """The given root; else the run's own parent if a scheduler lives there; else the default root."""
    parent = Path(os.path.abspath(run_dir)).parent
    return parent.resolve() if root is None and (parent / LOCK_NAME).exists() else run_folder.runs_root(root)


def _link_into_root(run_dir: Path, root: Path) -> Path:
    """The run as an entry of the root: a folder elsewhere gets a symlink, so the scheduler sees it."""
    if Path(os.path.abspath(run_dir)).parent == root or run_dir.resolve().parent == root:
        return run_dir
    target, base = run_dir.resolve(), re.sub(r"[^A-Za-z0-9._-]", "-", run_dir.name).lstrip("._-")[:90] or "run"
    for n in range(1, 1000):
        link = root / (base if n == 1 else f"{base}-{n}")
        if link.is_symlink() and link.resolve() == target:
            return link
        if not link.exists() and not link.is_symlink():
            try:
                _link_folder(link, target)
            except OSError as error:
                raise SeqlabError(f"Cannot link {run_dir} into {root} ({error.strerror})", "a writable runs folder",
                                  "create the run inside the runs folder instead") from None
            return link
    raise SeqlabError(f"No free name for {run_dir.name} in {root}", "a unique folder name", "rename the run folder")


def _link_folder(link: Path, target: Path) -> None:
    """A symlink; on Windows, where one needs developer mode or admin rights, a directory junction instead (any
    user may make one, and Path.resolve/is_dir follow it as they follow a symlink)."""
    try:
        link.symlink_to(target, target_is_directory=True)
    except OSError:
        if not ON_WINDOWS:
            raise
        import _winapi  # Windows only

        _winapi.CreateJunction(str(target), str(link))


def _entries(root: Path) -> list[Path]:
    """Folders (or symlinks to folders) of the root; dot-files such as the lock are not runs."""
    return [path for path in root.iterdir() if not path.name.startswith(".") and path.is_dir()]


def _number(value) -> float:
    return float(value) if isinstance(value, int | float) else 0.0  # a hand-edited status must not break sorting


def _stop_requested_at(run_dir: Path) -> float | None:
    path = Path(run_dir) / run_folder.STOP_REQUEST
    try:
        return float(json.loads(path.read_text(encoding="utf-8"))["requested_at"])
    except (OSError, ValueError, KeyError, TypeError):  # none (None), or a hand-made one (its time)
        return path.stat().st_mtime if path.exists() else None


def reconcile(run_dir: Path) -> dict:
    """The status, corrected against reality: a dead worker cannot still be running."""
    status = run_folder.read_status(run_dir)
    if status["state"] not in states.LIVE:
        return status
    requested, backend = _stop_requested_at(run_dir), backends.for_status(status)
    if not backend.is_alive(status):
        status = run_folder.read_status(run_dir)  # the worker may have written its final state just before exiting
        if status["state"] not in states.LIVE:
            return status
        ending = ({"state": RunState.STOPPED} if requested is not None
                  else {"state": RunState.INTERRUPTED, "error": INTERRUPTED_ERROR})
        return run_folder.write_status(run_dir, **ending)
    now, sent = time.time(), status.get("terminate_sent_at")
    if requested is not None and now - requested > STOP_GRACE_SECONDS:  # the worker ignores the request
        if sent is None:
            backend.end(status, run_dir, force=False)
            status = run_folder.write_status(run_dir, terminate_sent_at=now)
        elif now - sent > KILL_AFTER_TERM_SECONDS:
            backend.end(status, run_dir, force=True)
    return status


def turn_order(queued: list[tuple[float, str | None, Path]], live: dict[str | None, int],
               last_turn: dict[str | None, float]) -> list[Path]:
    """Queued runs in the order they start: round-robin over workspaces. A workspace's k-th waiting run has turn
    (its live runs + k); lower turns go first; among equal turns, the workspace whose last run started longest ago
    (`last_turn`), then queueing time. So every workspace's first run starts before any workspace's second, even
    if one workspace queued long before the others or its runs end quickly."""
    seen: dict[str | None, int] = {}
    ranked = []
    for queued_at, workspace, entry in sorted(queued, key=lambda item: (item[0], item[2].name)):
        turn = live.get(workspace, 0) + seen.get(workspace, 0)
        seen[workspace] = seen.get(workspace, 0) + 1
        ranked.append((turn, last_turn.get(workspace, 0.0), queued_at, entry.name, entry))
    return [entry for *_, entry in sorted(ranked, key=lambda item: item[:4])]


def schedule(root: Path | None = None) -> None:
    """Reconcile every run, start queued ones (workspaces in turn) while there is room, and number the rest."""
    root, backend = run_folder.runs_root(root), backends.current()
    backend.reap()
    with scheduler_lock(root):
        queued, live, last_turn = [], {}, {}
        for entry in _entries(root):
            try:
                status = reconcile(entry)
            except (OSError, SeqlabError):  # an unwritable folder, a status naming no known backend: not the queue
                continue
            owner = workspaces.owner_of(entry)
            last_turn[owner] = max(last_turn.get(owner, 0.0), _number(status.get("turn_at")))
            if status["state"] in states.LIVE:
                live[owner] = live.get(owner, 0) + 1
            if status["state"] == RunState.QUEUED and status.get("queued_at"):  # created but not submitted: not yet
                queued.append((_number(status["queued_at"]), owner, entry))
        position, active, limit = 0, sum(live.values()), backend.capacity()
        for entry in turn_order(queued, live, last_turn):
            try:
                if active < limit:
                    _launch(backend, entry, root)
                    active += 1
                else:
                    position += 1
                    run_folder.write_status(entry, queue_position=position)
            except OSError as error:
                run_folder.write_status(entry, state=RunState.FAILED, queue_position=None,
                                        error=f"cannot start it ({error})")


def _launch(backend: backends.JobBackend, run_dir: Path, root: Path) -> None:
    """Start the run's worker on `backend` and record the job in its status, unless the worker has already written
    an ending of its own (a job that ends at once must not be shown running again)."""
    job = backend.launch(run_dir, root)
    now = time.time()
    run_folder.write_status(run_dir, turn_at=now)  # when its workspace last had a turn
    run_folder.write_status_if(run_dir, {RunState.QUEUED, RunState.RUNNING}, state=RunState.RUNNING, **job,
                               launched_at=now, queue_position=None, terminate_sent_at=None)


def submit(run_dir: Path, root: Path | None = None) -> dict:
    """Queue a freshly created run; the scheduler starts it when there is room."""
    root, run_dir = run_folder.runs_root(root), Path(run_dir)
    status = run_folder.read_status(run_dir)
    if status["state"] != RunState.QUEUED:
        raise SeqlabError(f"{run_dir.name} is {status['state']}, not a new run", "a run folder just created",
                          f"continue it with `python -m seqlab resume {run_dir}`, or create a new run")
    run_folder.write_status(run_dir, queued_at=time.time())
    _link_into_root(run_dir, root)
    schedule(root)
    return run_folder.read_status(run_dir)


def stop(run_dir: Path, wait: bool = False, grace: float = STOP_GRACE_SECONDS, root: Path | None = None) -> dict:
    """Ask a run to stop: its worker looks for the request every batch, saves, and exits."""
    run_dir = Path(run_dir)
    with scheduler_lock(_root_for(run_dir, root)):  # so that no concurrent schedule() starts or stops it meanwhile
        status = reconcile(run_dir)
        if status["state"] == RunState.QUEUED:
            return run_folder.write_status_if(run_dir, {RunState.QUEUED}, state=RunState.STOPPED,
                                              queue_position=None)[0]
        if status["state"] not in states.LIVE:
            return status
        # shown at once, before the worker can see the request and end it as stopped (a state it wrote meanwhile,
        # e.g. finished, is kept)
        status = run_folder.write_status_if(run_dir, {RunState.RUNNING}, state=RunState.STOPPING)[0]
        if _stop_requested_at(run_dir) is None:
            write_json_atomic(run_dir / run_folder.STOP_REQUEST, {"requested_at": time.time()})
    if not wait:
        return status
    backend = backends.for_status(status)
    for limit, force in ((grace, False), (KILL_AFTER_TERM_SECONDS, True), (1.0, None)):
        end = time.monotonic() + limit
        while backend.is_alive(status) and time.monotonic() < end:
            time.sleep(0.1)
            backend.reap()
        if force is not None:
            backend.end(status, run_dir, force)  # only if still alive, and still the run's worker
    backend.reap()
    return reconcile(run_dir)


def resume(run_dir: Path, root: Path | None = None, viewer: workspaces.Viewer = workspaces.OPERATOR) -> dict:
    """Queue a stopped, interrupted or failed run again; its worker continues from the last checkpoint. A
    browser's resume counts against its workspace's share of the queue, as a new run does."""
    root, run_dir = run_folder.runs_root(root), Path(run_dir)
    with scheduler_lock(_root_for(run_dir, root)):  # check and set as one step: two Resumes queue it once
        state = reconcile(run_dir)["state"]
        if state not in states.RESUMABLE:
            fix = {RunState.FINISHED: "start a new run to train further",
                   RunState.DAMAGED: "repair or delete the run folder"}
            raise SeqlabError(f"Run {run_dir.name} is {state} and cannot be resumed",
                              "a stopped, interrupted or failed run", fix.get(state, "wait for it, or stop it first"))
        workspaces.check_room(viewer, root)
        (run_dir / run_folder.STOP_REQUEST).unlink(missing_ok=True)
        run_folder.write_status_if(run_dir, states.RESUMABLE, state=RunState.QUEUED, resume=True,
                                   queued_at=time.time(), error=None, pid=None, pid_start_time=None,
                                   terminate_sent_at=None)
    _link_into_root(run_dir, root)
    schedule(root)
    return run_folder.read_status(run_dir)


def _listed(path: Path) -> dict:
    """One row of list_runs; every problem becomes a 'damaged' row rather than an exception."""
    item = {"id": path.name, "path": str(path), "status": None, "model": None, "train": None, "error": None,
            "workspace": workspaces.owner_of(path)}
    try:
        model, train = run_folder.read_configs(path)
        item["model"], item["train"] = asdict(model), asdict(train)
        status = reconcile(path)
    except (SeqlabError, OSError) as error:  # a bad config, or a folder we cannot write
        status, item["error"] = run_folder.read_status(path), str(error)
    if status["state"] == RunState.DAMAGED or item["error"]:
        item["error"] = item["error"] or status.get("error") or "status.json is damaged"
        status = {**status, "state": RunState.DAMAGED, "error": item["error"]}
    return {**item, "status": status}


def list_runs(root: Path | None = None) -> list[dict]:
    """Every run of the root, newest first; a damaged folder is listed as such and never hides the others."""
    items = [_listed(path) for path in _entries(run_folder.runs_root(root))]
    return sorted(items, key=lambda item: (_number(item["status"].get("created_at")), item["id"]), reverse=True)


def wait_for(run_dir: Path, states: Collection[str] = states.FINAL, timeout: float = 60,
             root: Path | None = None) -> dict:
    """Block until the run reaches one of `states`, moving the queue meanwhile (for the CLI and tests)."""
    run_dir = Path(run_dir)
    root, end = _root_for(run_dir, root), time.monotonic() + timeout
    while True:
        schedule(root)
        status = reconcile(run_dir)
        if status["state"] in states:
            return status
        if time.monotonic() > end:
            raise TimeoutError(f"run {run_dir.name} is still {status['state']} after {timeout:g} s")
        time.sleep(0.2)
