"""Does the app server leak? `python -m tests.reliability.memory_test [--runs 20]`.

One `streamlit run app.py`, one browser session: tiny step-capped trainings started one after another from the
Train page, each watched by the live page until it finishes (charts, samples and the queue all redrawn every
second). The server's resident memory (VmRSS) is read after the first run (warm: TensorFlow-free pages and caches
loaded) and after the last; the growth in between should stay under 300 MB. Results go to
bench/results/reliability.json under "memory". Not collected by pytest (conftest.py).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

from seqlab.runs.states import FINAL as FINAL_STATES
from tests.reliability import harness

GOAL_MB = 300.0
RUN_TIMEOUT_SECONDS = 300


async def measure(runs: int, port: int, folder: Path) -> dict:
    from playwright.async_api import async_playwright

    root = folder / "runs"
    server = harness.start_app(root, folder / "cache", folder / "server.log", port)
    pid, errors, rss, states = server.process.pid, [], [], []
    started = time.monotonic()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=harness.CHROMIUM, args=harness.CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(90_000)
            for index in range(runs):
                try:
                    run_id = await harness.start_tiny_training(page, server.url)
                    state = await harness.watch_run(page, FINAL_STATES, RUN_TIMEOUT_SECONDS)
                    await asyncio.sleep(1.5)  # the ended run is drawn once more, outside the polling fragment
                    states.append(state)
                    if state != "finished":
                        errors.append(f"run {index + 1} ({run_id}) ended {state}")
                    errors += [f"run {index + 1}: {problem}" for problem in await harness.problems(page)]
                except Exception as error:  # a page timeout: counted; the next run still measures
                    errors.append(f"run {index + 1}: {type(error).__name__}: {str(error)[:300]}")
                rss.append(round(harness.resident_mb(pid), 1))
                print(f"run {index + 1}/{runs}: {states[-1] if states else '?'}, server RSS {rss[-1]} MB",
                      file=sys.stderr, flush=True)
            await browser.close()
    finally:
        harness.stop_app(server)
        harness.stop_active_runs(root)
    growth = rss[-1] - rss[0]
    return {"runs": runs, "wall_seconds": round(time.monotonic() - started, 1),
            "run_config": {**harness.TINY_KNOBS, "Step cap": harness.TINY_STEP_CAP, "corpus": "tiny-shakespeare"},
            "finished": states.count("finished"), "rss_mb_after_first_run": rss[0], "rss_mb_after_last_run": rss[-1],
            "growth_mb": round(growth, 1), "goal_mb": GOAL_MB, "within_goal": growth < GOAL_MB,
            "rss_mb_after_each_run": rss, "errors": len(errors), "error_messages": errors[:30]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.memory_test", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="trainings one after another (at least 2)")
    parser.add_argument("--port", type=int, default=8612)
    parser.add_argument("--keep", action="store_true", help="keep the runs folder and the server log")
    args = parser.parse_args(argv)
    if args.runs < 2:
        parser.error("--runs must be at least 2: the first run warms the server up")
    folder = Path(tempfile.mkdtemp(prefix="seqlab-memory-"))
    try:
        result = asyncio.run(measure(args.runs, args.port, folder))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    path = harness.merge_result("memory", result)
    print(f"{result['runs']} runs ({result['finished']} finished): server RSS {result['rss_mb_after_first_run']} MB "
          f"after the first, {result['rss_mb_after_last_run']} MB after the last, growth {result['growth_mb']} MB "
          f"(goal < {GOAL_MB:g}), {result['errors']} errors → {path}")
    for message in result["error_messages"]:
        print(f"  {message}", file=sys.stderr)
    return 0 if result["within_goal"] and not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
