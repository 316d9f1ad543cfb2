"""A node dies under a run (issue 24, docs/cluster.md): the run becomes `interrupted` and resumes on another node.

A local Ray "cluster" of three nodes on this machine (ray.cluster_utils: a head with no CPUs for runs, node A and,
later, node B, each with 2 CPUs): a run (the job-runner tests' fake worker: steps, metrics, obeys Stop) trains on A;
A's processes are killed at once (its raylet, the run's worker and Ray's supervisor with it, as when a machine
loses power); we time how long until the run reads `interrupted`, then add B, resume, and check that it finishes
on B with its metrics continued. Not part of the suite (about two minutes): run it by hand,

    python -m tests.reliability.ray_node_death        # prints the figures, adds them to bench/results/cluster.json
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from tests.ray_head import _first_job, _free_port
from tests.runs.test_jobs import FAKE_WORKER

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "cluster.json"


def _until(predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def _node_of(address: str, status: dict) -> str | None:
    from seqlab.runs.backends import ray_jobs

    return ray_jobs.client(address).get_job_info(status["ray_submission_id"]).driver_node_id


def main() -> int:
    import ray._private.utils
    from ray.cluster_utils import Cluster

    ray._private.utils.write_ray_address = lambda address: None  # not /tmp/ray/ray_current_cluster: ours alone
    folder = Path(tempfile.mkdtemp(prefix="sqnd-", dir="/tmp"))
    dashboard = _free_port()
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 0, "temp_dir": str(folder), "include_dashboard": True, "dashboard_host": "127.0.0.1",
        "dashboard_port": dashboard, "gcs_server_port": _free_port(), "object_store_memory": 80 * 1024 * 1024})
    address = f"http://127.0.0.1:{dashboard}"
    os.environ.update(SEQLAB_RUNS=str(folder / "runs"), SEQLAB_CACHE=str(folder / "cache"), SEQLAB_BACKEND="ray",
                      SEQLAB_RAY_ADDRESS=address, SEQLAB_WORKSPACES="off")
    try:
        return _scenario(cluster, address, folder)
    finally:
        cluster.shutdown()


def _scenario(cluster, address: str, folder: Path) -> int:
    from seqlab import presets
    from seqlab.runs import jobs, processes, run_folder

    script = folder / "fake_worker.py"
    script.write_text(FAKE_WORKER, encoding="utf-8")
    processes.worker_command = lambda run_dir, root, steps=600: [sys.executable, str(script), str(run_dir),
                                                                  str(root), "normal", str(steps)]
    node_a = cluster.add_node(num_cpus=2, object_store_memory=80 * 1024 * 1024)
    _until(lambda: _client_ready(address), 120, "the job server")
    _first_job(address, _Running(), time.monotonic() + 120)  # a fresh head refuses jobs for a while
    model, train = presets.default_configs("generate")
    root = run_folder.runs_root()
    run_dir = run_folder.create_run_folder(root / "victim", model, train)
    jobs.submit(run_dir)
    _until(lambda: run_folder.read_status(run_dir).get("step", 0) >= 20, 120, "steps on node A")
    first_node = _node_of(address, run_folder.read_status(run_dir))
    killed = time.monotonic()
    cluster.remove_node(node_a, allow_graceful=False)  # the machine is gone: no goodbye
    status = _until(lambda: (s := jobs.reconcile(run_dir))["state"] == "interrupted" and s, 180, "interrupted")
    to_interrupted = time.monotonic() - killed
    steps_before = len(run_folder.read_jsonl(run_dir / run_folder.METRICS))
    cluster.add_node(num_cpus=2, object_store_memory=80 * 1024 * 1024)
    processes.worker_command = lambda run_dir, root: [sys.executable, str(script), str(run_dir), str(root),
                                                      "normal", "10"]
    jobs.resume(run_dir)
    done = jobs.wait_for(run_dir, timeout=180)
    steps = [record["step"] for record in run_folder.read_jsonl(run_dir / run_folder.METRICS)]
    figures = {"interrupted_after_node_death_s": round(to_interrupted, 1), "error": status.get("error"),
               "first_node": first_node, "resumed_node": _node_of(address, done),
               "final_state": done["state"], "steps_before": steps_before, "steps_after": len(steps),
               "metrics_continue": steps[:steps_before] == list(range(1, steps_before + 1))
               and steps[steps_before:] == list(range(steps_before + 1, steps_before + 11))}
    print(json.dumps(figures, indent=2))
    assert figures["final_state"] == "finished" and figures["first_node"] != figures["resumed_node"], figures
    assert figures["metrics_continue"], steps
    if RESULTS.exists():
        report = json.loads(RESULTS.read_text(encoding="utf-8"))
        report["node_death"] = {**figures, "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
        RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


class _Running:
    """Stands in for the head's process in _first_job: the cluster lives in this process."""

    def poll(self) -> None:
        return None


def _client_ready(address: str) -> bool:
    from seqlab.runs.backends import ray_jobs

    try:
        ray_jobs.client(address)
        return True
    except Exception:  # noqa: BLE001 (not up yet, whatever the reason)
        ray_jobs._clients.pop(address, None)
        return False


if __name__ == "__main__":
    sys.exit(main())
