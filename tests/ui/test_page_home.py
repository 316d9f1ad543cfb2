"""AppTest of the Home page: it explains, its quick demos start real runs, and it never loads TensorFlow."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from seqlab.config import configs_to_json
from seqlab.presets import preset_configs
from seqlab.runs import jobs, names, run_folder
from tests.conftest import REPO
from tests.ui.test_page_runs import navigation_app


def test_home_explains_and_offers_two_quick_demos(tmp_path):
    app = navigation_app(tmp_path, "home").run()
    assert not app.exception
    assert "neural network" in app.markdown[0].value
    text = " ".join(markdown.value for markdown in app.markdown)
    steps = ("Corpus", "Vocabulary", "Model", "Training", "Run folder", "Use it")
    positions = [text.find(f"**{step}**") for step in steps]
    assert -1 not in positions and positions == sorted(positions)  # the pipeline, in order
    assert [button.label for button in app.button] == ["Generate Shakespeare", "Judge movie reviews"]
    assert all(button.help for button in app.button)
    assert [link.value for link in app.get("page_link")] == [
        "1. Pick a text (Data)", "2. Choose a model and train it", "3. Compare your runs", "Open the 10-minute lesson"]
    teachers = app.expander[0]
    assert "LSTM" in teachers.label and "vanishing gradient" in teachers.markdown[0].value
    assert "Lesson page" in teachers.markdown[1].value  # the class's experiment is the Lesson page, one click away
    assert app.get("page_link")[-1].proto.page.endswith("lesson")


@pytest.mark.parametrize("label, task, corpus", [("Generate Shakespeare", "generate", "tiny-shakespeare"),
                                                 ("Judge movie reviews", "classify", "imdb")])
def test_quick_demo_starts_a_run_and_opens_its_live_view(label, task, corpus, tmp_path, fake_worker):
    app = navigation_app(tmp_path, "home").run()
    app.button(key=f"demo-{label}").click().run()
    assert not app.exception
    listed = jobs.list_runs()
    assert len(listed) == 1
    run_id = listed[0]["id"]
    assert app.title[0].value == "train stub" and app.query_params["run"] == run_id  # switched, with ?run=
    assert (run_folder.runs_root() / run_id / run_folder.CONFIG).read_text() == configs_to_json(
        *preset_configs(task, "quick-demo", corpus=corpus))
    assert listed[0]["status"]["state"] in ("queued", "running")
    # Back on Home while it trains: the run is shown with a link, the demos are tucked away.
    app.switch_page("pages/home.py").run()
    name = names.run_name(run_folder.runs_root() / run_id)  # the run's human name, e.g. lstm-shakespeare-1
    assert not app.exception and name != run_id and f"**{name}**" in app.info[0].value
    link = app.get("page_link")[0]
    assert link.value == "Watch it on the Train page" and link.proto.query_string == f"run={run_id}"
    assert app.expander[0].label == "Start another quick demo anyway"
    assert [button.label for button in app.expander[0].button] == ["Generate Shakespeare", "Judge movie reviews"]


def test_a_demo_that_cannot_start_shows_why(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_MAX_JOBS", "zero")  # the job runner refuses this setting
    app = navigation_app(tmp_path, "home").run()
    app.button(key="demo-Generate Shakespeare").click().run()
    assert not app.exception and "SEQLAB_MAX_JOBS" in app.error[0].value
    assert app.title[0].value.startswith("seqlab")  # still on Home


def test_home_and_runs_pages_never_load_tensorflow(tmp_path):
    """A fresh interpreter renders Home, then Runs on a real run folder: no TensorFlow or Keras is imported."""
    navigation_app(tmp_path / "app", "home")
    (tmp_path / "app" / "pages" / "runs.py").unlink()
    (tmp_path / "app" / "pages" / "runs.py").symlink_to(REPO / "pages" / "runs.py")
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "from seqlab.runs import run_folder\n"
        "from seqlab.presets import default_configs\n"
        "run_dir = run_folder.create_run_folder(run_folder.runs_root() / 'a-run', *default_configs('generate'))\n"
        "run_folder.write_status(run_dir, state='finished')\n"
        f"app = AppTest.from_file({str(tmp_path / 'app' / 'app.py')!r}, default_timeout=60).run()\n"
        "assert not app.exception and app.button, 'home did not render'\n"
        "app.switch_page('pages/runs.py').run()\n"
        "assert not app.exception and app.dataframe, 'runs did not render'\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('tensorflow', 'keras')))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
