"""The job-backend seam: which backend the settings choose, which one a run's status names, how a run's backend
is said, and the local backend's capacity (one more run per GPU, counted without TensorFlow)."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from seqlab import settings
from seqlab.errors import SeqlabError
from seqlab.presets import default_configs
from seqlab.runs import backends, jobs, run_folder
from seqlab.runs.backends import local
from seqlab.runs.backends.base import JobBackend
from tests.conftest import REPO

HALF_THE_CORES = max(1, (os.cpu_count() or 2) // 2)


@pytest.fixture
def fresh_backends(monkeypatch):
    monkeypatch.setattr(backends, "_made", {})
    monkeypatch.setattr(local, "_gpu_counts", {})


@pytest.fixture
def fake_ray(monkeypatch, fresh_backends) -> list[str]:
    """A stand-in seqlab.runs.backends.ray_jobs (its real one may be absent): the addresses it was made for."""
    made: list[str] = []

    class RayBackend:
        name = "ray"

        def __init__(self, address: str):
            made.append(address)

    monkeypatch.setitem(sys.modules, "seqlab.runs.backends.ray_jobs", types.SimpleNamespace(RayBackend=RayBackend))
    monkeypatch.delattr(backends, "ray_jobs", raising=False)
    return made


def test_the_setting_chooses_the_backend(monkeypatch, fresh_backends):
    monkeypatch.delenv("SEQLAB_BACKEND", raising=False)
    assert settings.backend() == "local" and backends.current().name == "local"
    assert isinstance(backends.current(), JobBackend)  # the local backend has every member of the seam
    monkeypatch.setenv("SEQLAB_BACKEND", " Ray ")
    assert settings.backend() == "ray"
    monkeypatch.setenv("SEQLAB_BACKEND", "slurm")
    with pytest.raises(SeqlabError, match="SEQLAB_BACKEND is 'slurm'") as raised:
        backends.current()
    assert raised.value.expected == "local or ray" and "SEQLAB_BACKEND=local" in raised.value.fix
    monkeypatch.delenv("SEQLAB_RAY_ADDRESS", raising=False)
    assert settings.ray_address() == "http://127.0.0.1:8265"
    monkeypatch.setenv("SEQLAB_RAY_ADDRESS", "http://head:8265")
    assert settings.ray_address() == "http://head:8265"


def test_ray_is_imported_only_when_chosen_and_a_run_is_asked_through_its_own_backend(monkeypatch, fake_ray):
    monkeypatch.setenv("SEQLAB_BACKEND", "ray")
    monkeypatch.setenv("SEQLAB_RAY_ADDRESS", "http://head:8265")
    assert backends.current().name == "ray" and backends.current() is backends.current()  # one client
    assert fake_ray == ["http://head:8265"]
    assert backends.for_status({"backend": "ray", "ray_address": "http://other:8265"}).name == "ray"
    assert fake_ray == ["http://head:8265", "http://other:8265"]
    # a run launched locally (or by a seqlab from before backends) stays local whatever the setting says now
    assert backends.for_status({"backend": "local", "pid": 1}).name == "local"
    assert backends.for_status({"pid": 1, "pid_start_time": 2.0}).name == "local"
    with pytest.raises(SeqlabError, match="names the backend 'slurm'"):
        backends.for_status({"backend": "slurm"})


def test_the_job_runner_and_the_local_backend_import_neither_ray_nor_tensorflow():
    code = ("import sys; import seqlab.runs.jobs, seqlab.runs.backends.local; "
            "loaded = [name for name in ('tensorflow', 'keras', 'ray', 'seqlab.runs.backends.ray_jobs') "
            "if name in sys.modules]; print(loaded); assert not loaded")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_run_says_which_backend_runs_it_and_where():
    assert backends.describe({"backend": "local", "where": "this computer", "pid": 5}) == "local (this computer)"
    assert (backends.describe({"backend": "ray", "where": "Ray cluster http://head:8265"})
            == "ray (Ray cluster http://head:8265)")
    assert backends.describe({"state": "finished", "pid": 5}) == "local (this computer)"  # an older seqlab's run
    assert backends.describe({"state": "queued"}) == "" and jobs.where_it_runs({"state": "queued"}) == ""


def test_a_run_on_an_unknown_backend_never_stops_the_queue(monkeypatch):
    root = run_folder.runs_root()
    model, train = default_configs("generate")
    odd = run_folder.create_run_folder(root / "odd", model, train)
    run_folder.write_status(odd, state="running", backend="slurm", where="a batch system")
    jobs.schedule(root)  # no exception: the run is skipped
    [listed] = jobs.list_runs(root)
    assert listed["status"]["state"] == "damaged" and "slurm" in listed["error"]


def fake_nvidia_smi(folder: Path, gpus: int, exit_code: int = 0) -> Path:
    """An nvidia-smi that lists `gpus` GPUs as `nvidia-smi -L` does; PATH is set to its folder alone."""
    folder.mkdir(exist_ok=True)
    script = folder / "nvidia-smi"
    lines = "".join(f"echo 'GPU {i}: NVIDIA H200 (UUID: GPU-{i:04d})'\n" for i in range(gpus))
    script.write_text(f"#!/bin/sh\n{lines}exit {exit_code}\n", encoding="utf-8")
    script.chmod(0o755)
    return folder


@pytest.mark.skipif(os.name == "nt", reason="a shell-script stand-in for nvidia-smi")
def test_local_capacity_counts_gpus(tmp_path, monkeypatch, fresh_backends):
    monkeypatch.delenv("SEQLAB_MAX_JOBS", raising=False)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv("SEQLAB_BACKEND", "local")
    monkeypatch.setenv("PATH", str(tmp_path / "none"))
    assert jobs.max_concurrent_jobs() == HALF_THE_CORES  # no nvidia-smi: today's rule unchanged
    monkeypatch.setenv("PATH", str(fake_nvidia_smi(tmp_path / "two", 2)))
    assert local.gpu_count() == 2 and jobs.max_concurrent_jobs() == HALF_THE_CORES + 2
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert jobs.max_concurrent_jobs() == HALF_THE_CORES + 1
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,-1,1")  # CUDA stops at the first invalid entry
    assert local.gpu_count() == 1
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert jobs.max_concurrent_jobs() == HALF_THE_CORES
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    monkeypatch.setenv("SEQLAB_MAX_JOBS", "3")
    assert jobs.max_concurrent_jobs() == 3  # the operator's number is taken as it is
    monkeypatch.delenv("SEQLAB_MAX_JOBS")
    monkeypatch.setenv("PATH", str(fake_nvidia_smi(tmp_path / "broken", 4, exit_code=9)))
    assert local.gpu_count() == 0  # a failing driver: no GPU slots, no error


@pytest.mark.skipif(os.name == "nt", reason="a shell-script stand-in for nvidia-smi")
def test_nvidia_smi_is_asked_once_per_process(tmp_path, monkeypatch, fresh_backends):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    folder = fake_nvidia_smi(tmp_path / "bin", 1)
    script = folder / "nvidia-smi"
    script.write_text(script.read_text().replace("#!/bin/sh\n", f"#!/bin/sh\necho x >> {tmp_path / 'asked'}\n"))
    monkeypatch.setenv("PATH", str(folder))
    assert [local.gpu_count() for _ in range(3)] == [1, 1, 1]
    assert (tmp_path / "asked").read_text().count("x") == 1


@pytest.mark.skipif(os.name == "nt", reason="a shell-script stand-in for nvidia-smi")
def test_each_local_worker_is_given_the_least_busy_gpu(tmp_path, monkeypatch, fresh_backends):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv("PATH", str(fake_nvidia_smi(tmp_path / "bin", 2)))
    root, (model, train) = run_folder.runs_root(), default_configs("generate")
    runs = [("a", "running", "0"), ("b", "running", "0"), ("c", "finished", "1"), ("d", "running", "1")]
    for name, state, gpu in runs:
        run_folder.write_status(run_folder.create_run_folder(root / name, model, train), state=state, gpu=gpu)
    started = []
    monkeypatch.setattr(local.processes, "start_worker",
                        lambda run_dir, root, environment=None: started.append(environment) or 0)
    job = local.LocalBackend().launch(root / "a", root)
    assert started == [{"CUDA_VISIBLE_DEVICES": "1"}]  # GPU 0 trains two runs, GPU 1 one (c has finished)
    assert job["gpu"] == "1" and backends.describe(job) == "local (this computer, GPU 1)"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # no GPU: the worker's environment is ours, unchanged
    assert local.LocalBackend().launch(root / "a", root)["gpu"] is None and started[-1] is None
