"""What the fault test and the reliability scripts share: a real `streamlit run app.py`, and a person's moves in it.

The moves are async Playwright, so one browser can drive several sessions (contexts) at once. Selectors are the
labels a person reads (the knobs' labels, the buttons' names) plus Streamlit's data-testid attributes for alerts.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from bench.report_file import merge_into
from tests.conftest import REPO
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: F401  (Debian chromium and its flags)

RESULTS = REPO / "bench" / "results" / "reliability.json"
# A generation run that finishes in seconds: 16 LSTM units, 20 steps of 32 × 50 characters of Tiny Shakespeare.
TINY_KNOBS = {"Units per layer": 16, "Embedding size": 8, "Sequence length (characters)": 50, "Batch size": 32}
TINY_STEP_CAP = 20
PROBLEM_SELECTORS = {"exception": '[data-testid="stException"]', "error box": '[data-testid="stAlertContentError"]'}
WAITING = re.compile(r"Waiting: (\d+) runs? ahead")


@dataclass
class AppServer:
    url: str
    process: subprocess.Popen
    log_path: Path


def free_port(preferred: range = range(8613, 8620)) -> int:
    """A free loopback port, from `preferred` when one is free (so parallel work elsewhere keeps its ports)."""
    for port in [*preferred, 0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port")


def start_app(runs_root: Path, cache: Path, log_path: Path, port: int | None = None,
              timeout: float = 90.0) -> AppServer:
    """`streamlit run app.py` on loopback with its own runs root; returns once /_stcore/health answers."""
    port = port or free_port()
    environment = {**os.environ, "SEQLAB_RUNS": str(runs_root), "SEQLAB_CACHE": str(cache), "PYTHONPATH": str(REPO),
                   "SEQLAB_WORKSPACES": "on"}
    with open(log_path, "a") as log:
        process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                                    "--server.address", "127.0.0.1", "--server.headless", "true",
                                    "--browser.gatherUsageStats", "false"],
                                   cwd=REPO, env=environment, stdout=log, stderr=subprocess.STDOUT)
    server = AppServer(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if healthy(server.url):
            return server
        time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"streamlit did not start:\n{log_path.read_text()[-3000:]}")


def healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200
    except OSError:
        return False


def stop_app(server: AppServer) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def stop_active_runs(root: Path) -> None:
    """Workers outlive the server by design (their own sessions): stop what is left after a test or script."""
    from seqlab.runs import jobs

    if not root.exists():
        return
    for state in ("queued", "running", "stopping"):  # queued first, so that no exiting worker starts them
        for run in jobs.list_runs(root):
            if run["status"]["state"] == state:
                jobs.stop(Path(run["path"]), wait=True, root=root)


def kill_process(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def resident_mb(pid: int) -> float:
    """VmRSS of a process, in MB, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def merge_result(key: str, payload: dict) -> Path:
    """Write `payload` under `key` of bench/results/reliability.json, keeping every other key."""
    return merge_into(RESULTS, key, payload)


async def wait_idle(page, quiet: float = 0.4, timeout: float = 60.0) -> None:
    """Until Streamlit has not shown its running indicator for `quiet` seconds (a rerun has finished)."""
    running = page.locator('[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"]')
    deadline, calm_since = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        if await running.count():
            calm_since = None
        elif calm_since is None:
            calm_since = time.monotonic()
        elif time.monotonic() - calm_since >= quiet:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("the page kept running")


async def problems(page, allowed: tuple[str, ...] = ()) -> list[str]:
    """Exceptions, tracebacks and error boxes on the page (errors containing an `allowed` text excepted)."""
    found = []
    for kind, selector in PROBLEM_SELECTORS.items():
        for text in await page.locator(selector).all_inner_texts():
            if not any(fragment in text for fragment in allowed):
                found.append(f"{kind}: {text.strip()[:300]}")
    if "Traceback" in await page.locator("body").inner_text():
        found.append("a traceback is shown")
    return found


async def open_setup(page) -> None:
    """Open the Train page's "Set up a new run" and its "More settings" expanders (closed while a run is shown)."""
    for title in ("Set up a new run", "More settings"):
        summary = page.locator("summary", has_text=title).last  # the innermost: expanders nest
        await summary.wait_for(timeout=60_000)
        if await summary.locator("xpath=..").get_attribute("open") is None:
            await summary.click()
        await wait_idle(page)


async def set_number(page, label: str, value: float) -> None:
    field = page.get_by_label(label, exact=True)
    await field.fill(str(value))
    await field.press("Enter")
    await wait_idle(page)


async def start_tiny_training(page, url: str, knobs: dict | None = None, step_cap: int = TINY_STEP_CAP) -> str:
    """Train page → tiny knobs and a step cap → Train; returns the new run's id (the page puts it in the URL)."""
    await page.goto(f"{url}/train")
    await page.get_by_text("Set up a new run").first.wait_for(timeout=60_000)
    await wait_idle(page)
    await open_setup(page)
    for label, value in (knobs or TINY_KNOBS).items():
        await set_number(page, label, value)
    await set_number(page, "Step cap (0 = no cap)", step_cap)
    before = page.url
    for attempt in range(3):  # a run ending elsewhere on the page reruns it whole, which may fold the form away
        try:
            await page.get_by_role("button", name="Train", exact=True).click(timeout=15_000)
            break
        except Exception:
            if attempt == 2:
                raise
            await open_setup(page)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = re.search(r"[?&]run=([A-Za-z0-9._-]+)", page.url)
        if match and page.url != before:
            return match.group(1)
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the Train button did not start a run; page problems: {await problems(page)}")


async def badge_state(page) -> str | None:
    """The run's state as its badge shows it (the page's only badge)."""
    badges = await page.locator("span.stMarkdownBadge").all_inner_texts()
    for text in badges:
        for state in ("queued", "running", "stopping", "stopped", "finished", "failed", "interrupted", "damaged"):
            if state in text:
                return state
    return None


async def watch_run(page, states: Collection[str], timeout: float, queue_positions: list[int] | None = None) -> str:
    """Watch the live page until its badge shows one of `states`; records every "Waiting: N runs ahead" seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if queue_positions is not None:
            for text in await page.locator('[data-testid="stAlertContentInfo"]').all_inner_texts():
                match = WAITING.search(text)
                if match:
                    queue_positions.append(int(match.group(1)))
        state = await badge_state(page)
        if state in states:
            return state
        await asyncio.sleep(0.5)
    raise TimeoutError(f"the run did not reach {sorted(states)}; the page shows {await badge_state(page)}")


async def generate_text(page, url: str, run_id: str, timeout: float = 90.0) -> str:
    """Generate page for `run_id` → Generate → the written text (waits until a new text is shown)."""
    if f"run={run_id}" not in page.url or "/generate" not in page.url:
        await page.goto(f"{url}/generate?run={run_id}")
    button = page.get_by_role("button", name="Generate")
    await button.wait_for(timeout=60_000)
    await wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    before = await main.inner_text()  # a new text (no fixed random seed) changes the page
    await button.click()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await main.inner_text() != before and await page.get_by_role("button", name="Download the text").count():
            await wait_idle(page)
            return await main.inner_text()
        await asyncio.sleep(0.3)
    raise TimeoutError(f"no generated text; page problems: {await problems(page)}")
