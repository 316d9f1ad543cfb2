"""The local backend: each run trains in an OS process on this computer (processes.py does the process work).

The default, with nothing to install. Its job is named by the worker's pid and the process's start time, so any
process on this computer can watch and end it. Its capacity is settings.max_jobs: half the cores, plus one run per
GPU found here. GPUs are counted without TensorFlow (importing it would cost the app's pages seconds, and
initialising it would take GPU memory in the Streamlit server): `nvidia-smi -L`, narrowed by CUDA_VISIBLE_DEVICES;
each worker is then given the GPU the fewest live runs use.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from seqlab import settings
from seqlab.runs import processes, run_folder, states

NAME = "local"
WHERE = "this computer"
GPU_QUERY_SECONDS = 5.0
_gpu_counts: dict[str, int] = {}  # nvidia-smi's path -> its count: asked once per process, as schedule() runs often


def _visible_limit() -> int | None:
    """How many devices CUDA_VISIBLE_DEVICES lets a process see (CUDA stops at the first invalid entry; "" hides
    them all), or None when it is unset."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return None
    count = 0
    for entry in visible.split(","):
        if not entry.strip() or entry.strip().startswith("-"):
            break
        count += 1
    return count


def _nvidia_smi_count() -> int:
    """The GPUs `nvidia-smi -L` lists ("GPU 0: ..." lines); 0 without the tool, or when it fails or hangs."""
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return 0
    if tool not in _gpu_counts:
        try:
            listed = subprocess.run([tool, "-L"], capture_output=True, text=True, timeout=GPU_QUERY_SECONDS,
                                    check=False, stdin=subprocess.DEVNULL)
            lines = listed.stdout.splitlines() if listed.returncode == 0 else []
            _gpu_counts[tool] = sum(line.startswith("GPU ") for line in lines)
        except (OSError, subprocess.SubprocessError):
            _gpu_counts[tool] = 0
    return _gpu_counts[tool]


def gpu_count() -> int:
    """The GPUs a worker started here could use: nvidia-smi's count, at most what CUDA_VISIBLE_DEVICES shows."""
    limit, found = _visible_limit(), _nvidia_smi_count()
    return found if limit is None else min(found, limit)


def _gpu_ids() -> list[str]:
    """The GPUs a worker may be given, as CUDA_VISIBLE_DEVICES names them (indices, or UUIDs if the operator used
    those)."""
    count, visible = gpu_count(), os.environ.get("CUDA_VISIBLE_DEVICES")
    return [entry.strip() for entry in visible.split(",")][:count] if visible is not None else [
        str(index) for index in range(count)]


def least_busy_gpu(root: Path) -> str | None:
    """The GPU the fewest live runs of `root` were given (the lowest first), so that the one run per GPU that the
    capacity adds really gets a GPU of its own; None without a GPU."""
    ids = _gpu_ids()
    if not ids:
        return None
    busy = dict.fromkeys(ids, 0)
    for entry in (path for path in Path(root).iterdir() if not path.name.startswith(".") and path.is_dir()):
        status = run_folder.read_status(entry)
        if status.get("state") in states.LIVE and status.get("gpu") in busy:
            busy[status["gpu"]] += 1
    return min(ids, key=lambda gpu: (busy[gpu], ids.index(gpu)))


class LocalBackend:
    """Runs as processes on this computer (processes.py): pid + start time name a job for good. On a computer with
    GPUs each worker sees one (CUDA_VISIBLE_DEVICES), the least busy, named in its status as `gpu`."""

    name = NAME

    def launch(self, run_dir: Path, root: Path) -> dict:
        gpu = least_busy_gpu(root)
        if gpu is None:
            pid = processes.start_worker(run_dir, root)
        else:
            pid = processes.start_worker(run_dir, root, {"CUDA_VISIBLE_DEVICES": gpu})
        return {"backend": NAME, "where": WHERE if gpu is None else f"{WHERE}, GPU {gpu}", "gpu": gpu, "pid": pid,
                "pid_start_time": processes.process_start_time(pid)}

    def is_alive(self, status: dict) -> bool:
        return processes.is_alive(status)

    def end(self, status: dict, run_dir: Path, force: bool) -> None:
        processes.end_worker(status, run_dir, force)

    def capacity(self) -> int:
        return settings.max_jobs(gpu_count())

    def reap(self) -> None:
        processes.reap()
