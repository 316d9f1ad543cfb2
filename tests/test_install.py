"""seqlab as an installed package: the wheel builds from the sources, installs into a fresh virtual environment,
and `seqlab corpora`, `seqlab train` and `seqlab app` work from another folder — no checkout on the path.

The environment is made with --system-site-packages so that TensorFlow and the rest come from this machine's
environment (no download, as CI has no internet); the wheel itself goes into the environment's own site-packages,
which comes first, and PYTHONPATH is cleared, so every command runs the installed copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.e2e.conftest import _free_port

SOURCES = ["pyproject.toml", "README.md", "app.py", "pages", ".streamlit", "seqlab"]


def run(command: list, cwd: Path, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict]:
    """(the environment's bin folder, an environment without PYTHONPATH) with the freshly built wheel in it."""
    folder = tmp_path_factory.mktemp("install")
    source = folder / "source"
    source.mkdir()
    for name in SOURCES:  # a copy: the build writes build/ and *.egg-info beside the sources
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy2
        copy(REPO / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                             if (REPO / name).is_dir() else {}))
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(folder / "dist"),
         str(source)], folder, env)
    wheel = next((folder / "dist").glob("seqlab-*.whl"))
    run([sys.executable, "-m", "venv", "--system-site-packages", str(folder / "venv")], folder, env)
    scripts = folder / "venv" / ("Scripts" if os.name == "nt" else "bin")
    run([str(scripts / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], folder, env)
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir()
    return scripts, {**env, "SEQLAB_RUNS": str(folder / "runs")}


def test_every_package_of_the_checkout_is_listed_for_the_wheel():
    """pyproject.toml names its packages one by one (the app's files ride along as seqlab_app): a new folder must
    be added there, or the installed seqlab lacks it."""
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(REPO).parts) for init in (REPO / "seqlab").rglob("__init__.py")}
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"


def test_the_installed_package_is_the_one_that_runs(installed):
    scripts, env = installed
    where = run([str(scripts / "python"), "-c", "import seqlab, seqlab_app, os; print(seqlab.__file__)"],
                scripts.parent.parent / "elsewhere", env).stdout.strip()
    assert str(scripts.parent) in where and "site-packages" in where, where
    listing = run([str(scripts / "seqlab"), "corpora"], scripts.parent.parent / "elsewhere", env).stdout
    assert "tiny-shakespeare" in listing and "imdb" in listing


def test_seqlab_train_runs_a_worker_of_the_installed_package(installed):
    scripts, env = installed
    result = run([str(scripts / "seqlab"), "train", "--preset", "quick-demo", "--max-steps", "5"],
                 scripts.parent.parent / "elsewhere", env, timeout=600)
    runs = list(Path(env["SEQLAB_RUNS"]).glob("*/status.json"))
    assert len(runs) == 1 and '"finished"' in runs[0].read_text(), result.stderr[-2000:]
    log = (runs[0].parent / "train.log").read_text()
    assert "Traceback" not in log, log[-2000:]


def test_seqlab_app_serves_from_another_folder(installed):
    scripts, env = installed
    port = _free_port()
    server = subprocess.Popen([str(scripts / "seqlab"), "app", "--no-browser", "--port", str(port), "--",
                               "--server.address", "127.0.0.1"], cwd=scripts.parent.parent / "elsewhere", env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, healthy = time.monotonic() + 90, False
        while time.monotonic() < deadline and not healthy and server.poll() is None:
            try:
                healthy = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).status == 200
            except OSError:
                time.sleep(0.5)
        assert healthy, "the app did not answer on /_stcore/health"
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
        assert "<html" in page.lower()
    finally:
        server.terminate()
        try:
            output = server.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            server.kill()
            output = server.communicate()[0]
    assert "site-packages" in output and "seqlab_app" in output, output[-2000:]  # the installed app.py ran
