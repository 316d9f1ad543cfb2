"""AppTest of the Runs page on real tiny runs (trained once per module, in-process) plus a damaged one."""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from seqlab.presets import default_configs
from seqlab.runs import jobs, names, processes, run_folder
from tests.conftest import REPO
from tests.tiny_runs import end_every_run

TINY = dict(units=16, embedding_dim=8, sequence_length=20, batch_size=8, max_steps=12)
OTHER_PAGES = ("home", "data", "train", "generate", "score", "forecast", "lesson")
# A worker that holds the run 'running' until Stop is pressed: resume is tested without training again.
FAKE_WORKER = """
import sys, time
from pathlib import Path
from seqlab.runs import run_folder
run_dir = Path(sys.argv[1])
run_folder.write_status(run_dir, state="running", fake_worker=True)
for _ in range(600):
    if (run_dir / run_folder.STOP_REQUEST).exists():
        break
    time.sleep(0.05)
run_folder.write_status(run_dir, state="stopped")
"""


def navigation_app(folder: Path, page: str) -> AppTest:
    """An app routing to the real `page` and stub pages, so page links and switch_page resolve as in app.py."""
    (folder / "pages").mkdir(parents=True, exist_ok=True)
    (folder / "pages" / f"{page}.py").symlink_to(REPO / "pages" / f"{page}.py")
    for other in (name for name in OTHER_PAGES + ("runs",) if name != page):
        (folder / "pages" / f"{other}.py").write_text(
            f"import streamlit as st\nst.title('{other} stub')\nst.write(st.query_params.get('run'))\n")
    names = [page] + [name for name in OTHER_PAGES + ("runs",) if name != page]
    (folder / "app.py").write_text("import streamlit as st\nst.navigation([" + ", ".join(
        f"st.Page('pages/{name}.py', default={name == page})" for name in names) + "]).run()\n")
    return AppTest.from_file(str(folder / "app.py"), default_timeout=60)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """Two finished generate runs (LSTM and SimpleRNN), trained for real with the trainer, in-process."""
    from seqlab.corpus.registry import load_corpus
    from seqlab.runs.worker import train_run

    folder = tmp_path_factory.mktemp("trained")
    text = folder / "tiny.txt"
    text.write_text(load_corpus("hamlet").text[:12_000], encoding="utf-8")
    for name, cell, units, created in (("lstm-run", "lstm", 16, 2.0), ("rnn-run", "simple_rnn", 32, 1.0)):
        model, train = default_configs("generate", corpus=str(text), cell=cell, **{**TINY, "units": units})
        run_dir = run_folder.create_run_folder(folder / "runs" / name, model, train)
        run_folder.write_status(run_dir, created_at=created)
        assert train_run(run_dir) == "finished"
    return folder / "runs"


@pytest.fixture
def root(trained, tmp_path, monkeypatch) -> Path:
    """This test's runs root: copies of the trained runs (the LSTM one named), a stopped one, a damaged one, and a
    finished review run (made by hand: its figures are all the Runs page reads)."""
    root = run_folder.runs_root()
    for run_dir in trained.iterdir():
        shutil.copytree(run_dir, root / run_dir.name)
    names.write_label(root / "lstm-run", name="lstm-hamlet-1")
    reviews = run_folder.create_run_folder(root / "reviews-run", *default_configs("classify", cell="gru"))
    run_folder.write_status(reviews, state="finished", created_at=0.1, best_val_loss=0.45, best_val_accuracy=0.8125,
                            progress=1.0)
    shutil.copytree(trained / "rnn-run", root / "stopped-run")
    run_folder.write_status(root / "stopped-run", state="stopped", created_at=0.5)
    damaged = run_folder.create_run_folder(root / "damaged-run", *default_configs("generate"))
    run_folder.write_status(damaged, created_at=3.0)
    (damaged / run_folder.CONFIG).write_text("{not json", encoding="utf-8")
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE_WORKER, encoding="utf-8")
    monkeypatch.setattr(processes, "worker_command", lambda run_dir, root: [sys.executable, str(script), str(run_dir)])
    yield root
    end_every_run(root)


def runs_page(tmp_path: Path, run: str | None = None) -> AppTest:
    app = navigation_app(tmp_path / "app", "runs")
    if run is not None:
        app.query_params["run"] = run
    return app.run()


def test_empty_runs_folder_says_how_to_start(tmp_path):
    app = runs_page(tmp_path)
    assert not app.exception
    assert "no runs yet" in app.info[0].value and "Quick demo" in app.info[0].value
    assert [link.value for link in app.get("page_link")] == ["Quick demo (Home)", "Choose your own settings (Train)"]
    assert not app.get("arrow_data_frame") and not app.selectbox


def test_tables_show_names_and_plain_figures_split_by_task(root, tmp_path):
    app = runs_page(tmp_path)
    assert not app.exception
    titles = [markdown.value for markdown in app.markdown if markdown.value.startswith("**")][:3]
    assert titles == ["**Text generation**", "**Review sentiment**", "**Runs that cannot be read**"]
    text, reviews, damaged = (app.dataframe[index].value for index in range(3))
    assert list(text["Name"]) == ["lstm-hamlet-1", "rnn-run", "stopped-run"]  # the name; an older run: its id
    assert list(text["Run id"]) == ["lstm-run", "rnn-run", "stopped-run"]  # ids still reachable
    rows = text.set_index("Run id")
    for name in ("lstm-run", "rnn-run"):
        status = run_folder.read_status(root / name)
        assert rows.loc[name, "Status"] == "finished"
        assert rows.loc[name, "Right"] == pytest.approx(100 * status["best_val_accuracy"], abs=0.01)  # percent
        assert rows.loc[name, "Unsure among"] == pytest.approx(math.exp(status["best_val_loss"]))
    assert rows.loc["lstm-run", "Model"] == "LSTM · 1 layer × 16 units"
    assert rows.loc["rnn-run", "Model"] == "SimpleRNN · 1 layer × 32 units"
    # reviews in their own table, by accuracy, never beside per-character losses
    assert list(reviews["Run id"]) == ["reviews-run"] and reviews["Right"][0] == 81.25
    review_columns = list(app.dataframe[1].proto.column_order)
    assert "Right" in review_columns and "Unsure among" not in review_columns
    assert list(damaged["Run id"]) == ["damaged-run"] and "not valid JSON" in damaged["Problem"][0]
    assert "1 damaged" in app.caption[1].value
    # fitted to the page: a handful of columns; parameters and the loss in nats wait under "One run"
    text_columns = list(app.dataframe[0].proto.column_order)
    assert len(text_columns) <= 8 and "Problem" not in text_columns  # no text run has a problem
    assert "Run id" not in text_columns  # the id is in the data (and under One run), not in sight
    assert "Parameters" not in text_columns and "Validation loss (nats)" not in text_columns
    details = " ".join(caption.value for caption in app.caption)
    assert "Run id damaged-run" in details  # the chosen run (the newest) and its id


def test_one_large_overlay_with_a_figure_picker_and_the_settings_diff(root, tmp_path):
    app = runs_page(tmp_path)
    compare = app.multiselect(key="runs_compare")
    assert compare.value == ["lstm-run", "rnn-run"]  # the two newest healthy runs
    assert "damaged-run" not in compare.options and len(compare.options) == 4
    assert app.selectbox(key="runs_metric").value == "unsure"  # text runs only: how unsure, from the first step
    figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    names_shown = [trace["name"] for trace in figure["data"]]
    assert names_shown == ["lstm-hamlet-1 · LSTM · 1 layer × 16 units", "rnn-run · SimpleRNN · 1 layer × 32 units"]
    assert figure["layout"]["height"] >= 500 and "choosing between" in figure["layout"]["yaxis"]["title"]["text"]
    steps, _ = run_folder.read_metrics(root / "lstm-run")
    assert figure["data"][0]["x"] == [record["step"] for record in steps]
    diff = app.dataframe[3].value
    assert list(diff["setting"]) == ["Cell type", "Units per layer"]  # the Train page's words
    assert list(diff["lstm-hamlet-1"]) == ["LSTM", "16"] and list(diff["rnn-run"]) == ["SimpleRNN", "32"]
    app.selectbox(key="runs_metric").set_value("val_accuracy").run()
    figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert len(figure["data"]) == 2 and figure["layout"]["yaxis"]["tickformat"] == ".0%"
    app.multiselect(key="runs_compare").set_value(["rnn-run", "stopped-run"]).run()
    assert not app.exception and any("exactly the same settings" in caption.value for caption in app.caption)
    assert len(app.dataframe) == 3  # no diff table when nothing differs
    app.multiselect(key="runs_compare").set_value(["rnn-run", "reviews-run"])
    app.selectbox(key="runs_metric").set_value("val_loss").run()
    assert "not comparable" in app.warning[0].value  # review and text losses are different quantities
    app.multiselect(key="runs_compare").set_value(["reviews-run"]).run()
    metric = app.selectbox(key="runs_metric")
    assert not app.exception and metric.value == "val_loss" and len(metric.options) == 3
    assert not any("choosing between" in option for option in metric.options)  # reviews alone: no 'K characters'
    app.selectbox(key="runs_metric").set_value("val_accuracy").run()
    app.multiselect(key="runs_compare").set_value(["rnn-run"]).run()
    app.selectbox(key="runs_metric").set_value("unsure").run()
    app.multiselect(key="runs_compare").set_value(["reviews-run"]).run()
    assert not app.exception and app.selectbox(key="runs_metric").value == "val_accuracy"  # reset, not an error


def test_the_url_chooses_the_run_and_a_bad_id_is_an_error(root, tmp_path):
    app = runs_page(tmp_path, run="rnn-run")
    assert app.selectbox(key="runs_selected").value == "rnn-run"
    links = {link.value: link.proto for link in app.get("page_link")}
    assert links["Write text with it (Generate)"].query_string == "run=rnn-run"
    assert not links["Write text with it (Generate)"].disabled
    assert [button.label for button in app.get("download_button")] == ["Download the model (zip)",
                                                                        "Download the settings"]
    app.selectbox(key="runs_selected").set_value("lstm-run").run()
    assert app.query_params["run"] == "lstm-run"
    app = runs_page(tmp_path / "second", run="../../etc")
    assert not app.exception and "not a valid run id" in app.error[0].value


def test_delete_asks_first_and_removes_only_that_run(root, tmp_path):
    app = runs_page(tmp_path, run="damaged-run")
    assert "not valid JSON" in app.error[0].value  # the damaged run's problem, shown for the chosen run
    app.button(key="runs_delete").click().run()
    assert (root / "damaged-run").is_dir() and "cannot be undone" in app.warning[0].value
    app.button(key="runs_delete_cancel").click().run()
    assert (root / "damaged-run").is_dir() and not app.warning
    app.button(key="runs_delete").click().run()
    app.button(key="runs_delete_confirm").click().run()
    assert not app.exception and "Deleted run damaged-run" in app.success[0].value
    assert not (root / "damaged-run").exists()
    assert sorted(path.name for path in root.iterdir() if not path.name.startswith(".")) == [
        "lstm-run", "reviews-run", "rnn-run", "stopped-run"]
    assert list(app.dataframe[0].value["Run id"]) == ["lstm-run", "rnn-run", "stopped-run"]


def test_resume_requeues_a_stopped_run_and_an_active_run_cannot_be_deleted(root, tmp_path):
    app = runs_page(tmp_path, run="lstm-run")
    assert app.button(key="runs_resume").disabled  # finished: nothing to continue
    app = runs_page(tmp_path / "second", run="stopped-run")
    assert not app.button(key="runs_resume").disabled
    before = time.time()
    app.button(key="runs_resume").click().run()
    assert not app.exception and "Run stopped-run continues" in app.success[0].value
    status = run_folder.read_status(root / "stopped-run")
    assert status["state"] in ("queued", "running") and status["queued_at"] >= before
    assert jobs.wait_for(root / "stopped-run", states=("running",), timeout=20)["fake_worker"] is True
    app.run()
    assert app.button(key="runs_delete").disabled and app.button(key="runs_resume").disabled
    assert app.dataframe[0].value.set_index("Run id").loc["stopped-run", "Status"] == "running"
