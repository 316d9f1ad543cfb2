"""The app on the Ray backend, as a person uses it: `streamlit run app.py` with SEQLAB_BACKEND=ray and a local Ray
head (tests/ray_head.py, the session's one), driven in headless Chromium. The quick demo trains as a Ray job, its
loss chart grows live, the page says it runs on the Ray cluster, Stop ends its training within 2 s (no step logged
later; the worker then saves, as on any backend, and the job ends), Generate works on it.
Screenshots land in artifacts/e2e/ray-*.png (see conftest.py).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.test_browser import LOSS_POINTS, _status, _wait

pytest.importorskip("ray.job_submission", reason="Ray is not installed (pip install -r requirements-cluster.txt)")
STOP_SECONDS = 2.0


@pytest.fixture
def ray_app_server(ray_head, monkeypatch, request):
    """The browser tests' app server (tests/e2e/conftest.py), started with the Ray backend's settings."""
    monkeypatch.setenv("SEQLAB_BACKEND", "ray")
    monkeypatch.setenv("SEQLAB_RAY_ADDRESS", ray_head.address)
    return (*request.getfixturevalue("app_server"), ray_head.address)


def _steps(runs_root: Path) -> int:
    """Training steps logged so far by the one run."""
    (metrics,) = runs_root.glob("*/metrics.jsonl")
    return metrics.read_text(encoding="utf-8").count('"type": "step"')


def test_quick_demo_on_ray_trains_live_stops_within_2_s_and_generates(ray_app_server, browser_page, artifacts):
    url, server, address = ray_app_server
    page = browser_page
    page.goto(f"{url}/train")
    page.get_by_text("Set up a new run").first.wait_for(timeout=60_000)
    page.get_by_text("Quick demo (≈ 60 s)").first.click()
    page.get_by_role("button", name="Train", exact=True).click()

    _wait(lambda: _status(server.runs_root).get("step", 0) > 0, 180, "the Ray job to report steps")
    status = _status(server.runs_root)
    assert status["backend"] == "ray" and status["ray_submission_id"].startswith("seqlab-")
    page.get_by_text(f"Ray cluster {address}").first.wait_for(timeout=30_000)  # the page says where it runs
    try:
        first = _wait(lambda: page.evaluate(LOSS_POINTS), 60, "the loss chart")
        grown = _wait(lambda: (points := page.evaluate(LOSS_POINTS)) > first and points, 60, "the loss chart to grow")
        assert grown > first
    finally:
        page.screenshot(path=artifacts / "ray-1-train-live.png", full_page=True)

    # Stop while steps flow (the chart grew), not while Keras sets up a validation round's fit (seconds of tracing
    # without a step, on any backend); the worker then validates and saves, so Generate has a model
    before = _steps(server.runs_root)
    _wait(lambda: _steps(server.runs_root) > before, 60, "a fresh step", interval=0.05)  # it trains right now
    page.get_by_role("button", name="Stop", exact=True).click()
    clicked, last_step, last_step_at = time.monotonic(), _steps(server.runs_root), 0.0
    while _status(server.runs_root).get("state") != "stopped" and time.monotonic() - clicked < 30:
        if (steps := _steps(server.runs_root)) > last_step:
            last_step, last_step_at = steps, time.monotonic() - clicked
        time.sleep(0.05)
    stopped_at = time.monotonic() - clicked
    assert _status(server.runs_root)["state"] == "stopped", _status(server.runs_root)
    assert last_step_at <= STOP_SECONDS, f"it trained {last_step_at:.1f} s after Stop (stopped at {stopped_at:.1f} s)"
    print(f"Stop: last step {last_step_at:.2f} s after the click, state stopped after {stopped_at:.2f} s")
    page.get_by_text("stopped").first.wait_for(timeout=15_000)
    page.screenshot(path=artifacts / "ray-2-stopped.png", full_page=True)

    page.get_by_role("link", name="Generate").first.click()
    page.get_by_role("button", name="Generate", exact=True).wait_for(timeout=60_000)
    seed = _wait(lambda: page.get_by_role("textbox", name="Seed text").input_value(), 30, "the offered seed")
    page.get_by_role("button", name="Generate", exact=True).click()
    download = page.get_by_role("button", name="Download the text")
    try:
        download.wait_for(timeout=90_000)
    finally:
        page.screenshot(path=artifacts / "ray-3-generate.png", full_page=True)
    with page.expect_download() as saved:
        download.click()
    text = Path(saved.value.path()).read_text(encoding="utf-8")
    assert text.startswith(seed) and len(text) == len(seed) + 400, text
