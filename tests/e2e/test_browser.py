"""The product as a person uses it: `streamlit run app.py` driven in headless Chromium.

Home → Data (Tiny Shakespeare) → Train the Quick demo → watch the loss chart grow → Stop → Generate text; then a
tiny forecast run (started after the Stop, trained while Generate is tried) drawn on the Forecast page.
Screenshots of every step land in artifacts/e2e/ (see conftest.py).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

LOSS_POINTS = """() => {
  const charts = [...document.querySelectorAll('.js-plotly-plot')];
  const loss = charts.find(chart => (chart.layout?.yaxis?.title?.text || '').toLowerCase().includes('loss'));
  // _fullData: the traces as Plotly decoded them (the app sends NumPy columns as base64 typed arrays)
  return loss ? Math.max(...loss._fullData.map(trace => (trace.x || []).length)) : 0;
}"""


FORECAST_TRACES = """() => {
  const chart = [...document.querySelectorAll('.js-plotly-plot')].find(c => (c.layout?.title?.text || '')
      .includes('Forecasts on the held-out end'));  // (Streamlit sets titles in bold)
  return chart ? Object.fromEntries(chart._fullData.map(trace => [trace.name, (trace.y || []).length])) : null;
}"""


def start_tiny_forecast(page, runs_root: Path) -> Path:
    """A forecast run of a few dozen steps on the synthetic series, in the browser's workspace, started as the Train
    page would (its own worker process)."""
    from seqlab.presets import preset_configs
    from seqlab.runs.launch import start_training
    from seqlab.runs.workspaces import Viewer

    workspace = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "seqlab_workspace")
    model, train = preset_configs("forecast", "quick-demo", corpus="seasonal-synthetic", units=16, max_steps=60)
    return start_training(model, train, runs_root, viewer=Viewer(workspace=workspace))


def _status(runs_root: Path) -> dict:
    """The one run's status ({} until the Train button has created it)."""
    statuses = [json.loads(path.read_text()) for path in runs_root.glob("*/status.json")]
    assert len(statuses) <= 1, statuses
    return statuses[0] if statuses else {}


def _wait(predicate, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def test_quick_demo_train_stop_generate(app_server, browser_page, artifacts):
    url, server = app_server
    page = browser_page
    page.goto(url)
    page.get_by_text("Generate Shakespeare").first.wait_for()
    page.screenshot(path=artifacts / "1-home.png", full_page=True)

    page.get_by_role("link", name="Data").first.click()
    page.get_by_text("Distinct characters").first.wait_for(timeout=60_000)
    page.get_by_text("1,115,394").first.wait_for()
    page.screenshot(path=artifacts / "2-data.png", full_page=True)

    page.get_by_role("button", name="Train on this corpus").click()
    page.get_by_text("Set up a new run").first.wait_for(timeout=60_000)
    page.get_by_text("Quick demo (≈ 60 s)").first.click()
    page.screenshot(path=artifacts / "3-train-setup.png", full_page=True)
    page.get_by_role("button", name="Train", exact=True).click()

    # the run lives on disk, in its own process; the page polls it
    _wait(lambda: _status(server.runs_root).get("state") == "running" and _status(server.runs_root).get("step", 0) > 0,
          120, "the training process to report steps")
    first = _wait(lambda: page.evaluate(LOSS_POINTS), 60, "the loss chart")
    grown = _wait(lambda: (points := page.evaluate(LOSS_POINTS)) > first and points, 60, "the loss chart to grow")
    assert grown > first
    page.get_by_text("After step").first.wait_for(timeout=90_000)  # the first sample (and a saved model)
    time.sleep(2)
    page.screenshot(path=artifacts / "4-train-live.png", full_page=True)

    page.get_by_role("button", name="Stop", exact=True).click()
    stopped = _wait(lambda: _status(server.runs_root).get("state") == "stopped", 30, "the run to stop")
    assert stopped
    page.get_by_text("stopped").first.wait_for(timeout=15_000)
    page.screenshot(path=artifacts / "5-train-stopped.png", full_page=True)
    forecast_run = start_tiny_forecast(page, server.runs_root)  # trains while Generate is tried below

    page.get_by_role("link", name="Generate").first.click()
    page.get_by_role("button", name="Generate", exact=True).wait_for(timeout=60_000)
    seed = page.get_by_role("textbox", name="Seed text").input_value()
    assert seed, "the Generate page offers a seed"
    page.get_by_role("button", name="Generate", exact=True).click()
    download = page.get_by_role("button", name="Download the text")
    try:
        download.wait_for(timeout=90_000)  # shown once the streamed text is complete
    finally:
        page.screenshot(path=artifacts / "6-generate.png", full_page=True)
    with page.expect_download() as saved:
        download.click()
    text = Path(saved.value.path()).read_text(encoding="utf-8")
    assert text.startswith(seed) and len(text) == len(seed) + 400, text

    # the Forecast page draws a real forecast run's forecast beside the held-out truth
    _wait(lambda: json.loads((forecast_run / "status.json").read_text())["state"] == "finished", 60,
          "the forecast run to finish")
    page.get_by_role("link", name="Forecast").first.click()
    page.get_by_text("the model's forecasts are off by").first.wait_for(timeout=60_000)
    try:
        traces = _wait(lambda: page.evaluate(FORECAST_TRACES), 30, "the forecast chart")
        assert traces["truth (held out)"] > 0 and traces["the model's forecast"] == traces["truth (held out)"]
        assert traces["the model's forecast beyond the data"] == 24  # the steps slider's default
    finally:
        page.screenshot(path=artifacts / "6b-forecast.png", full_page=True)


def test_first_visit_deep_link_gets_the_apps_router(app_server, browser_page, artifacts):
    """A fresh server's first session opening /runs directly still gets app.py's pages and wide layout."""
    url, _ = app_server
    page = browser_page
    page.goto(f"{url}/runs")
    page.get_by_role("heading", name="Runs").first.wait_for(timeout=60_000)
    page.get_by_role("link", name="Score reviews").first.wait_for()  # app.py's titles, not file names
    assert page.get_by_role("link", name="score", exact=True).count() == 0
    page.screenshot(path=artifacts / "7-deep-link-runs.png", full_page=True)
