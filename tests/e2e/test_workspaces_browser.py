"""Two people and a teacher on one server (`streamlit run app.py`, workspaces on), in three browser contexts.

A trains the quick demo. B sees neither A's run nor a Stop button on Train, Home or Runs, cannot open it by its
run id, and opens A's share link read-only. The teacher unlocks the Teacher page, sees both people's runs and
stops A's. Screenshots: artifacts/e2e/workspaces-*.png.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import CHROMIUM_ARGS, wait_until

PASSWORD = "correct horse battery staple"


@pytest.fixture
def classroom_server(monkeypatch, request):
    """app_server, started with a teacher password (the operator's environment variable)."""
    monkeypatch.setenv("SEQLAB_TEACHER_PASSWORD", PASSWORD)
    return request.getfixturevalue("app_server")


@pytest.fixture
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def new_person(browser):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(60_000)
    return page


def status(run_dir: Path) -> dict:
    return json.loads((run_dir / "status.json").read_text())


def stop_buttons(page) -> int:
    return page.get_by_role("button", name="Stop", exact=True).count()


def test_two_workspaces_a_share_link_and_the_teacher(classroom_server, browser, artifacts):
    url, server = classroom_server
    alice, bob, teacher = new_person(browser), new_person(browser), new_person(browser)

    # A: one click on Home trains the quick demo and opens its live view
    alice.goto(url)
    alice.get_by_role("button", name="Generate Shakespeare").click()
    alice.wait_for_url(re.compile(r"/train\?run="))
    run_id = re.search(r"run=([^&]+)", alice.url).group(1)
    run_dir = server.runs_root / run_id
    alice.get_by_role("button", name="Stop", exact=True).first.wait_for()
    assert json.loads((run_dir / "owner.json").read_text())["workspace"]  # owned by A's workspace
    again = alice.context.new_page()  # a new tab (a new session) of the same browser: the same workspace
    again.goto(f"{url}/runs")
    again.get_by_text(run_id).first.wait_for()
    again.close()

    # B: nothing of A's anywhere, not even by its id
    bob.goto(url)
    bob.get_by_text("Try it in one click").first.wait_for()
    time.sleep(1.5)
    assert run_id not in bob.locator("body").inner_text() and "already" not in bob.locator("body").inner_text()
    bob.screenshot(path=artifacts / "workspaces-1-b-home.png", full_page=True)
    bob.goto(f"{url}/train")
    bob.get_by_text("Set up a new run").first.wait_for()
    time.sleep(1.5)
    assert run_id not in bob.locator("body").inner_text() and stop_buttons(bob) == 0
    bob.goto(f"{url}/runs")
    bob.get_by_text("There are no runs yet").first.wait_for()
    assert run_id not in bob.locator("body").inner_text()
    bob.goto(f"{url}/train?run={run_id}")
    bob.get_by_text(f"There is no run '{run_id}' in your workspace").first.wait_for()
    time.sleep(1.5)
    assert stop_buttons(bob) == 0
    bob.screenshot(path=artifacts / "workspaces-2-b-guesses-the-id.png", full_page=True)

    # B trains too (it waits behind A's run: one training slot per two cores)
    bob.goto(url)
    bob.get_by_role("button", name="Generate Shakespeare").click()
    bob.wait_for_url(re.compile(r"/train\?run="))
    bob_run = re.search(r"run=([^&]+)", bob.url).group(1)
    assert bob_run != run_id

    # the teacher: locked, a wrong password, then every run, a leaderboard, and Stop for A's (while it trains)
    teacher.goto(f"{url}/teacher")
    teacher.get_by_label("Teacher password").fill("guess")
    teacher.get_by_role("button", name="Unlock").click()
    teacher.get_by_text("That is not the teacher password").first.wait_for()
    teacher.get_by_label("Teacher password").fill(PASSWORD)
    teacher.get_by_role("button", name="Unlock").click()
    teacher.get_by_text("Leaderboard").first.wait_for()
    teacher.get_by_text(run_id).first.wait_for()
    teacher.get_by_text(bob_run).first.wait_for()
    teacher.locator(f".st-key-teacher-stop-{run_id} button").first.wait_for()
    teacher.locator("[data-testid='stDataFrame']").first.wait_for()
    time.sleep(1)
    teacher.screenshot(path=artifacts / "workspaces-3-teacher.png", full_page=True)
    assert status(run_dir)["state"] == "running"
    teacher.locator(f".st-key-teacher-stop-{run_id} button").first.click()
    wait_until(lambda: status(run_dir)["state"] == "stopped", 60, "A's run to stop")
    alice.get_by_text("stopped").first.wait_for(timeout=30_000)
    alice.screenshot(path=artifacts / "workspaces-4-a-stopped-by-teacher.png", full_page=True)

    # A shares the run; B opens the link read-only: the run, no Stop, no Resume; a wrong token opens nothing
    alice.get_by_role("button", name="Share").first.click()
    link = alice.locator("code").filter(has_text="share=").first.inner_text().strip()
    assert f"run={run_id}" in link and "&share=" in link
    bob.goto(link if link.startswith("http") else url + link)
    bob.get_by_text("Shared with you read-only").first.wait_for()
    bob.get_by_text(f"Run {run_id}").first.wait_for()
    bob.locator(".js-plotly-plot").first.wait_for()  # the run's charts
    time.sleep(1)
    assert stop_buttons(bob) == 0 and bob.get_by_role("button", name="Resume", exact=True).count() == 0
    bob.screenshot(path=artifacts / "workspaces-5-b-share-link.png", full_page=True)
    wrong = bob.context.new_page()
    wrong.goto((link if link.startswith("http") else url + link).replace("share=", "share=x"))
    wrong.get_by_text(f"There is no run '{run_id}' in your workspace").first.wait_for()
