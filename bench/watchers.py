"""`python -m bench watchers` (or `python -m bench.watchers`): what a browser watching a live run costs the app server.

One `streamlit run app.py` (tests/reliability/harness.py) on a fresh runs folder, and `--runs` tiny generation runs
that keep training through the whole measurement (a 15-minute time budget; their workers are niced and have one
thread each, so that on a small machine they take what the server and the browsers leave). The runs belong to one
workspace, whose cookie every browser context carries. Then, for 1, 4 and 8 headless Chromium pages open on
/train?run=ID (spread over the runs, round-robin), after a warm-up: the server process's CPU seconds (user +
system, all its threads; never the workers, which are not its children) over `--window` seconds, `--repeats`
times. Per watcher = (server CPU-s/s - the idle rate with no page open) / watchers. The figures go to
bench/results/watchers.json under `--label` (e.g. "before", "after"), with the commit measured.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.report_file import merge_into

RESULTS = Path(__file__).resolve().parent / "results" / "watchers.json"
WORKSPACE = "benchwatchersbenchwatchers01"  # a valid workspace id (22-64 URL-safe characters)
WATCHER_COUNTS = (1, 4, 8)
RUN_SECONDS = 900.0  # each run's time budget: longer than the whole measurement
WARM_UP_SECONDS = 15.0
PAGE_TIMEOUT_MS = 120_000


def start_runs(root: Path, count: int) -> list[Path]:
    """`count` tiny character-level runs of the bench's workspace, started now (they must all fit: max jobs)."""
    from seqlab.presets import preset_configs
    from seqlab.runs import launch
    from seqlab.runs.workspaces import Viewer

    model, train = preset_configs("generate", "quick-demo")
    model = replace(model, units=32, embedding_dim=16)
    train = replace(train, sequence_length=50, batch_size=32, time_budget_seconds=RUN_SECONDS, epochs=1000)
    viewer = Viewer(workspace=WORKSPACE, from_browser=False)  # the workspace's own runs, without a browser's caps
    return [launch.start_training(model, train, root=root, viewer=viewer) for _ in range(count)]


def wait_running(runs: list[Path], timeout: float = 240.0) -> None:
    """Until every run is training and has written step records (TensorFlow's start takes a while)."""
    from seqlab.runs import jobs, run_folder

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = [jobs.reconcile(run)["state"] for run in runs]
        if any(state not in ("queued", "running") for state in states):
            raise RuntimeError(f"a benchmark run ended early: {states}")
        metrics = [run / run_folder.METRICS for run in runs]
        if states == ["running"] * len(runs) and all(path.exists() and path.stat().st_size for path in metrics):
            return
        time.sleep(1.0)
    raise TimeoutError("the benchmark runs did not start training")


def nice_workers(runs: list[Path]) -> None:
    """Lowest CPU priority for the training processes: the server and the browsers are what is measured."""
    import psutil

    from seqlab.runs import run_folder

    for run in runs:
        pid = run_folder.read_status(run).get("pid")
        try:
            worker = psutil.Process(pid)
            for process in [worker, *worker.children(recursive=True)]:
                process.nice(19)
        except (psutil.Error, TypeError, ValueError):
            pass


def cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


class Frames:
    """Messages the browsers sent the server: one per fragment refresh (plus rare others), so a saturated machine
    whose browsers cannot keep a 1 s refresh shows up as fewer than one a second per watcher."""

    def __init__(self) -> None:
        self.sent = 0

    def watch(self, page) -> None:
        page.on("websocket", lambda socket: socket.on("framesent", self._count))

    def _count(self, _payload) -> None:
        self.sent += 1


async def measure(pid: int, window: float, repeats: int, frames: Frames) -> dict[str, list[float]]:
    """Server CPU-s/s, browser messages per second and the whole machine's busy share, for each of `repeats`
    windows of `window` seconds."""
    import psutil

    measured: dict[str, list[float]] = {"rates": [], "messages": [], "machine": []}
    for _ in range(repeats):
        psutil.cpu_percent()  # starts the machine-wide count
        start_cpu, start_frames, start = cpu_seconds(pid), frames.sent, time.monotonic()
        await asyncio.sleep(window)
        seconds = time.monotonic() - start
        measured["rates"].append((cpu_seconds(pid) - start_cpu) / seconds)
        measured["messages"].append((frames.sent - start_frames) / seconds)
        measured["machine"].append(psutil.cpu_percent() / 100.0)
    return measured


async def open_watchers(browser, url: str, run_ids: list[str], count: int, frames: Frames) -> list:
    """`count` browser contexts (the workspace's cookie), each on one run's Train page, once its charts show."""
    contexts = []
    for index in range(count):
        context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        await context.add_cookies([{"name": "seqlab_workspace", "value": WORKSPACE, "url": url}])
        page = await context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)  # a small machine with many browsers open is slow to load
        page.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
        frames.watch(page)
        await page.goto(f"{url}/train?run={run_ids[index % len(run_ids)]}", wait_until="commit")
        contexts.append((context, page))
    for _, page in contexts:
        await page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=PAGE_TIMEOUT_MS)
    return contexts


def summary(measured: dict[str, list[float]], idle: float, watchers: int) -> dict:
    """Per watcher as measured, and per refresh (CPU-s per browser message): what a watcher costs at an exact 1 s
    refresh, also where a saturated machine's browsers refresh less often."""
    above_idle = [max(0.0, rate - idle) for rate in measured["rates"]]
    per_watcher = [value / watchers for value in above_idle]
    per_refresh = [value / messages for value, messages in zip(above_idle, measured["messages"]) if messages]
    return {"watchers": watchers, "server_cpu_s_per_s": [round(rate, 4) for rate in measured["rates"]],
            "per_watcher": [round(value, 4) for value in per_watcher],
            "per_watcher_median": round(statistics.median(per_watcher), 4),
            "per_watcher_min": round(min(per_watcher), 4), "per_watcher_max": round(max(per_watcher), 4),
            "refreshes_per_watcher_per_s": [round(value / watchers, 2) for value in measured["messages"]],
            "cpu_s_per_refresh": [round(value, 4) for value in per_refresh],
            "cpu_s_per_refresh_median": round(statistics.median(per_refresh), 4) if per_refresh else None,
            "machine_busy_share": [round(value, 2) for value in measured["machine"]]}


async def one_count(browser, server, run_dirs: list[Path], count: int, method: tuple[float, int, float],
                    frames: Frames) -> dict:
    """Open `count` watchers, warm up, measure, close them; a failure is recorded, and the next count still runs."""
    window, repeats, idle = method
    contexts = []
    try:
        contexts = await open_watchers(browser, server.url, [run.name for run in run_dirs], count, frames)
        await asyncio.sleep(WARM_UP_SECONDS)
        result = summary(await measure(server.process.pid, window, repeats, frames), idle, count)
        print(f"{count} watcher(s): {result['per_watcher_median']} CPU-s/s each ({result['per_watcher_min']}"
              f"–{result['per_watcher_max']}), {result['cpu_s_per_refresh_median']} CPU-s per refresh, "
              f"refreshes/s/watcher {result['refreshes_per_watcher_per_s']}", flush=True)
    except Exception as error:  # e.g. a page that did not load on an overloaded machine
        result = {"watchers": count, "error": f"{type(error).__name__}: {str(error)[:300]}"}
        print(f"{count} watcher(s): {result['error']}", flush=True)
    for context, _ in contexts:
        await context.close()
    await asyncio.sleep(3.0)  # closed sessions end before the next count starts
    return result


async def bench(folder: Path, runs: int, window: float, repeats: int, counts: tuple[int, ...]) -> dict:
    from playwright.async_api import async_playwright

    from tests.reliability import harness

    root = folder / "runs"
    os.environ["SEQLAB_MAX_JOBS"] = str(runs)  # the server's scheduler and ours: every run trains at once
    server = harness.start_app(root, folder / "cache", folder / "server.log")
    try:
        run_dirs = start_runs(root, runs)
        wait_running(run_dirs)
        nice_workers(run_dirs)
        frames = Frames()
        idle_measured = await measure(server.process.pid, window, repeats, frames)
        idle = statistics.median(idle_measured["rates"])
        results = []
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=harness.CHROMIUM, args=harness.CHROMIUM_ARGS)
            for count in counts:
                results.append(await one_count(browser, server, run_dirs, count, (window, repeats, idle), frames))
            await browser.close()
        from seqlab.runs import jobs

        states = [jobs.reconcile(run)["state"] for run in run_dirs]
    finally:
        harness.stop_app(server)
        harness.stop_active_runs(root)
    return {"idle_server_cpu_s_per_s": [round(rate, 4) for rate in idle_measured["rates"]],
            "idle_machine_busy_share": [round(value, 2) for value in idle_measured["machine"]], "results": results,
            "run_states_at_end": states}


def code_version() -> dict | None:
    from tests.reliability.classroom import code_version as version

    return version()


def run_benchmark(label: str, runs: int, window: float, repeats: int, counts: tuple[int, ...], keep: bool) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="seqlab-watchers-"))
    started = time.monotonic()
    try:
        measured = asyncio.run(bench(folder, runs, window, repeats, counts))
    finally:
        if keep:
            print(f"kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    payload = {"code": code_version(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "cpu_cores": os.cpu_count(), "runs": runs, "window_seconds": window, "repeats": repeats,
               "refresh_seconds": 1.0, "wall_seconds": round(time.monotonic() - started, 1), **measured}
    merge_into(RESULTS, label, payload)
    return payload


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--label", default="after", help="the key in bench/results/watchers.json (before, after)")
    parser.add_argument("--runs", type=int, default=2, help="live runs the watchers are spread over")
    parser.add_argument("--window", type=float, default=15.0, help="seconds per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per watcher count")
    parser.add_argument("--watchers", default=",".join(map(str, WATCHER_COUNTS)), help="e.g. 1,4,8")
    parser.add_argument("--keep", action="store_true", help="keep the runs folder and the server log")


def handle(args: argparse.Namespace) -> None:
    counts = tuple(int(count) for count in args.watchers.split(","))
    payload = run_benchmark(args.label, args.runs, args.window, args.repeats, counts, args.keep)
    print(f"{args.label}: idle {payload['idle_server_cpu_s_per_s']} → {RESULTS}")


def add_watchers_command(commands) -> None:
    parser = commands.add_parser("watchers", help="app server CPU per browser watching a live run")
    add_arguments(parser)
    parser.set_defaults(handler=handle)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.watchers", description=__doc__.splitlines()[0])
    add_arguments(parser)
    handle(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
