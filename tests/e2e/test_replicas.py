"""Two app servers (replicas) on one runs folder, in one browser (issue 24 item 5).

Behind a reverse proxy every replica serves the same address; here each has its own port, and the browser's
workspace cookie (cookies ignore the port) makes both replicas see the same workspace, as the proxy would. A run is
started on replica A, watched live on replica B (its chart grows there), stopped on B, and A shows it stopped.
Screenshots: artifacts/e2e/replicas-*.png.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import CHROMIUM_ARGS, wait_until
from tests.reliability import harness

LAST_STEP_CHARTED = """() => {
  const charts = [...document.querySelectorAll('.js-plotly-plot')];
  const loss = charts.find(chart => (chart.layout?.yaxis?.title?.text || '').toLowerCase().includes('loss'));
  const x = loss?._fullData?.[0]?.x || [];  // decoded: the spec sends NumPy columns as base64 typed arrays
  return x.length ? Number(x[x.length - 1]) : 0;
}"""


@pytest.fixture
def replicas(tmp_path):
    """Two `streamlit run app.py` servers on the same runs folder; yields them and the folder."""
    root, started = tmp_path / "runs", []
    try:
        for name in ("a", "b"):
            started.append(harness.start_app(root, tmp_path / "cache", tmp_path / f"replica-{name}.log"))
        yield started, root
    finally:
        for server in started:
            harness.stop_app(server)
        harness.stop_active_runs(root)


def state(run_dir: Path) -> str:
    return json.loads((run_dir / "status.json").read_text())["state"]


def badge(page) -> str:
    """The run's state as its badge shows it (the page's only badge)."""
    return " ".join(page.locator("span.stMarkdownBadge").all_inner_texts())


def last_step_charted(page) -> float:
    return page.evaluate(LAST_STEP_CHARTED)


def test_a_run_started_on_one_replica_is_watched_and_stopped_on_the_other(replicas, chromium_path, artifacts):
    from playwright.sync_api import sync_playwright

    (replica_a, replica_b), root = replicas
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(90_000)
        on_a = context.new_page()
        on_a.goto(replica_a.url)
        on_a.get_by_role("button", name="Generate Shakespeare").click()  # the quick demo, started through A
        on_a.wait_for_url(re.compile(r"/train\?run="))
        run_id = re.search(r"run=([^&]+)", on_a.url).group(1)
        run_dir = root / run_id

        on_b = context.new_page()  # the same browser, so the same workspace cookie: B lets it control the run
        on_b.goto(f"{replica_b.url}/train?run={run_id}")
        on_b.get_by_text(f"Run {run_id}").first.wait_for()
        on_b.locator(".js-plotly-plot").first.wait_for()
        first = wait_until(lambda: last_step_charted(on_b), 60, "the first steps charted on B")
        wait_until(lambda: last_step_charted(on_b) > first, 60, "B's chart to grow as the run trains")
        on_b.screenshot(path=artifacts / "replicas-1-b-watches.png", full_page=True)

        on_b.get_by_role("button", name="Stop", exact=True).first.click()
        wait_until(lambda: state(run_dir) == "stopped", 60, "the run to stop")
        wait_until(lambda: "stopped" in badge(on_a), 30, "A to show the run stopped")
        on_a.screenshot(path=artifacts / "replicas-2-a-sees-it-stopped.png", full_page=True)
        browser.close()
