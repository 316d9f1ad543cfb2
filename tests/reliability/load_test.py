"""Several people at once: `python -m tests.reliability.load_test [--sessions 4] [--minutes 2]`.

One `streamlit run app.py` with a fresh runs folder; N browser contexts (one per person) in Debian chromium. Each
one, for at least the given minutes, trains a tiny step-capped run from the Train page, watches it to its end
(beyond jobs.max_concurrent_jobs() runs wait in the queue, and the page says how many are ahead), then generates
text from it on the Generate page, twice. Every exception, traceback, error box, failed run and page timeout counts
as an error. The figures go to bench/results/reliability.json under "load_test". Not collected by pytest (conftest.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from seqlab.runs.states import FINAL as FINAL_STATES
from tests.reliability import harness

GENERATIONS_PER_RUN = 2
RUN_TIMEOUT_SECONDS = 600  # a run may wait behind every other session's run
SCREENSHOTS = harness.REPO / "artifacts" / "reliability"  # what a session saw when it counted an error


class Tally:
    """What all sessions saw; asyncio runs them in one thread, so plain counters are safe."""

    def __init__(self):
        self.trainings_started = self.trainings = self.generations = 0
        self.queue_positions: list[int] = []
        self.errors: list[str] = []
        self.rss_samples: list[float] = []

    async def check(self, session: int, page, what: str) -> None:
        for problem in await harness.problems(page):
            self.errors.append(f"session {session}, {what}: {problem}")


async def person(session: int, browser, url: str, end: float, tally: Tally) -> None:
    """One browser context: train, watch, generate; again until the time is up."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(90_000)
    while time.monotonic() < end:
        try:
            run_id = await harness.start_tiny_training(page, url)
            tally.trainings_started += 1
            await tally.check(session, page, f"starting {run_id}")
            positions: list[int] = []
            state = await harness.watch_run(page, FINAL_STATES, RUN_TIMEOUT_SECONDS, positions)
            tally.queue_positions += sorted(set(positions))
            await tally.check(session, page, f"run {run_id} ended {state}")
            if state != "finished":
                tally.errors.append(f"session {session}: run {run_id} ended {state}")
                continue
            tally.trainings += 1
            for _ in range(GENERATIONS_PER_RUN):
                await harness.generate_text(page, url, run_id)
                tally.generations += 1
                await tally.check(session, page, f"generating with {run_id}")
        except Exception as error:  # a page timeout, or the page not behaving: counted, and the person goes on
            tally.errors.append(f"session {session}: {type(error).__name__}: {str(error)[:300]}")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=SCREENSHOTS / f"session-{session}-error-{len(tally.errors)}.png", full_page=True)
            await asyncio.sleep(1)
    await context.close()


async def sample_memory(pid: int, tally: Tally, stop: asyncio.Event) -> None:
    while not stop.is_set():
        tally.rss_samples.append(harness.resident_mb(pid))
        try:
            await asyncio.wait_for(stop.wait(), timeout=2.0)
        except TimeoutError:
            pass


async def run_load(sessions: int, minutes: float, port: int, folder: Path) -> dict:
    from playwright.async_api import async_playwright

    from seqlab.runs import jobs

    root = folder / "runs"
    server = harness.start_app(root, folder / "cache", folder / "server.log", port)
    tally, stop = Tally(), asyncio.Event()
    started = time.monotonic()
    try:
        memory = asyncio.create_task(sample_memory(server.process.pid, tally, stop))
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=harness.CHROMIUM, args=harness.CHROMIUM_ARGS)
            end = time.monotonic() + minutes * 60
            await asyncio.gather(*(person(index + 1, browser, server.url, end, tally) for index in range(sessions)))
            await browser.close()
        stop.set()
        await memory
        final_rss = harness.resident_mb(server.process.pid)
        states = Counter(run["status"]["state"] for run in jobs.list_runs(root))
    finally:
        harness.stop_app(server)
        harness.stop_active_runs(root)
    return {
        "sessions": sessions, "minutes": minutes, "wall_seconds": round(time.monotonic() - started, 1),
        "cpu_cores": os.cpu_count(), "max_concurrent_jobs": jobs.max_concurrent_jobs(),
        "run_config": {**harness.TINY_KNOBS, "Step cap": harness.TINY_STEP_CAP, "corpus": "tiny-shakespeare"},
        "trainings_started": tally.trainings_started, "trainings": tally.trainings,
        "generations": tally.generations,
        "queue_positions_seen": {str(ahead): count for ahead, count in sorted(Counter(tally.queue_positions).items())},
        "run_states": dict(states), "errors": len(tally.errors), "error_messages": tally.errors[:30],
        "server_rss_mb": {"first": round(tally.rss_samples[0], 1), "peak": round(max(tally.rss_samples), 1),
                          "last": round(final_rss, 1)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.load_test", description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=4, help="browser sessions at once")
    parser.add_argument("--minutes", type=float, default=2.0, help="how long each session keeps starting work")
    parser.add_argument("--port", type=int, default=8611)
    parser.add_argument("--keep", action="store_true", help="keep the runs folder and the server log")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="seqlab-load-"))
    try:
        result = asyncio.run(run_load(args.sessions, args.minutes, args.port, folder))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    path = harness.merge_result("load_test", result)
    print(f"{result['sessions']} sessions × {result['minutes']:g} min: {result['trainings']} trainings, "
          f"{result['generations']} generations, queue positions seen {result['queue_positions_seen']}, "
          f"{result['errors']} errors, server RSS peak {result['server_rss_mb']['peak']} MB → {path}")
    for message in result["error_messages"]:
        print(f"  {message}", file=sys.stderr)
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
