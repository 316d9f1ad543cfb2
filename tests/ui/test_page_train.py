"""The Train page (AppTest): knobs and presets, refusals, a real tiny job started from the button, Stop, errors;
and the incremental metrics reader behind the live charts."""

from __future__ import annotations

import base64
import json
import math
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from seqlab.config import all_settings
from seqlab.corpus.registry import load_corpus
from seqlab.model.size import parameter_count
from seqlab.presets import default_configs, preset_configs
from seqlab.runs import jobs, launch, run_folder
from seqlab.runs.names import read_label, write_label
from seqlab.ui.run_files import MetricsTail
from seqlab.ui.settings_form import widget_key
from tests.conftest import REPO


@pytest.fixture
def tiny_text(tmp_path) -> Path:
    path = tmp_path / "tiny.txt"
    path.write_text(load_corpus("hamlet").text[:24_000], encoding="utf-8")
    return path


def page(run: str | None = None, corpus: Path | None = None) -> AppTest:
    app = AppTest.from_file(str(REPO / "pages" / "train.py"), default_timeout=60)
    if run:
        app.query_params["run"] = run
    if corpus:
        app.session_state["seqlab_corpus"] = {"corpus": str(corpus), "task": "generate", "label": corpus.name}
    return app.run()


def knob(app: AppTest, kind: str, name: str):
    return getattr(app, kind)(key=widget_key(name))


def query_run(app: AppTest) -> str:
    value = app.query_params["run"]
    return value[0] if isinstance(value, list) else value


def texts(elements) -> str:
    return "\n".join(str(element.value) for element in elements)


def chart_specs(app: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]


def points(column) -> list:
    """A trace's x or y as numbers: the charts send NumPy columns as Plotly's base64 typed arrays."""
    if isinstance(column, dict) and "bdata" in column:
        return np.frombuffer(base64.b64decode(column["bdata"]), dtype=np.dtype(column["dtype"])).tolist()
    return column


def test_page_shows_every_knob_and_the_estimate():
    app = page()
    assert not app.exception
    assert knob(app, "radio", "task").value == "generate" and knob(app, "radio", "preset").value == "quick-demo"
    assert knob(app, "selectbox", "corpus").value == "tiny-shakespeare"
    assert "imdb" not in knob(app, "selectbox", "corpus").options  # filtered by task
    for name in ("units", "embedding_dim", "sequence_length", "batch_size", "time_budget_seconds", "learning_rate",
                 "clip_threshold", "max_steps", "weight_average_steps", "seed"):
        assert knob(app, "number_input", name).help, name  # every knob explains itself
    assert knob(app, "selectbox", "cell").options == ["SimpleRNN", "LSTM", "GRU", "Tiny Transformer"]
    model, _ = preset_configs("generate", "quick-demo")
    vocabulary = len(set(load_corpus("tiny-shakespeare").text))
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Parameters"] == f"{parameter_count(model, vocabulary):,}"
    assert metrics["Time per epoch"].startswith("≈")
    assert "estimate" in texts(app.caption) and "typical laptop speed" in texts(app.caption)
    assert not app.button(key="train_start").disabled


def test_presets_and_task_fill_the_knobs():
    app = page()
    knob(app, "radio", "preset").set_value("best-quality").run()
    model, train = preset_configs("generate", "best-quality")
    assert knob(app, "number_input", "units").value == model.units
    assert knob(app, "slider", "num_layers").value == model.num_layers
    assert knob(app, "number_input", "embedding_dim").value == model.embedding_dim
    assert knob(app, "slider", "dropout").value == pytest.approx(model.dropout)
    assert knob(app, "slider", "weight_dropout").value == pytest.approx(model.weight_dropout)
    assert knob(app, "number_input", "time_budget_seconds").value == train.time_budget_seconds
    assert knob(app, "number_input", "weight_average_steps").value == train.weight_average_steps > 0
    assert widget_key("word_pairs") not in [widget.key for widget in app.number_input]  # reviews only
    knob(app, "number_input", "units").set_value(64).run()  # a knob changed by hand stays changed...
    knob(app, "number_input", "batch_size").set_value(32).run()
    assert knob(app, "number_input", "units").value == 64
    knob(app, "radio", "task").set_value("classify").run()  # ...until the task changes: its preset fills in
    assert not app.exception
    model, train = preset_configs("classify", "best-quality")
    assert knob(app, "selectbox", "corpus").value == "imdb"
    assert knob(app, "checkbox", "bidirectional").value is True
    assert knob(app, "number_input", "vocabulary_size").value == model.vocabulary_size
    assert knob(app, "number_input", "word_pairs").value == model.word_pairs
    assert knob(app, "number_input", "sequence_length").value == train.sequence_length
    assert "Sequence length (words)" == knob(app, "number_input", "sequence_length").label


def test_invalid_combinations_are_refused_with_a_message(tmp_path):
    short = tmp_path / "short.txt"
    short.write_text("to be or not to be, that is the question. " * 60, encoding="utf-8")  # 2,520 characters
    app = page(corpus=short)
    assert knob(app, "selectbox", "corpus").value == str(short)  # the Data page's corpus is the default
    assert not app.error
    knob(app, "number_input", "sequence_length").set_value(500).run()
    assert "too short for sequence length 500" in texts(app.error)
    assert app.button(key="train_start").disabled
    knob(app, "number_input", "sequence_length").set_value(100).run()
    knob(app, "selectbox", "clip").set_value("none").run()
    knob(app, "number_input", "learning_rate").set_value(0.05).run()
    assert not app.error and "blow up" in texts(app.warning)
    assert not app.button(key="train_start").disabled


def test_train_button_starts_a_real_job_and_the_page_follows_it(tiny_text):
    app = page(corpus=tiny_text)
    for name, value in (("units", 16), ("embedding_dim", 8), ("sequence_length", 20), ("batch_size", 8),
                        ("max_steps", 20)):
        knob(app, "number_input", name).set_value(value).run()
    knob(app, "radio", "stop_rule").set_value("epochs").run()
    knob(app, "number_input", "epochs").set_value(3).run()
    app.button(key="train_start").click().run()
    assert not app.exception
    run_dir = run_folder.run_in_root(query_run(app))
    model, train = run_folder.read_configs(run_dir)
    assert (model.units, model.embedding_dim, train.max_steps, train.epochs, train.time_budget_seconds) == \
        (16, 8, 20, 3, 900.0)  # "no time budget" from the app is the operator's cap (SEQLAB_APP_RUN_SECONDS)
    assert train.corpus == str(tiny_text)
    status = jobs.wait_for(run_dir, timeout=120)
    assert status["state"] == "finished", status
    app.run()  # as after the fragment saw the end: drawn once, from the run folder
    assert not app.exception
    assert "finished" in texts(app.markdown)
    assert app.get("progress")[0].proto.value == 100
    loss, accuracy, grad = chart_specs(app)
    steps, epochs = run_folder.read_metrics(run_dir)
    assert [trace["name"] for trace in loss["data"]] == ["training loss (raw)", "training loss (smoothed)",
                                                         "validation loss"]
    assert points(loss["data"][0]["x"]) == [record["step"] for record in steps] and len(steps) == 20
    assert points(loss["data"][2]["y"]) == [record["val_loss"] for record in epochs]
    references = sorted(shape["y0"] for shape in loss["layout"]["shapes"])
    assert references == pytest.approx(sorted(status["reference_losses"].values()))
    assert references[1] == pytest.approx(math.log(len(set(tiny_text.read_text(encoding="utf-8")))))
    assert [shape["y0"] for shape in grad["layout"]["shapes"]] == [train.clip_threshold]
    sample = run_folder.read_jsonl(run_dir / run_folder.SAMPLES)[-1]
    assert app.code[0].value == sample["text"].strip()  # st.code trims the ends (a sample may end in a newline)
    assert "Generate with this model" in texts(app.caption) + texts(app.get("page_link"))
    assert not [button for button in app.button if button.key == f"stop-{run_dir.name}"]  # nothing left to stop
    app.query_params.clear()  # back from another page: no ?run=, no active run, the session remembers
    app.run()
    assert query_run(app) == run_dir.name and len(app.get("plotly_chart")) == 3


def wait_until(predicate, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_stop_button_stops_a_running_job(tiny_text):
    model, train = default_configs("generate", corpus=str(tiny_text), units=16, embedding_dim=8, sequence_length=20,
                                   batch_size=8, epochs=10_000, time_budget_seconds=120.0)
    run_dir = launch.start_training(model, train)
    wait_until(lambda: jobs.reconcile(run_dir).get("step", 0) > 3)
    app = page()  # no ?run= in the URL: the newest active run is shown, and put into the URL
    assert query_run(app) == run_dir.name
    assert "running" in texts(app.markdown) and len(app.get("plotly_chart")) == 3
    app.button(key=f"stop-{run_dir.name}").click().run()
    assert run_folder.read_status(run_dir)["state"] in ("stopping", "stopped")
    assert (run_dir / run_folder.STOP_REQUEST).exists()
    status = jobs.wait_for(run_dir, timeout=30)
    assert status["state"] == "stopped"
    app = page(run=run_dir.name)
    assert "stopped" in texts(app.markdown)
    assert app.button(key=f"resume-{run_dir.name}")  # a stopped run can go on


def test_failed_run_shows_its_error_and_advice():
    model, train = default_configs("generate", corpus="hamlet")
    run_dir = run_folder.create_run_folder(run_folder.runs_root() / "broken-run", model, train)
    run_folder.write_status(run_dir, state="failed", error="The loss became NaN at step 7: training diverged.",
                      advice="lower the learning rate")
    app = page(run="broken-run")
    assert not app.exception
    assert "The loss became NaN at step 7" in texts(app.error)
    assert "lower the learning rate" in texts(app.info)
    assert app.button(key="resume-broken-run")


def test_the_page_says_which_backend_runs_a_run_and_where():
    model, train = default_configs("generate", corpus="hamlet")
    run_dir = run_folder.create_run_folder(run_folder.runs_root() / "cluster-run", model, train)
    run_folder.write_status(run_dir, state="finished", backend="ray", where="Ray cluster http://head:8265")
    app = page(run="cluster-run")
    assert not app.exception and "backend: ray (Ray cluster http://head:8265)" in texts(app.caption)
    run_folder.write_status(run_dir, backend=None, where=None, pid=12345)  # an older seqlab's run: local
    assert "backend: local (this computer)" in texts(page(run="cluster-run").caption)


def test_queued_run_shows_how_many_runs_are_ahead():
    model, train = default_configs("generate", corpus="hamlet")
    run_dir = run_folder.create_run_folder(run_folder.runs_root() / "waiting-run", model, train)
    run_folder.write_status(run_dir, queue_position=3)  # never submitted, so the scheduler leaves it waiting
    app = page(run="waiting-run")
    assert "Waiting: 2 runs ahead" in texts(app.info)
    assert app.button(key="stop-waiting-run")


def test_a_bad_run_id_in_the_url_is_a_message():
    app = page(run="../../etc")
    assert not app.exception and "not a valid run id" in texts(app.error)
    app = page(run="no-such-run")
    assert "There is no run 'no-such-run'" in texts(app.error)


def test_metrics_tail_reads_only_what_was_appended(tmp_path):
    path = tmp_path / run_folder.METRICS
    tail = MetricsTail(path)
    assert tail.read() == ([], [])
    run_folder.append_jsonl(path, {"type": "step", "step": 1, "loss": 3.0})
    run_folder.append_jsonl(path, {"type": "step", "step": 2, "loss": 2.0})
    with open(path, "a", encoding="utf-8") as file:
        file.write('{"type": "epoch", "epoch": 0, "st')  # the worker is mid-write
    steps, epochs = tail.read()
    assert [record["step"] for record in steps] == [1, 2] and epochs == []
    with open(path, "a", encoding="utf-8") as file:
        file.write('ep": 2, "val_loss": 2.2}\n')
    assert tail.read()[1] == [{"type": "epoch", "epoch": 0, "step": 2, "val_loss": 2.2}]
    assert tail.offset == path.stat().st_size  # each byte is read once
    run_folder.truncate_metrics(tmp_path, 1)  # a resume rewrites the file: the reader starts over
    run_folder.append_jsonl(path, {"type": "step", "step": 2, "loss": 1.5})
    steps, epochs = tail.read()
    assert [(record["step"], record["loss"]) for record in steps] == [(1, 3.0), (2, 1.5)] and epochs == []
    assert (steps, epochs) == run_folder.read_metrics(tmp_path)


def _in_sight(node):
    """The page's elements in order, without those folded away in "More settings"."""
    for child in getattr(node, "children", {}).values():
        yield child
        if not (type(child).__name__ == "Expander" and child.label == "More settings"):
            yield from _in_sight(child)


ESSENTIALS = ["task", "corpus", "preset", "cell", "num_layers", "units", "sequence_length", "clip"]


@pytest.mark.parametrize("task", ["generate", "classify"])
def test_the_page_opens_on_eight_choices_each_with_a_caption(task):
    app = page()
    if task == "classify":
        knob(app, "radio", "task").set_value("classify").run()
    elements = list(_in_sight(app.main))
    shown = [(index, element) for index, element in enumerate(elements)
             if str(getattr(element, "key", "") or "").startswith("train_widget_")]
    assert [element.key for _, element in shown] == [widget_key(name) for name in ESSENTIALS]  # at most 8
    for index, element in shown:  # each with a plain-words line right under it, visible (not only a "?" tooltip)
        below = elements[index + 1]
        assert type(below).__name__ == "Caption" and len(below.value) > 20, element.key
    reach = "how far back learning can reach" if task == "generate" else "words of each review are kept"
    assert reach in texts(app.caption)
    more = next(expander for expander in app.expander if expander.label == "More settings")
    folded = {widget.key for kind in ("number_input", "slider", "selectbox", "radio") for widget in getattr(more, kind)}
    assert {widget_key(name) for name in ("embedding_dim", "dropout", "batch_size", "learning_rate", "precision",
                                          "seed", "stop_rule", "clip_threshold")} <= folded
    knob(app, "radio", "preset").set_value("best-quality").run()  # presets still fill everything, folded or not
    model, train = preset_configs(task, "best-quality")
    assert knob(app, "number_input", "embedding_dim").value == model.embedding_dim
    assert knob(app, "number_input", "units").value == model.units


def _link_page(**params) -> AppTest:
    app = AppTest.from_file(str(REPO / "pages" / "train.py"), default_timeout=60)
    app.query_params.update(params)
    return app.run()


def test_a_link_fills_the_form_and_the_form_writes_its_link():
    app = _link_page(task="classify", preset="balanced", cell="lstm", units="96", bidirectional="1", clip="value",
                     learning_rate="0.003")
    assert not app.exception and not app.warning
    assert (knob(app, "radio", "task").value, knob(app, "radio", "preset").value) == ("classify", "balanced")
    assert knob(app, "selectbox", "corpus").value == "imdb"
    assert knob(app, "selectbox", "cell").value == "lstm" and knob(app, "number_input", "units").value == 96
    assert knob(app, "checkbox", "bidirectional").value is True and knob(app, "selectbox", "clip").value == "value"
    assert knob(app, "number_input", "learning_rate").value == pytest.approx(0.003)
    link = app.code[-1].value
    assert link.endswith("/train?task=classify&corpus=imdb&preset=balanced&cell=lstm&units=96&bidirectional=1"
                         "&learning_rate=0.003&clip=value")
    knob(app, "number_input", "units").set_value(128).run()  # the address follows the form
    assert app.query_params["units"] in ("128", ["128"]) and "units=128" in app.code[-1].value
    again = _link_page(**dict(parse_qsl(urlsplit(app.code[-1].value).query)))  # the page's own link reproduces it
    assert again.code[-1].value == app.code[-1].value and knob(again, "number_input", "units").value == 128


def test_a_bad_link_value_is_a_message_and_the_rest_applies():
    app = _link_page(units="lots", cell="mamba", corpus="/etc/passwd", num_layers="2", zoom="9")
    assert not app.exception
    warnings = texts(app.warning)
    for message in ("The link's units is 'lots'", "Unknown cell 'mamba'", "not a built-in corpus",
                    "unknown setting 'zoom'"):
        assert message in warnings
    model, _ = preset_configs("generate", "quick-demo")
    assert knob(app, "number_input", "units").value == model.units and knob(app, "slider", "num_layers").value == 2
    assert knob(app, "selectbox", "corpus").value == "tiny-shakespeare" and not app.button(key="train_start").disabled
    assert "zoom" not in app.query_params and "/etc" not in app.code[-1].value  # the address is cleaned up
    knob(app, "number_input", "units").set_value(64).run()
    assert not app.warning  # said until the form is changed


def test_the_run_header_shows_its_name_and_its_owner_renames_it():
    model, train = default_configs("generate", corpus="hamlet")
    run_dir = run_folder.create_run_folder(run_folder.runs_root() / "named-run", model, train)
    run_folder.write_status(run_dir, state="finished")
    write_label(run_dir, name="lstm-hamlet-1", note="first try")
    app = page(run="named-run")
    assert "lstm-hamlet-1" in texts(app.subheader) and "Run named-run" in texts(app.caption)
    assert "first try" in texts(app.markdown)
    app.text_input(key="run-name-named-run").set_value("clipping off")
    app.text_area(key="run-note-named-run").set_value("lr 0.05, no clipping")
    next(button for button in app.button if button.label == "Save").click().run()
    assert read_label(run_dir) == {"name": "clipping off", "note": "lr 0.05, no clipping"}
    assert "clipping off" in texts(app.subheader)
    app.text_input(key="run-name-named-run").set_value("   ")  # refused: said, and the old name kept
    next(button for button in app.button if button.label == "Save").click().run()
    assert "A run name must be 1 to 40 characters" in texts(app.error)
    assert read_label(run_dir)["name"] == "clipping off" == app.text_input(key="run-name-named-run").value
    app.text_input(key="run-name-named-run").set_value("[win](http://evil.example)")  # shown as text, not a link
    next(button for button in app.button if button.label == "Save").click().run()
    assert r"\[win\](http://evil.example)" in texts(app.subheader)


def test_every_knob_declares_a_one_line_caption_and_few_are_essential():
    knobs = {name: declaration for name, declaration in all_settings().items()
             if declaration.section or name in ("task", "corpus")}
    for name, declaration in knobs.items():
        for caption in filter(None, (declaration.caption, declaration.review_caption)):
            assert 20 < len(caption) <= 100 and "\n" not in caption, name
        assert declaration.caption, f"{name} has no caption"
    def essential(task: str) -> list[str]:
        return [name for name, declaration in knobs.items() if declaration.essential and task in declaration.tasks]

    assert essential("generate") == essential("classify") == ESSENTIALS[3:]  # with task, corpus, preset: eight
    assert essential("forecast") == ESSENTIALS[3:] + ["horizon"]  # and how many values each forecast holds
