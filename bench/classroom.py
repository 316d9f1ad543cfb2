"""A capacity model for a class on a cluster (issue 24): 30 people each press the quick demo within one minute; how
long until the last run finishes on 1, 4 and 16 two-core nodes, through each job backend?

It measures on this machine, through the backends themselves (seqlab.runs.backends): the launch overhead (a
worker that only notes the time it started: submit to start, and submit to the end being seen, median of 5 with
the spread) and one real quick demo per backend (submit to finished, launch included). Then it models the class:
arrivals spread evenly over 60 s (and, for the worst case, all at once), first come first served onto the slots
the backend's rule gives a two-core node (local: half the cores; Ray: CPUS_PER_RUN CPUs a run), each run taking the
measured quick-demo time. The local backend trains on one computer only, so it has a row for one node.

    python -m bench.classroom                      # a local Ray head is started (and stopped) for the measurement
    python -m bench.classroom --ray-address http://head:8265 --repeats 5
    python -m bench.classroom --model-only         # the table again from bench/results/cluster.json

Writes bench/results/cluster.json and prints the table (docs/cluster.md quotes it). Load on a shared machine moves
the figures: the JSON keeps the load average next to them.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.report_file import RESULTS, writer

CLASS_SIZE, ARRIVAL_WINDOW, NODE_COUNTS, NODE_CORES = 30, 60.0, (1, 4, 16), 2
BACKENDS = ("local", "ray")
PROBE = "import sys, time; open(sys.argv[1], 'w').write(repr(time.time()))"


def slots_per_node(backend: str) -> int:
    """How many runs the backend's rule trains at once on one two-core node."""
    if backend == "ray":
        from seqlab.runs.backends.ray_jobs import CPUS_PER_RUN
        return max(1, NODE_CORES // CPUS_PER_RUN)
    return max(1, NODE_CORES // 2)  # settings.max_jobs: half the cores


def _queued_run(root: Path, name: str) -> Path:
    from seqlab import presets
    from seqlab.runs import run_folder

    model, train = presets.default_configs("generate", max_steps=1)
    run_dir = run_folder.create_run_folder(root / name, model, train)
    run_folder.write_status(run_dir, queued_at=time.time())
    return run_dir


def measure_launch(backend_name: str, root: Path, repeats: int) -> dict:
    """Submit-to-start and submit-to-seen-ended of a worker that does nothing, through the backend (median, spread)."""
    from seqlab.runs import backends, processes, run_folder

    backend, original = backends.current(), processes.worker_command
    to_start, to_end = [], []
    try:
        for attempt in range(repeats):
            run_dir = _queued_run(root, f"probe-{backend_name}-{attempt}")
            marker = run_dir / "started"
            processes.worker_command = lambda run_dir, root, marker=marker: [sys.executable, "-c", PROBE, str(marker)]
            submitted = time.time()
            job = backend.launch(run_dir, root)
            while not marker.exists() or not marker.read_text():
                time.sleep(0.01)
            to_start.append(float(marker.read_text()) - submitted)
            while backend.is_alive(job):
                time.sleep(0.05)
                backend.reap()
            to_end.append(time.time() - submitted)
            run_folder.write_status(run_dir, state="finished")  # never a queued run for a scheduler to start
    finally:
        processes.worker_command = original
    return {"to_start_s": _summary(to_start), "to_seen_ended_s": _summary(to_end)}


def _summary(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "all": [round(value, 3) for value in values]}


def measure_quick_demo(backend_name: str) -> dict:
    """One real quick demo (generate, Tiny Shakespeare, 60 s budget) through the backend, in parts: submit to the
    worker running (launch, Python, TensorFlow), the worker's own time (data, model, training, saves), and submit to
    its job seen ended (the time it holds a slot: the model's run time)."""
    from seqlab import presets
    from seqlab.runs import backends, jobs, launch

    model, train = presets.preset_configs("generate", "quick-demo")
    submitted = time.time()
    run_dir = launch.start_training(model, train)
    status = jobs.wait_for(run_dir, timeout=900)
    backend = backends.for_status(status)
    while backend.is_alive(status):
        time.sleep(0.05)
        backend.reap()
    ended = time.time()
    if status["state"] != "finished":
        raise RuntimeError(f"the quick demo through {backend_name} ended {status['state']}: {status.get('error')}")
    started, finished = float(status["started_at"]), float(status["finished_at"])
    return {"submit_to_ended_s": round(ended - submitted, 1), "submit_to_worker_s": round(started - submitted, 1),
            "worker_s": round(finished - started, 1), "training_s": round(float(status["elapsed_seconds"]), 1),
            "finished_to_ended_s": round(ended - finished, 2), "steps": status.get("step"),
            "where": status.get("where"), "load_average": round(os.getloadavg()[0], 1)}


def model_class(service: float, slots: int, at_once: bool = False) -> dict:
    """First come, first served onto `slots`: when the last of CLASS_SIZE runs finishes (seconds after the first
    press) and the longest wait for a slot."""
    arrivals = [0.0 if at_once else i * ARRIVAL_WINDOW / (CLASS_SIZE - 1) for i in range(CLASS_SIZE)]
    free = [0.0] * slots
    last, longest_wait = 0.0, 0.0
    for arrival in arrivals:
        start = max(arrival, heapq.heappop(free))
        heapq.heappush(free, start + service)
        last, longest_wait = max(last, start + service), max(longest_wait, start - arrival)
    return {"last_finishes_s": round(last, 1), "longest_wait_s": round(longest_wait, 1)}


def table(report: dict) -> list[dict]:
    rows = []
    for backend, measured in report["backends"].items():
        service = statistics.median(demo["submit_to_ended_s"] for demo in measured["quick_demos"])
        for nodes in NODE_COUNTS if backend == "ray" else (1,):
            slots = nodes * slots_per_node(backend)
            rows.append({"backend": backend, "nodes": nodes, "slots": slots, "run_s": service,
                         "spread_over_60s": model_class(service, slots),
                         "all_at_once": model_class(service, slots, at_once=True)})
    return rows


def print_table(report: dict) -> None:
    print(f"{CLASS_SIZE} quick demos pressed within {ARRIVAL_WINDOW:g} s, on two-core nodes (last run finishes, "
          f"seconds after the first press; longest wait for a slot):")
    print(f"{'backend':8} {'nodes':>5} {'slots':>5} {'one run':>8} {'last finishes':>14} {'longest wait':>13} "
          f"{'all at once':>12}")
    for row in report["table"]:
        spread, burst = row["spread_over_60s"], row["all_at_once"]
        print(f"{row['backend']:8} {row['nodes']:>5} {row['slots']:>5} {row['run_s']:>7.1f}s "
              f"{spread['last_finishes_s']:>13.0f}s {spread['longest_wait_s']:>12.0f}s "
              f"{burst['last_finishes_s']:>11.0f}s")
    for backend, measured in report["backends"].items():
        start, end = measured["launch"]["to_start_s"], measured["launch"]["to_seen_ended_s"]
        print(f"launch overhead, {backend}: submit to start {start['median']:.2f} s (min {start['min']:.2f}, max "
              f"{start['max']:.2f}); to seen ended {end['median']:.2f} s (median of {len(start['all'])})")


def measure(address: str | None, repeats: int, demos: int) -> dict:
    """Both backends, in one isolated runs root and a shared kernel cache (warmed first, so neither pays the build);
    the quick demos alternate between the backends, so a change in the machine's load hits both alike."""
    folder = Path(tempfile.mkdtemp(prefix="seqlab-classroom-"))
    os.environ.update(SEQLAB_RUNS=str(folder / "runs"), SEQLAB_CACHE=str(folder / "cache"), SEQLAB_WORKSPACES="off")
    head = None
    if address is None:
        from tests.ray_head import start_head

        head = start_head()
        address = head.address
        print(f"local Ray head at {address} (started in {head.started_in:.0f} s)", flush=True)
    os.environ["SEQLAB_RAY_ADDRESS"] = address
    try:
        report = {"measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(),
                  "load_average_before": [round(value, 1) for value in os.getloadavg()], "ray_address": address,
                  "backends": {name: {"quick_demos": []} for name in BACKENDS}}
        for name in BACKENDS:
            os.environ["SEQLAB_BACKEND"] = name
            report["backends"][name]["launch"] = measure_launch(name, folder / "probes", repeats)
            print(f"{name}: launch {report['backends'][name]['launch']['to_start_s']}", flush=True)
        if demos:
            _warm_kernels()
        for _ in range(demos):
            for name in BACKENDS:
                os.environ["SEQLAB_BACKEND"] = name
                report["backends"][name]["quick_demos"].append(measure_quick_demo(name))
                print(f"{name}: quick demo {report['backends'][name]['quick_demos'][-1]}", flush=True)
        report["load_average_after"] = [round(value, 1) for value in os.getloadavg()]
        return report
    finally:
        if head is not None:
            head.stop()


def _warm_kernels() -> None:
    from seqlab import presets
    from seqlab.runs import jobs, launch

    os.environ["SEQLAB_BACKEND"] = "local"
    model, train = presets.preset_configs("generate", "quick-demo", max_steps=2)
    jobs.wait_for(launch.start_training(model, train), timeout=600)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.classroom", description=__doc__.splitlines()[0])
    parser.add_argument("--ray-address", help="a running cluster's job server (default: start a local head)")
    parser.add_argument("--repeats", type=int, default=5, help="launches measured per backend (default 5)")
    parser.add_argument("--demos", type=int, default=2, help="quick demos per backend, alternating (default 2)")
    parser.add_argument("--model-only", action="store_true", help="reprint the table from the saved measurements")
    parser.add_argument("--out", default=str(RESULTS / "cluster.json"))
    args = parser.parse_args(argv)
    if args.model_only:
        report = json.loads(Path(args.out).read_text(encoding="utf-8"))
    else:
        report = measure(args.ray_address, args.repeats, args.demos)
    report["table"] = table(report)
    writer(Path(args.out))(report)
    print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
