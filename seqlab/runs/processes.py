"""The worker processes of this machine: start one for a run, ask whether it still runs, signal it, reap it.

The job runner (jobs.py) decides when; this module knows how, for processes on the same host: each worker is
`python -m seqlab worker RUN_DIR` in its own session (so it outlives the app and can be signalled as a group), and
its pid with the process's start time names it for good (a reused pid is not mistaken for it). No TensorFlow.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

from seqlab import settings
from seqlab.runs import run_folder
from seqlab.runs.states import RunState

_children: dict[int, subprocess.Popen] = {}  # workers this process started, polled so none stays a zombie


def threads_per_job() -> int:
    """The cores each job may use, so that concurrent jobs do not oversubscribe the machine."""
    return max(1, (os.cpu_count() or 2) // settings.max_jobs())


def worker_command(run_dir: Path, root: Path) -> list[str]:
    return [sys.executable, "-m", "seqlab", "worker", str(run_dir), "--runs-root", str(root)]


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (the state) on; the command name before it may hold spaces."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rindex(")") + 2:].split()
    except (OSError, ValueError):
        return None


def process_start_time(pid: int) -> float | None:
    """Field 22 of /proc/<pid>/stat (ticks since boot): with the pid, it names one process for good."""
    fields = _stat(pid)
    return float(fields[19]) if fields and len(fields) > 19 else None


def is_alive(status: dict) -> bool:
    """The run's own process still runs: not gone, not a zombie, and not someone else's reused pid."""
    pid = status.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    if not os.path.exists("/proc/self/stat"):  # no procfs: existence is all we can check
        try:
            os.kill(pid, 0)
            return True
        except OSError as error:
            return isinstance(error, PermissionError)  # it exists, but belongs to someone else
    fields = _stat(pid)
    expected = status.get("pid_start_time")  # without it the pid names no process for sure: not the run's
    return bool(fields) and fields[0] != "Z" and expected is not None and process_start_time(pid) == expected


def command_line(pid: int) -> list[str] | None:
    """The arguments the process was started with (/proc/<pid>/cmdline), or None where that cannot be read."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return None


def signal_worker(status: dict, sig: int, run_dir: Path) -> None:
    """Signal the run's worker and its process group (it leads its own session), never the caller's own group:
    only a live process whose start time is the recorded one and whose command line names this run folder."""
    pid = status["pid"]
    arguments = command_line(pid) if os.path.exists("/proc/self/stat") else [str(run_dir)]
    if not arguments or not any(Path(run_dir).name in argument for argument in arguments):
        return
    with suppress(ProcessLookupError, PermissionError):
        if is_alive(status):
            os.killpg(pid, sig) if os.getpgid(pid) == pid != os.getpgid(0) else os.kill(pid, sig)


def reap() -> None:
    for pid in [pid for pid, proc in list(_children.items()) if proc.poll() is not None]:
        _children.pop(pid, None)  # poll() reaped it; pop() as a Streamlit thread may race us


def address_space_limiter(limit: int):
    """A `preexec_fn` that caps the child's address space at `limit` bytes (RLIMIT_AS), so that a run that outgrows
    its memory fails with an allocation error instead of waking the kernel's OOM killer; None where there is no
    such limit (Windows, `limit` 0). `resource` is imported here, in the parent: the forked child only calls it."""
    if not limit:
        return None
    try:
        import resource
    except ImportError:  # Windows: no address-space limit
        return None
    if not hasattr(resource, "RLIMIT_AS"):
        return None
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = limit if hard == resource.RLIM_INFINITY else min(limit, hard)

    def limit_address_space() -> None:
        with suppress(ValueError, OSError):  # a limit that cannot be set must not keep the run from starting
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))

    return limit_address_space


def start_worker(run_dir: Path, root: Path) -> int:
    """Launch the worker in a new session, so it outlives the caller and can be signalled as a group, with its
    address space limited (settings.worker_address_space_bytes) where the OS has such a limit."""
    run_dir, path = Path(run_dir), os.environ.get("PYTHONPATH")
    env = dict(os.environ, **{settings.THREADS_VARIABLE: str(threads_per_job())},
               PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parents[2])] + ([path] if path else [])))
    limiter = address_space_limiter(settings.worker_address_space_bytes())
    with open(run_dir / run_folder.LOG, "ab") as log:
        proc = subprocess.Popen(worker_command(run_dir, root), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True, preexec_fn=limiter)
    _children[proc.pid] = proc
    run_folder.write_status(run_dir, state=RunState.RUNNING, pid=proc.pid, pid_start_time=process_start_time(proc.pid),
                            launched_at=time.time(), queue_position=None, terminate_sent_at=None)
    return proc.pid
