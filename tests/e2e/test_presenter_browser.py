"""Presenter mode and the clickable Generate text, in headless Chromium against a real `streamlit run app.py`.

Presenter mode: `?present=1` gives larger type than normal (a computed font size), a collapsed sidebar, the menu
at the top and the quick demos above the page; moving to another page keeps it; its switch turns it off. Generate:
clicking a character of a tiny trained run's text explains that character. Score: a review model with attention
pooling shows where it looked beside what changed its verdict. Screenshots: artifacts/e2e/presenter-*.
"""

from __future__ import annotations

import re
import time

from tests.e2e.conftest import wait_until

DEMO_BUTTONS = ("Quick text demo", "Quick review demo")


def font_px(page, selector: str) -> float:
    return page.evaluate(f"() => parseFloat(getComputedStyle(document.querySelector({selector!r})).fontSize)")


def sidebar_width(page) -> float:
    return page.evaluate("() => { const s = document.querySelector('[data-testid=\"stSidebar\"]');"
                         " return s ? s.getBoundingClientRect().width : 0 }")


def settle(page, heading: str) -> None:
    page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
    time.sleep(1.0)  # the page's last elements and the injected style


def demo_buttons_on_top(page) -> bool:
    """Both quick-demo buttons are visible and above the page's title."""
    title_top = page.locator("h1").first.bounding_box()["y"]
    boxes = [page.get_by_role("button", name=label).bounding_box() for label in DEMO_BUTTONS]
    return all(box is not None and box["y"] < title_top for box in boxes)


def test_presenter_mode_on_by_switch_and_address_survives_navigation_and_turns_off(app_server, browser_page,
                                                                                     artifacts):
    url, _ = app_server
    page = browser_page
    page.goto(url)
    settle(page, "seqlab — watch a neural network learn to read")
    normal_text, normal_title = font_px(page, "[data-testid='stMarkdownContainer'] p"), font_px(page, "h1")
    assert sidebar_width(page) > 200 and page.get_by_role("button", name=DEMO_BUTTONS[0]).count() == 0

    page.locator("[data-testid='stSidebar']").get_by_text("Presenter mode", exact=True).click()  # the switch
    page.get_by_role("button", name=DEMO_BUTTONS[0]).wait_for()
    wait_until(lambda: "present=1" in page.url, 10, "?present=1 in the address after the switch")
    wait_until(lambda: sidebar_width(page) < 50, 10, "the sidebar to collapse")

    page.goto(f"{url}/?present=1")  # a link straight into presenter mode
    settle(page, "seqlab — watch a neural network learn to read")
    page.screenshot(path=artifacts / "presenter-1-home.png")
    assert font_px(page, "[data-testid='stMarkdownContainer'] p") >= 1.3 * normal_text
    assert font_px(page, "h1") >= 1.3 * normal_title
    assert sidebar_width(page) < 50  # collapsed
    assert demo_buttons_on_top(page)

    page.get_by_role("link", name="Train").first.click()  # the menu, at the top in presenter mode
    settle(page, "Train")
    wait_until(lambda: "present=1" in page.url, 10, "?present=1 back in the address after navigating")
    assert font_px(page, "[data-testid='stMarkdownContainer'] p") >= 1.3 * normal_text
    assert sidebar_width(page) < 50 and demo_buttons_on_top(page)
    page.screenshot(path=artifacts / "presenter-2-train.png")

    page.goto(f"{url}/runs?present=1")  # a deep link into another page
    settle(page, "Runs")
    assert demo_buttons_on_top(page)
    page.get_by_text("Presenter mode", exact=True).first.click()  # the switch, beside the demo buttons
    wait_until(lambda: page.get_by_role("button", name=DEMO_BUTTONS[0]).count() == 0, 15, "the demo bar to go")
    wait_until(lambda: "present=" not in page.url, 10, "present=1 to leave the address")
    wait_until(lambda: font_px(page, "h1") < 1.1 * normal_title, 10, "normal type")
    wait_until(lambda: sidebar_width(page) > 200, 10, "the sidebar (and its menu) back")
    page.reload()
    settle(page, "Runs")
    assert page.get_by_role("button", name=DEMO_BUTTONS[0]).count() == 0  # still off after a reload
    page.screenshot(path=artifacts / "presenter-3-off.png")


def test_a_presenter_demo_button_starts_a_run(app_server, browser_page, artifacts):
    url, server = app_server
    page = browser_page
    page.goto(f"{url}/data?present=1")
    page.get_by_role("button", name=DEMO_BUTTONS[0]).click()
    page.wait_for_url(re.compile(r"/train\?.*run="), timeout=30_000)
    run_id = re.search(r"run=([^&]+)", page.url).group(1)
    assert (server.runs_root / run_id).is_dir()
    page.get_by_role("button", name="Stop", exact=True).first.wait_for(timeout=30_000)
    wait_until(lambda: "present=1" in page.url, 10, "presenter mode kept on the live view")
    page.screenshot(path=artifacts / "presenter-4-demo.png")


def test_clicking_a_character_on_generate_explains_it(app_server, browser_page, artifacts):
    """A tiny run trained here, owned by the browser's workspace (its cookie set first); one click on the 21st
    written character of the character map explains that character. Then Score, on a tiny review model with
    attention pooling from the same workspace: each word's attention weight beside its leave-one-out effect."""
    from seqlab.runs.workspaces import new_workspace_id
    from tests.tiny_runs import CLASSIFY_TINY, GENERATE_TINY, train_tiny, write_generation_text, write_review_table

    url, server = app_server
    workspace = new_workspace_id()
    server.runs_root.mkdir(parents=True, exist_ok=True)
    train_tiny(server.runs_root, "20260101-000000-generate-lstm-click", "generate",
               write_generation_text(server.runs_root.parent), workspace=workspace, **GENERATE_TINY)
    train_tiny(server.runs_root, "20260101-000001-classify-lstm-attention", "classify",
               write_review_table(server.runs_root.parent), workspace=workspace,
               **{**CLASSIFY_TINY, "max_steps": 4}, pooling="attention")
    page = browser_page
    page.context.add_cookies([{"name": "seqlab_workspace", "value": workspace, "url": url}])
    page.goto(f"{url}/generate")
    page.get_by_role("button", name="Generate").click()
    page.get_by_text("Character 1: after").wait_for(timeout=60_000)
    character = page.locator(".js-plotly-plot").first.locator(".scatterlayer .trace").first.locator(".point").nth(20)
    character.scroll_into_view_if_needed()
    box = character.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.get_by_text("Character 21: after").wait_for(timeout=20_000)
    assert "chance" in page.get_by_text("Character 21: after").inner_text()
    page.screenshot(path=artifacts / "presenter-5-why-this-character.png", full_page=True)

    page.goto(f"{url}/score")
    page.get_by_role("button", name="Score the review").click()
    looked = page.get_by_text("Where the model looked: attention")
    looked.wait_for(timeout=60_000)
    assert page.get_by_text("are different things").count() == 1
    looked.scroll_into_view_if_needed()
    time.sleep(1.0)  # the table draws itself
    page.screenshot(path=artifacts / "presenter-6-score-attention.png", full_page=True)
