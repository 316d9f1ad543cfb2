"""The Ray backend on its own: a real quick training through a local Ray head (tests/ray_head.py, one per session),
one worker for a queue entry launched twice, what a job gets (command, resources, environment), and a cluster that
cannot be reached. The job-runner contract it shares with the local backend is tests/runs/test_jobs.py (its
`job_backend` cases run on ray too)."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest

from seqlab import presets
from seqlab.errors import SeqlabError
from seqlab.runs import backends, jobs, launch, processes, run_folder
from seqlab.runs.backends import ray_jobs

ray = pytest.importorskip("ray.job_submission", reason="Ray is not installed (pip install -r requirements-cluster.txt)")
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens there


@pytest.fixture
def on_ray(ray_head, monkeypatch) -> str:
    monkeypatch.setenv("SEQLAB_BACKEND", "ray")
    monkeypatch.setenv("SEQLAB_RAY_ADDRESS", ray_head.address)
    return ray_head.address


class FakeClient:
    """Records what a job was submitted with; refuses a reused submission id as Ray does."""

    def __init__(self, gpus: float = 0.0):
        self.submitted: dict[str, dict] = {}
        self.gpus = gpus

    def submit_job(self, **job) -> str:
        if job["submission_id"] in self.submitted:
            raise RuntimeError(f"Request failed with status code 400: Job with submission_id "
                               f"{job['submission_id']} already exists. Please use a different submission_id.")
        self.submitted[job["submission_id"]] = job
        return job["submission_id"]

    def _do_request(self, method: str, endpoint: str):
        usage = {"CPU": [0.0, 16.0], **({"GPU": [0.0, self.gpus]} if self.gpus else {})}
        payload = {"data": {"clusterStatus": {"loadMetricsReport": {"usage": usage}}}}
        return type("Response", (), {"json": lambda self: payload})()


def _queued_run(root: Path) -> Path:
    model, train = presets.default_configs("generate")
    run_dir = run_folder.create_run_folder(root / "r1", model, train)
    run_folder.write_status(run_dir, queued_at=time.time())
    return run_dir


def test_a_job_is_the_worker_command_with_its_resources_and_environment(tmp_path, monkeypatch):
    fake = FakeClient(gpus=1.0)
    monkeypatch.setitem(ray_jobs._clients, "http://head:8265", fake)
    monkeypatch.setenv("SEQLAB_MAX_JOB_MEMORY_MB", "2048")
    backend = ray_jobs.RayBackend("http://head:8265/")
    run_dir = _queued_run(tmp_path)
    fields = backend.launch(run_dir, tmp_path)
    assert fields["backend"] == "ray" and fields["where"] == "Ray cluster http://head:8265"
    job = fake.submitted[fields["ray_submission_id"]]
    assert job["entrypoint"].startswith("exec " + sys.executable + " -m seqlab worker " + str(run_dir))
    assert job["entrypoint"].endswith(f">> {run_dir / run_folder.LOG} 2>&1")  # train.log in the run, as locally
    assert job["entrypoint_num_cpus"] == 2 and job["entrypoint_num_gpus"] == 0.5  # the cluster has a GPU
    env = job["runtime_env"]["env_vars"]
    assert env["SEQLAB_MAX_JOB_MEMORY_MB"] == "2048" and env["SEQLAB_BACKEND"] == "ray"
    assert env["SEQLAB_RAY_ADDRESS"] == "http://head:8265" and env["SEQLAB_THREADS"] == "2"
    assert env["PYTHONPATH"].split(":")[0] == str(Path(ray_jobs.__file__).resolve().parents[3])  # a checkout
    # A second launch of the same queue entry (another app replica) starts no second job and is no error ...
    assert backend.launch(run_dir, tmp_path) == fields and len(fake.submitted) == 1
    # ... a resume queues it anew, so the next launch is a new job (Ray refuses a reused id)
    run_folder.write_status(run_dir, queued_at=time.time() + 1)
    assert backend.launch(run_dir, tmp_path)["ray_submission_id"] != fields["ray_submission_id"]
    assert backend.capacity() == 2  # 16 CPUs / 2, but 1 GPU / 0.5


def test_without_gpus_a_job_asks_for_none(tmp_path, monkeypatch):
    fake = FakeClient()
    monkeypatch.setitem(ray_jobs._clients, "http://cpu-only:8265", fake)
    backend = ray_jobs.RayBackend("http://cpu-only:8265")
    job = fake.submitted[backend.launch(_queued_run(tmp_path), tmp_path)["ray_submission_id"]]
    assert "entrypoint_num_gpus" not in job and backend.capacity() == 8
    monkeypatch.setenv("SEQLAB_MAX_JOBS", "3")
    assert backend.capacity() == 3  # the operator's cap holds on a cluster too


def test_an_unreachable_cluster_is_a_plain_message_and_the_run_stays_queued(tmp_path, monkeypatch, capsys):
    from seqlab.cli.main import main

    monkeypatch.setenv("SEQLAB_BACKEND", "ray")
    monkeypatch.setenv("SEQLAB_RAY_ADDRESS", UNREACHABLE)
    model, train = presets.default_configs("generate", max_steps=5)
    with pytest.raises(SeqlabError, match="cannot be reached") as raised:
        launch.start_training(model, train)
    assert "SEQLAB_BACKEND=local" in str(raised.value) and "nothing saved is lost" in str(raised.value)
    (run_dir,) = [path for path in run_folder.runs_root().iterdir() if path.is_dir()]
    assert run_folder.read_status(run_dir)["state"] == "queued"  # kept: it starts when the cluster answers
    # A run the cluster trained is not declared dead while the head is out of reach
    watched = {"state": "running", "backend": "ray", "ray_address": UNREACHABLE, "ray_submission_id": "x"}
    assert backends.for_status(watched).is_alive(watched)
    assert main(["train", "--corpus", "tiny-shakespeare", "--max-steps", "5", "--detach"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "cannot be reached" in error and "Traceback" not in error


def test_a_queue_entry_launched_twice_starts_one_worker(on_ray, tmp_path, monkeypatch):
    monkeypatch.setattr(processes, "worker_command",
                        lambda run_dir, root: [sys.executable, "-c", "import time; time.sleep(30)"])
    backend = ray_jobs.RayBackend(on_ray)
    run_dir = _queued_run(run_folder.runs_root())
    first, second = backend.launch(run_dir, tmp_path), backend.launch(run_dir, tmp_path)
    assert first == second
    mine = [job for job in ray_jobs.client(on_ray).list_jobs() if job.submission_id == first["ray_submission_id"]]
    assert len(mine) == 1
    backend.end(first, run_dir, force=False)
    deadline = time.monotonic() + 15
    while backend.is_alive(first) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert backend.job_status(first) == "STOPPED"


def test_a_quick_training_runs_through_ray_and_its_run_is_complete_and_loadable(on_ray, capsys):
    from seqlab.cli.main import main
    from seqlab.infer.loading import load_sampler

    model, train = presets.preset_configs("generate", "quick-demo", max_steps=12)
    run_dir = launch.start_training(model, train)
    status = run_folder.read_status(run_dir)
    assert status["backend"] == "ray" and status["where"] == f"Ray cluster {on_ray}"
    status = jobs.wait_for(run_dir, timeout=240)
    assert status["state"] == "finished", (status, (run_dir / run_folder.LOG).read_text(errors="replace")[-2000:])
    backend, deadline = ray_jobs.RayBackend(on_ray), time.monotonic() + 30
    while backend.is_alive(status) and time.monotonic() < deadline:  # the worker exits just after writing it
        time.sleep(0.2)
    assert backend.job_status(status) == "SUCCEEDED"
    assert status["where"] == f"Ray cluster {on_ray}, node {socket.gethostname()}"  # the worker named its node
    files = {path.name for path in run_dir.iterdir()}
    assert {"config.json", "status.json", "metrics.jsonl", "samples.jsonl", "vocabulary.json", "model.keras",
            "checkpoint.keras", "checksums.json", "train.log"} <= files
    steps = [record for record in run_folder.read_jsonl(run_dir / run_folder.METRICS) if record.get("type") == "step"]
    assert steps and steps[-1]["step"] == 12
    text = load_sampler(run_dir).generate("ROMEO:", 20, random_seed=0)[0]
    assert text.startswith("ROMEO:") and len(text) == len("ROMEO:") + 20
    assert main(["runs"]) == 0
    assert f"Ray cluster {on_ray}" in capsys.readouterr().out  # the CLI says where it ran
