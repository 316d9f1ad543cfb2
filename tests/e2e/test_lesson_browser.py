"""The Lesson page walked end to end in headless Chromium against a real `streamlit run app.py`, rehearsed with the
operator's short budget (SEQLAB_LESSON_SECONDS=2): start the race and see its four runners overlaid and the verdict,
start the memory probe with two distances and see the accuracy-against-N chart and its sentence, then follow step
3's link to the Inside the network page with the race's LSTM. Real runs: about a minute on 2 cores.

Screenshots: artifacts/e2e/lesson-*.png (see conftest.py).
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import wait_idle, wait_until

CELLS = ["SimpleRNN", "LSTM", "GRU"]  # the memory probe's; the race adds the Transformer
RACERS = [*CELLS, "Tiny Transformer"]


@pytest.fixture
def rehearsal(monkeypatch):
    """The operator's knobs for a rehearsal, set before the server starts (it copies the environment): 2 s per race
    run (the probe's runs as well) and two trainings at once; a browser's share of the queue is the default."""
    monkeypatch.setenv("SEQLAB_LESSON_SECONDS", "2")
    monkeypatch.setenv("SEQLAB_MAX_JOBS", "2")


def legend(page, chart: int) -> list[str]:
    """The cells named in the legend of the page's chart number `chart` (0: the first)."""
    entries = page.locator(".js-plotly-plot").nth(chart).locator(".legendtext").all_text_contents()
    return [entry.split(" · ")[0] for entry in entries]


def success_boxes(page) -> list[str]:
    return page.get_by_test_id("stAlertContentSuccess").all_inner_texts()


def test_the_lesson_runs_end_to_end(rehearsal, app_server, browser_page, artifacts):
    url, _ = app_server
    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 2400})  # the three steps in one screenshot
    page.goto(f"{url}/lesson")
    page.get_by_role("heading", name="Lesson: why gates?").wait_for(timeout=60_000)
    wait_idle(page)
    assert page.get_by_text("Each cell trains for 2 s").is_visible()

    page.get_by_role("button", name="Start the race").click()
    verdict = wait_until(lambda: success_boxes(page), 90, "the race's verdict")[0]
    assert re.search(r"After 2 s each with the same units \(256\).*: (\w+) learned", verdict) or \
        "learned about as much" in verdict, verdict
    wait_until(lambda: legend(page, 0) == RACERS, 10, "the four runs overlaid on the race chart")
    page.mouse.move(0, 0)
    page.screenshot(path=artifacts / "lesson-race.png")

    steps = page.get_by_role("toolbar", name="Steps back (N)")
    for distance, runs in (("10", 9), ("40", 6)):  # of the default 5, 10, 20, 40: two distances, six runs
        steps.get_by_role("button", name=distance, exact=True).click()
        wait_until(lambda runs=runs: f"{runs} runs of 2 s each" in page.get_by_test_id("stMain").inner_text(), 30,
                   f"the page to count {runs} runs")
    wait_idle(page)
    page.get_by_role("button", name="Start the memory probe").click()
    sentence = wait_until(lambda: len(success_boxes(page)) > 1 and success_boxes(page)[1], 120,
                          "the memory probe's sentence")
    assert all(cell in sentence for cell in CELLS) and "(guessing: 12%)" in sentence, sentence  # 2 s: guessing, yet
    assert "still to score" not in sentence, sentence
    assert page.get_by_text("6 of 6 runs done").is_visible()
    wait_until(lambda: legend(page, 1) == CELLS, 10, "a line per cell on the accuracy chart")
    assert "guessing (12%)" in page.locator(".js-plotly-plot").nth(1).locator(".annotation-text").all_text_contents()
    page.mouse.move(0, 0)
    page.screenshot(path=artifacts / "lesson-probe.png")

    page.get_by_role("link", name="Look inside the race's LSTM").click()
    page.get_by_role("heading", name="Inside the network").wait_for(timeout=60_000)
    wait_until(lambda: "run=" in page.url and "-lstm-" in page.url, 10, "the race's LSTM in the address")
    wait_idle(page, timeout=60)
    page.screenshot(path=artifacts / "lesson-inside.png")
