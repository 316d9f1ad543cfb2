"""`python -m bench screenshots`: fresh pictures of every page for docs/screenshots/, at a laptop's and a projector's
size, taken from the real app in headless Chromium.

It trains two small real models first (a Tiny Shakespeare writer and an IMDb review model, 40 s each, side by side),
starts `streamlit run app.py` on its own runs folder with one shared workspace, and photographs Home, Data, Train
(set-up and a live run), Generate (with text and a clicked character), Score, Runs, Inside the network, Lesson,
Teacher and presenter mode, at 1400 × 1000 and 1024 × 768. A step that fails still leaves its picture (of what
went wrong) and is listed at the end; the command then exits with 1, so a broken page cannot hide behind an old
picture.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots"
SIZES = {"1400": (1400, 1000), "1024": (1024, 768)}  # a laptop; a projector's 1024 × 768
TEACHER_PASSWORD = "screenshots"
CONTENT_HEIGHT = """() => { const main = document.querySelector('[data-testid="stMain"]');
  return main ? main.scrollHeight : document.body.scrollHeight; }"""
REVIEW = ("A moving, beautifully acted film. The story drags a little in the middle, but the ending is wonderful "
          "and I would gladly watch it again.")


def add_screenshots_command(commands) -> None:
    parser = commands.add_parser("screenshots", help=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where the PNG files go (default docs/screenshots)")
    parser.add_argument("--train-seconds", type=float, default=40.0, help="time budget of each model trained first")
    parser.set_defaults(handler=lambda args: sys.exit(take_screenshots(args.out, args.train_seconds)))


def _environment(folder: Path) -> dict:
    return {**os.environ, "SEQLAB_RUNS": str(folder / "runs"), "SEQLAB_CACHE": str(folder / "cache"),
            "SEQLAB_WORKSPACES": "off", "SEQLAB_TEACHER_PASSWORD": TEACHER_PASSWORD, "PYTHONPATH": str(REPO)}


def _train(environment: dict, run_dir: Path, seconds: float, *flags: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "seqlab", "train", "--preset", "quick-demo", "--time-budget-seconds",
               str(seconds), "--out", str(run_dir), *flags]
    log = open(run_dir.parent.parent / f"{run_dir.name}.log", "w")  # noqa: SIM115 (the process holds it)
    return subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)


def _start_app(environment: dict, folder: Path) -> tuple[subprocess.Popen, str]:
    port = 8765
    log = open(folder / "streamlit.log", "w")  # noqa: SIM115 (closed with the process)
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.port",
                               str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
                              cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                return server, url
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError(f"streamlit did not start: {(folder / 'streamlit.log').read_text()[-2000:]}")


def _settle(page, seconds: float = 1.5) -> None:
    """Wait until Streamlit has finished the script run (its 'running' widget gone), then let charts draw."""
    time.sleep(0.5)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"] button')",
                           timeout=90_000)
    time.sleep(seconds)


class Photographer:
    """Takes one named picture per step and per size, and keeps the list of steps that failed."""

    def __init__(self, page, out: Path, size: str) -> None:
        self.page, self.out, self.size, self.failures = page, out / size, size, []
        self.out.mkdir(parents=True, exist_ok=True)

    def shoot(self, name: str, action) -> None:
        try:
            action(self.page)
        except Exception as error:  # noqa: BLE001 (any failure is reported, with the picture of it)
            self.failures.append(f"{self.size}/{name}: {type(error).__name__}: {str(error).splitlines()[0]}")
        self._whole_page(self.out / f"{name}.png")

    def _whole_page(self, path: Path) -> None:
        """Streamlit scrolls inside its main block, not the document, so a 'full page' screenshot would show one
        screen: the window is made as tall as the content for the picture, then put back."""
        size = self.page.viewport_size
        height = self.page.evaluate(CONTENT_HEIGHT) or size["height"]
        self.page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height), 8000))})
        time.sleep(1.0)  # charts redraw at the new size
        self.page.screenshot(path=path, full_page=True)
        self.page.set_viewport_size(size)


def _steps(url: str, runs: dict[str, str]) -> list[tuple[str, object]]:
    def open_page(path: str, wait_text: str | None = None, chart: bool = False):
        def action(page):
            page.goto(f"{url}{path}")
            if wait_text:
                page.get_by_text(wait_text).first.wait_for(timeout=90_000)
            if chart:  # a live run's charts come with the fragment's first poll, after the script run
                page.locator(".js-plotly-plot").first.wait_for(timeout=90_000)
            _settle(page)
        return action

    def generate(page):
        open_page(f"/generate?run={runs['generate']}")(page)
        page.get_by_role("button", name="Generate", exact=True).click()
        page.get_by_role("button", name="Download the text").wait_for(timeout=90_000)
        _settle(page)
        # the clickable text (the page's first chart): a click where a character is drawn explains it
        character = page.locator(".js-plotly-plot").first.locator(".scatterlayer .trace").first.locator(".point")
        character = character.nth(60)
        character.scroll_into_view_if_needed()
        box = character.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.get_by_text(re.compile(r"Character ([2-9]|\d\d+): after")).wait_for(timeout=30_000)  # not the 1st
        _settle(page)

    def score(page):
        open_page(f"/score?run={runs['classify']}")(page)
        page.get_by_role("textbox").first.fill(REVIEW)
        page.get_by_role("button", name="Score", exact=False).first.click()
        _settle(page, 3)

    def teacher(page):
        open_page("/teacher")(page)
        page.get_by_label("Teacher password").fill(TEACHER_PASSWORD)
        page.keyboard.press("Enter")
        _settle(page, 2)

    before_live = [("home", open_page("/")), ("data", open_page("/data", "Distinct characters")),
                   ("train", open_page("/train", "More settings"))]
    if "live" not in runs:
        return before_live
    return [("train-live", open_page(f"/train?run={runs['live']}", chart=True)),
            ("train-finished", open_page(f"/train?run={runs['generate']}", chart=True)), ("generate", generate),
            ("score", score), ("forecast", open_page(f"/forecast?run={runs['forecast']}", chart=True)),
            ("runs", open_page("/runs", chart=True)),
            ("inside", open_page(f"/inside?run={runs['generate']}", "How far back it looks")),
            ("lesson", open_page("/lesson", "3. Look inside")), ("teacher", teacher),
            ("presenter-home", open_page("/?present=1")),
            ("presenter-train", open_page(f"/train?present=1&run={runs['live']}", chart=True))]


def _photograph(browser, out: Path, steps) -> list[str]:
    """Every step at every size; returns the failed steps."""
    failures = []
    for size, (width, height) in SIZES.items():
        page = browser.new_page(viewport={"width": width, "height": height})
        page.set_default_timeout(30_000)
        photographer = Photographer(page, out, size)
        for name, action in steps:
            photographer.shoot(name, action)
        failures += photographer.failures
        page.close()
    return failures


def take_screenshots(out: Path, train_seconds: float) -> int:
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    folder = Path(tempfile.mkdtemp(prefix="seqlab-screenshots-"))
    environment = _environment(folder)
    (folder / "runs").mkdir()  # before the two trainings start, so they do not race to create it
    runs = {task: str(folder / "runs" / f"screenshots-{task}") for task in ("generate", "classify", "forecast", "live")}
    trainings = [_train(environment, Path(runs["generate"]), train_seconds),
                 _train(environment, Path(runs["classify"]), train_seconds, "--task", "classify", "--corpus", "imdb"),
                 _train(environment, Path(runs["forecast"]), train_seconds, "--task", "forecast", "--corpus",
                        "sunspots")]
    if any(training.wait() != 0 for training in trainings):
        logs = "".join(path.read_text()[-1500:] for path in folder.glob("*.log"))
        print(f"error: training the models for the pictures failed:\n{logs}", file=sys.stderr)
        return 1
    server, url = _start_app(environment, folder)
    names = {task: Path(path).name for task, path in runs.items()}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            trained = {task: names[task] for task in ("generate", "classify", "forecast")}
            failures = _photograph(browser, out, _steps(url, trained))
            _train(environment, Path(runs["live"]), 600, "--detach").wait()
            time.sleep(25)  # the live run's first steps and validation, so its charts have something to show
            failures += _photograph(browser, out, _steps(url, names))
            browser.close()
    finally:
        subprocess.run([sys.executable, "-m", "seqlab", "stop", names["live"]], env=environment,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server.terminate()
        server.wait(timeout=20)
    (out / "taken.json").write_text(json.dumps({"taken_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                                "sizes": list(SIZES), "failures": failures}, indent=2) + "\n")
    for failure in failures:
        print(f"failed: {failure}", file=sys.stderr)
    print(f"pictures in {out}")
    return 1 if failures else 0
