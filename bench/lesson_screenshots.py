"""`python -m bench lesson-screenshots`: the pictures of docs/lessons.md, from the real app on real trained runs.

Unlike `bench screenshots` (which trains two 40 s models of its own), this one photographs a runs root that
already holds the lesson's models — a Tiny Shakespeare LSTM and SimpleRNN, and the race and probe if they were run
(`python -m seqlab race …`, `python -m seqlab probe memory …` with the same --runs-root) — so the pictures show
the models the document's figures come from. It starts `streamlit run app.py` on that root (isolation off: one
person's laptop), opens "Inside the network" on the LSTM, clicks one character of the passage, and saves the
whole page plus its hidden-state heatmap, influence strip and reach chart on their own, then the Lesson page.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from pathlib import Path

from bench.screenshots import REPO, Photographer, _environment, _settle, _start_app

OUT = REPO / "docs" / "lessons"
CLICKED_CHARACTER = 197  # the sample passage's closing quote (after "I love."): does it look back to the opening?


def add_lesson_screenshots_command(commands) -> None:
    parser = commands.add_parser("lesson-screenshots", help=__doc__.splitlines()[0])
    parser.add_argument("--runs-root", type=Path, required=True, help="the runs root holding the lesson's runs")
    parser.add_argument("--run", required=True, help="the run id of the text model to look inside (an LSTM)")
    parser.add_argument("--compare", help="the name of the run whose reach is drawn beside it (default: the page's)")
    parser.add_argument("--out", type=Path, default=OUT, help="where the PNG files go (default docs/lessons)")
    parser.set_defaults(handler=lambda args: sys.exit(
        take_lesson_screenshots(args.runs_root, args.run, args.out, args.compare)))


def _compare_with(page, name: str) -> None:
    """Empty the page's "Compare with" box, then pick the run called `name` in it, as a person would."""
    box = page.get_by_test_id("stMultiSelect").filter(has_text="Compare with")
    box.scroll_into_view_if_needed()
    box.get_by_role("button", name="Clear all").click()
    _settle(page, 2)
    box.locator("input").fill(name)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    _settle(page, 3)


def _inside(url: str, run: str, out: Path, compare: str | None):
    def action(page):
        page.goto(f"{url}/inside?run={run}")
        page.get_by_text("How far back it looks").wait_for(timeout=120_000)
        _settle(page, 3)
        if compare:
            _compare_with(page, compare)
        charts = page.locator(".js-plotly-plot")
        text_map = charts.nth(charts.count() - 3)  # the clickable passage, then the strip, then the reach chart
        character = text_map.locator(".scatterlayer .trace").first.locator(".point").nth(CLICKED_CHARACTER)
        character.scroll_into_view_if_needed()
        box = character.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.get_by_text(re.compile(rf"Character {CLICKED_CHARACTER + 1}:")).wait_for(timeout=60_000)
        _settle(page, 3)
        for name, chart in (("inside-heatmap", charts.first), ("inside-influence", charts.nth(charts.count() - 2)),
                            ("inside-reach", charts.last)):
            chart.scroll_into_view_if_needed()
            chart.screenshot(path=out / f"{name}.png")
    return action


def _lesson(url: str):
    def action(page):
        page.goto(f"{url}/lesson")
        page.get_by_text("3. Look inside").first.wait_for(timeout=90_000)
        _settle(page, 4)
    return action


def take_lesson_screenshots(runs_root: Path, run: str, out: Path, compare: str | None = None) -> int:
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    folder = Path(tempfile.mkdtemp(prefix="seqlab-lesson-shots-"))
    environment = {**_environment(folder), "SEQLAB_RUNS": str(Path(runs_root).resolve())}
    out.mkdir(parents=True, exist_ok=True)
    server, url = _start_app(environment, folder)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            photographer = Photographer(page, out.parent, out.name)  # pictures straight into `out`
            photographer.shoot("inside", _inside(url, run, out, compare))
            photographer.shoot("lesson", _lesson(url))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    taken = {"taken_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "run": run, "compare": compare,
             "failures": photographer.failures}
    (out / "screenshots.json").write_text(json.dumps(taken, indent=2) + "\n")
    for failure in photographer.failures:
        print(f"failed: {failure}", file=sys.stderr)
    print(f"pictures in {out}")
    return 1 if photographer.failures else 0
