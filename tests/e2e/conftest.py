"""The browser test's fixtures: Debian Chromium (installed here if missing) and a real `streamlit run app.py`.

The README's test command installs Playwright from PyPI; the browser comes from Debian's `chromium` package,
because test tools cannot download browsers on this network. Screenshots go to artifacts/e2e/ in the repo
(or $SEQLAB_E2E_ARTIFACTS) so a person can look at what the test saw.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _install_chromium() -> None:
    """apt-get install chromium (as root, or through sudo); a failure fails the test with apt's own words."""
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = prefix + ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"]
    result = subprocess.run(install, capture_output=True, text=True, env=environment)
    if result.returncode != 0:  # a fresh machine may have no package lists yet
        subprocess.run(prefix + ["apt-get", "update", "-q"], capture_output=True, text=True, env=environment)
        result = subprocess.run(install, capture_output=True, text=True, env=environment)
    if result.returncode != 0 or not Path(CHROMIUM).exists():
        pytest.fail(f"could not install Debian chromium for the browser test:\n{result.stderr[-2000:]}")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        _install_chromium()
    return CHROMIUM


@pytest.fixture(scope="session")
def artifacts() -> Path:
    folder = Path(os.environ.get("SEQLAB_E2E_ARTIFACTS") or REPO / "artifacts" / "e2e")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def app_server(tmp_path):
    """`streamlit run app.py` on a free loopback port with its own runs root; yields the base URL."""
    port = _free_port()
    environment = {**os.environ, "SEQLAB_RUNS": str(tmp_path / "runs"), "SEQLAB_CACHE": str(tmp_path / "cache"),
                   "PYTHONPATH": str(REPO),
                   "SEQLAB_WORKSPACES": "on"}
    log = open(tmp_path / "streamlit.log", "w")
    # started from another folder: the app must find its .streamlit/config.toml beside app.py (the 25 MB message
    # cap that test_big_inputs.py relies on comes from there), whatever the working directory
    command = [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true"]
    server = subprocess.Popen(command,
                              cwd=tmp_path, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.3)
    else:
        server.kill()
        pytest.fail(f"streamlit did not start:\n{(tmp_path / 'streamlit.log').read_text()[-3000:]}")
    server.runs_root = tmp_path / "runs"
    yield url, server
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()
    _stop_leftover_runs(tmp_path / "runs")


def _stop_leftover_runs(root: Path) -> None:
    """Training processes outlive the server by design (their own sessions): stop them after the test."""
    from seqlab.runs import jobs

    if root.exists():
        for run in jobs.list_runs(root):
            if run["status"] and run["status"]["state"] in ("queued", "running", "stopping"):
                jobs.stop(Path(run["path"]), wait=True, root=root)


@pytest.fixture
def browser_page(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(30_000)
        yield page
        browser.close()


def wait_until(predicate, timeout: float, what: str):
    """predicate()'s first truthy value, asked every 0.5 s; an AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def wait_idle(page, quiet: float = 0.5, timeout: float = 30.0) -> None:
    """Until Streamlit's running indicator has been off for `quiet` seconds."""
    running = page.locator('[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"]')
    deadline, calm_since = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        if running.count():
            calm_since = None
        elif calm_since is None:
            calm_since = time.monotonic()
        elif time.monotonic() - calm_since >= quiet:
            return
        time.sleep(0.05)
    raise AssertionError("the page kept running")
