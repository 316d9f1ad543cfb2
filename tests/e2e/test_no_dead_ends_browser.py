"""No dead ends, in a real browser on `streamlit run app.py` (issue 25, item 3).

A small Tiny Shakespeare run (the quick demo at 64 units, 5 minutes) is started for the browser's workspace.
Generate, opened before the run has a model, offers it by itself once it saved one (no reload), marked "still
training", and writes from it. Stop on Train: the charts stay on screen while the run stops; Generate
(reached through the menu, no reload) writes from the stopped run within 5 s; Train shows the stopped run's progress
as its share of the plan (status.json's step ÷ planned steps). Screenshots: artifacts/e2e/no-dead-ends-*.png.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.e2e.conftest import wait_until

PLOTS = "[data-testid='stPlotlyChart'] .js-plotly-plot"  # a drawn Plotly chart
# the fewest charts on screen after any change of the page (a MutationObserver sees every state the page passes
# through): chart elements holding their height. Inside one, Plotly redraws the figure each time the chart is rebuilt
# (Streamlit remounts a Plotly chart whose figure changed), so the drawn plot itself is absent for a moment then.
WATCH_CHARTS = """() => {
    const shown = () => Array.from(document.querySelectorAll("[data-testid='stPlotlyChart']"))
        .filter(chart => chart.offsetHeight > 100).length;
    window.seqlabFewestCharts = shown();
    window.seqlabChartDrops = [];
    new MutationObserver(() => {
        const now = shown();
        window.seqlabFewestCharts = Math.min(window.seqlabFewestCharts, now);
        if (now < 3) window.seqlabChartDrops.push([Math.round(performance.now()), now,
            document.querySelector("[data-testid='stMain']")?.innerText.slice(0, 300)]);
    }).observe(document.body, {childList: true, subtree: true, attributes: true});
}"""


def status(run_dir: Path) -> dict:
    try:
        return json.loads((run_dir / "status.json").read_text())
    except (OSError, ValueError):  # replaced at this very moment
        return {}


def start_small_run(root: Path, workspace: str) -> Path:
    from seqlab.presets import preset_configs
    from seqlab.runs.launch import start_training
    from seqlab.runs.workspaces import Viewer

    model, train = preset_configs("generate", "quick-demo", corpus="tiny-shakespeare", units=64, embedding_dim=32,
                                  time_budget_seconds=300.0)  # stopped long before
    return start_training(model, train, root, viewer=Viewer(workspace=workspace))


def open_in_menu(page, title: str) -> None:
    """Streamlit's own page menu: the app switches pages without reloading the browser page."""
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text=title).first.click()


def chosen_label(page) -> str:
    """The picker's shown choice (a text, or the value of its search box, by Streamlit version)."""
    return page.locator("[data-testid='stSelectbox']").first.evaluate(
        "box => box.innerText + ' ' + Array.from(box.querySelectorAll('input')).map(input => input.value).join(' ')")


def generate_text(page, seed: str, timeout: float = 30.0) -> float:
    """Write from `seed`, uncoloured (plain text); the seconds from pressing Generate until the text is there."""
    toggle = page.locator("[data-testid='stCheckbox']").filter(has_text="Colour by confidence").locator("input")
    if toggle.is_checked():
        page.get_by_text("Colour by confidence").click()
        wait_until(lambda: not toggle.is_checked(), 10, "the colouring to be off")
    page.get_by_role("textbox", name="Seed text").fill(seed)
    started = time.monotonic()
    page.get_by_role("button", name="Generate", exact=True).click()
    page.locator("[data-testid='stCode']").filter(has_text=seed).first.wait_for(timeout=timeout * 1000)
    return time.monotonic() - started


def test_generate_while_training_after_stop_and_the_stopped_share(app_server, browser_page, artifacts):
    try:
        _generate_while_training_after_stop(*app_server, browser_page, artifacts)
    except BaseException:
        browser_page.screenshot(path=artifacts / "no-dead-ends-failed.png", full_page=True)
        (artifacts / "no-dead-ends-failed.html").write_text(browser_page.content())
        raise


def _generate_while_training_after_stop(url: str, server, page, artifacts: Path) -> None:
    page.goto(url)
    page.get_by_text("Try it in one click").first.wait_for()
    workspace = wait_until(lambda: next((c["value"] for c in page.context.cookies()
                                         if c["name"] == "seqlab_workspace"), None), 20, "the workspace cookie")
    run_dir = start_small_run(server.runs_root, workspace)
    page.evaluate("window.__seqlab_not_reloaded = true")  # gone if the browser page ever reloads

    # (1) Generate before the run has a model: it says so, then offers the running run by itself, marked
    open_in_menu(page, "Generate")
    page.get_by_text("There is no trained text generation model yet").first.wait_for()
    page.get_by_text("Still training").first.wait_for(timeout=60_000)  # its first model, no reload
    assert status(run_dir)["state"] == "running"
    assert "still training — model from step" in chosen_label(page)
    generate_text(page, "ROMEO:", timeout=90.0)  # the server's first model: TensorFlow is imported now
    page.screenshot(path=artifacts / "no-dead-ends-1-generate-while-training.png", full_page=True)

    # (2) Stop on Train: the charts stay while it stops; then Generate writes within 5 s, without a reload
    page.goto(f"{url}/train?run={run_dir.name}")
    page.locator(PLOTS).first.wait_for(timeout=30_000)
    page.evaluate("window.__seqlab_not_reloaded = true")
    page.locator(PLOTS).nth(2).wait_for()
    page.evaluate(WATCH_CHARTS)
    page.get_by_role("button", name="Stop", exact=True).click()
    clicked = page.evaluate("Math.round(performance.now())")
    wait_until(lambda: status(run_dir).get("state") == "stopped" and page.get_by_text("Resume").count(), 60,
               "the run to stop")
    time.sleep(1.0)  # and the page to redraw the ended run
    fewest = page.evaluate("window.seqlabFewestCharts")
    drops = page.evaluate("window.seqlabChartDrops")
    assert fewest >= 3, (f"a chart left the page while the run stopped (fewest on screen: {fewest}; Stop pressed at "
                         f"{clicked} ms; {drops})")
    page.screenshot(path=artifacts / "no-dead-ends-2-stopped.png", full_page=True)
    open_in_menu(page, "Generate")
    wait_until(lambda: f"run={run_dir.name}" in page.url, 5, "Generate to pick the stopped run")
    assert generate_text(page, "KING:") < 5.0
    assert page.evaluate("window.__seqlab_not_reloaded === true")
    assert page.get_by_text("Still training").count() == 0
    page.screenshot(path=artifacts / "no-dead-ends-3-generate-after-stop.png", full_page=True)

    # (3) the stopped run's progress is its share of the plan
    open_in_menu(page, "Train")
    bar = page.locator("[data-testid='stProgress']").first
    bar.wait_for()
    shown = bar.inner_text()
    final = status(run_dir)
    share = final["step"] / final["planned_steps"]
    assert final["plan_rule"] == "time budget" and 0.0 < share < 1.0
    assert abs(final["progress"] - share) < 1e-9
    assert shown.startswith(f"{share:.0%}"), (shown, final)  # the page rounds as this does
    assert f"step {final['step']:,} of ≈{final['planned_steps']:,} (time budget)" in shown
