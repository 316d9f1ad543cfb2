"""The worker processes of this machine: start one for a run, ask whether it still runs, end it, reap it.

The job runner (jobs.py) decides when; the local backend (backends/local.py) hands its work to this module, which
knows how, for processes on the same host: each worker is
`python -m seqlab worker RUN_DIR` in its own session on POSIX (its own process group on Windows), so it outlives
the app and is ended with what it started; its pid with the process's start time names it for good (a reused pid
is not mistaken for it). Liveness, start time and command line come from psutil, on every OS; POSIX process
groups are used where they exist (SEQLAB_PORTABLE_PROCESSES=1 forces the Windows path, for tests). No TensorFlow.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import suppress
from pathlib import Path

import psutil

from seqlab import settings
from seqlab.runs import run_folder

_children: dict[int, subprocess.Popen] = {}  # workers this process started, polled so none stays a zombie


def threads_per_job() -> int:
    """The cores each job may use, so that concurrent jobs do not oversubscribe the machine."""
    return max(1, (os.cpu_count() or 2) // settings.max_jobs())


def worker_command(run_dir: Path, root: Path) -> list[str]:
    return [sys.executable, "-m", "seqlab", "worker", str(run_dir), "--runs-root", str(root)]


def _process(pid: object) -> psutil.Process | None:
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return None
    try:
        return psutil.Process(pid)
    except (psutil.Error, OSError):
        return None


def process_start_time(pid: int) -> float | None:
    """When the process started (seconds since the epoch, to 1/100 s): with the pid, it names one process for
    good, on every OS (psutil reads it from /proc, sysctl or the Windows process table)."""
    process = _process(pid)
    try:
        return round(process.create_time(), 2) if process else None
    except (psutil.Error, OSError):
        return None


def is_alive(status: dict) -> bool:
    """The run's own process still runs: not gone, not a zombie, and not someone else's reused pid (without a
    recorded start time the pid names no process for sure: not the run's)."""
    process, expected = _process(status.get("pid")), status.get("pid_start_time")
    if process is None or not isinstance(expected, int | float):
        return False
    try:
        return process.status() != psutil.STATUS_ZOMBIE and round(process.create_time(), 2) == round(expected, 2)
    except (psutil.Error, OSError):
        return False


def command_line(pid: int) -> list[str] | None:
    """The arguments the process was started with, or None where that cannot be read."""
    process = _process(pid)
    try:
        return process.cmdline() if process else None
    except (psutil.Error, OSError):
        return None


def _own_group(pid: int) -> bool:
    """POSIX: the worker leads its own process group (its session), which is not the caller's."""
    return _posix_groups() and os.getpgid(pid) == pid != os.getpgid(0)


def _posix_groups() -> bool:
    return hasattr(os, "killpg") and not settings.portable_processes()


def end_worker(status: dict, run_dir: Path, force: bool = False) -> None:
    """Terminate (or, with `force`, kill) the run's worker and what it started — only a live process whose start
    time is the recorded one and whose command line names this run folder. POSIX: its process group (it leads
    one); elsewhere (Windows): the process and its children, through psutil."""
    process = _process(status.get("pid"))
    arguments = command_line(status.get("pid")) or []
    if process is None or not is_alive(status) or not any(Path(run_dir).name in part for part in arguments):
        return
    with suppress(psutil.Error, ProcessLookupError, PermissionError, OSError):
        if _own_group(process.pid):
            os.killpg(process.pid, signal.SIGKILL if force else signal.SIGTERM)
            return
        for member in [*process.children(recursive=True), process]:
            with suppress(psutil.Error):
                member.kill() if force else member.terminate()


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


def _checkout_path() -> dict[str, str]:
    """{"PYTHONPATH": …} that puts this checkout first when seqlab runs from one (no install, or `pip install -e`),
    so that the worker runs the very code the caller runs; {} for an installed package, whose `python -m seqlab`
    finds itself."""
    top = Path(__file__).resolve().parents[2]
    if not (top / "pyproject.toml").is_file() or not (top / "seqlab").is_dir():
        return {}
    path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": os.pathsep.join([str(top)] + ([path] if path else []))}


def start_worker(run_dir: Path, root: Path, extra_environment: dict[str, str] | None = None) -> int:
    """Launch the worker in a new session, so it outlives the caller and can be signalled as a group, with its
    address space limited (settings.worker_address_space_bytes) where the OS has such a limit, and
    `extra_environment` (the GPU it may use) on top of ours. Returns its pid; the job runner records it
    (backends/local.py names the job with it)."""
    run_dir = Path(run_dir)
    env = dict(os.environ, **{settings.THREADS_VARIABLE: str(threads_per_job())}, **_checkout_path(),
               **(extra_environment or {}))
    limiter = address_space_limiter(settings.worker_address_space_bytes())
    # its own session (POSIX) or process group (Windows): it outlives the caller, and a Ctrl-C there does not reach it
    separate = ({"start_new_session": True} if _posix_groups() else
                {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)})
    with open(run_dir / run_folder.LOG, "ab") as log:
        proc = subprocess.Popen(worker_command(run_dir, root), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, env=env, preexec_fn=limiter, **separate)
    _children[proc.pid] = proc
    return proc.pid
