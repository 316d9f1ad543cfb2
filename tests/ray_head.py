"""A local Ray head for tests and benchmarks (not a test module): `ray start --head --block` on free ports, with
2 CPUs and a small object store (the machine is shared), stopped by its own pid at the end.

Starting a head takes 30-60 s on a busy 2-core machine, so the tests share one per session (`ray_head` in
tests/conftest.py); a fresh head answers HTTP before it can run jobs, so `start` returns only once a first job ran.
It runs in its own session and temporary folder: stopping it ends only the processes it started (SIGTERM to
`ray start --block`, which shuts its node down; then any process left that names its temporary folder).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

START_SECONDS = 180.0
PORTS = ("port", "dashboard-port", "ray-client-server-port", "node-manager-port", "object-manager-port",
         "metrics-export-port", "dashboard-agent-listen-port", "dashboard-agent-grpc-port", "runtime-env-agent-port")


@dataclass
class RayHead:
    address: str  # the job server: http://127.0.0.1:PORT
    process: subprocess.Popen
    folder: Path  # Ray's temporary folder, and the head's log
    started_in: float  # seconds from `ray start` to a first job run

    def stop(self) -> None:
        """End the head and everything it started; never anything else."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        for process in psutil.process_iter(["cmdline"]):
            try:
                if any(str(self.folder) in part for part in process.info["cmdline"] or []):
                    process.kill()
            except psutil.Error:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ray_command() -> list[str]:
    """`ray` beside this Python (a virtual environment's), else on PATH."""
    beside = Path(sys.executable).with_name("ray")
    return [str(beside)] if beside.exists() else [shutil.which("ray") or "ray"]


def _head_environment() -> dict[str, str]:
    """The test's environment without SEQLAB_* (each job gets its own through runtime_env), Ray kept quiet."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("SEQLAB_")}
    env.update(RAY_USAGE_STATS_ENABLED="0", RAY_DEDUP_LOGS="0")
    return env


def _first_job(address: str, process: subprocess.Popen, deadline: float) -> None:
    """Wait until the job server answers and has run one tiny job (a fresh head refuses jobs for a while)."""
    from ray.job_submission import JobSubmissionClient

    client = None
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if client is None:
                urllib.request.urlopen(f"{address}/api/version", timeout=2).read()
                client = JobSubmissionClient(address)
            job = client.submit_job(entrypoint=f"{sys.executable} -c pass", entrypoint_num_cpus=0)
            while client.get_job_status(job).value in ("PENDING", "RUNNING") and time.monotonic() < deadline:
                time.sleep(0.2)
            if client.get_job_status(job).value == "SUCCEEDED":
                return
        except (OSError, RuntimeError, ValueError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the local Ray head did not run a job within {START_SECONDS:g} s")


def start_head(num_cpus: int = 2) -> RayHead:
    """Start a head with `num_cpus` CPUs, no GPUs and a 100 MB object store; returns once it runs jobs."""
    folder = Path(tempfile.mkdtemp(prefix="sqray-", dir="/tmp"))  # short: Ray's socket paths must stay < 108 bytes
    ports = {name: _free_port() for name in PORTS}
    command = [*_ray_command(), "start", "--head", "--block", f"--num-cpus={num_cpus}", "--num-gpus=0",
               f"--object-store-memory={100 * 1024 * 1024}", "--include-dashboard=true",
               "--dashboard-host=127.0.0.1", "--node-ip-address=127.0.0.1", "--disable-usage-stats",
               f"--temp-dir={folder}", *[f"--{name}={port}" for name, port in ports.items()]]
    started = time.monotonic()
    with open(folder / "head.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=_head_environment(), start_new_session=True)
    head = RayHead(f"http://127.0.0.1:{ports['dashboard-port']}", process, folder, 0.0)
    try:
        _first_job(head.address, process, started + START_SECONDS)
    except BaseException:
        head.stop()
        raise
    head.started_in = time.monotonic() - started
    return head


@pytest.fixture(scope="session")
def ray_head():
    """One local Ray head for the whole session, started by the first test that asks (Ray not installed: skip),
    stopped when the session ends."""
    pytest.importorskip("ray.job_submission", reason="Ray is not installed (pip install -r requirements-cluster.txt)")
    head = start_head()
    yield head
    head.stop()


if __name__ == "__main__":  # python -m tests.ray_head: start one and print its address until Ctrl-C
    head = start_head()
    print(f"SEQLAB_RAY_ADDRESS={head.address}  (started in {head.started_in:.1f} s; Ctrl-C stops it)", flush=True)
    try:
        head.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        head.stop()
