"""AppTest of the Lesson page: its three steps, the race and the probe started from their buttons (the job runner's
worker stubbed), a browser's share of the queue, and a finished race and probe (run folders written by hand, as a
worker and the probe's scorer leave them) read back as a verdict, an accuracy-against-N chart and links inside."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from seqlab.lessons import experiment, memory_probe, probe_eval, race
from seqlab.presets import default_configs
from seqlab.runs import jobs, run_folder, workspaces
from seqlab.runs.storage import write_json_atomic
from tests.conftest import REPO


def lesson_app(folder: Path) -> AppTest:
    """The real Lesson page behind a router with an Inside-the-network stub, so its page links resolve."""
    (folder / "pages").mkdir(parents=True, exist_ok=True)
    (folder / "pages" / "lesson.py").symlink_to(REPO / "pages" / "lesson.py")
    (folder / "pages" / "inside.py").write_text("import streamlit as st\nst.title('inside stub')\n")
    (folder / "app.py").write_text("import streamlit as st\nst.navigation([st.Page('pages/lesson.py', default=True), "
                                   "st.Page('pages/inside.py')]).run()\n")
    return AppTest.from_file(str(folder / "app.py"), default_timeout=60)


def texts(elements) -> str:
    return "\n".join(str(element.value) for element in elements)


def test_the_three_steps_render_with_the_lessons_budget(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_LESSON_SECONDS", "8")
    app = lesson_app(tmp_path).run()
    assert not app.exception
    assert [header.value for header in app.subheader] == ["1. The race", "2. The memory probe", "3. Look inside"]
    assert [button.label for button in app.button] == ["Start the race", "Start the memory probe"]
    assert not any(button.disabled for button in app.button)
    assert app.selectbox(key="seqlab_lesson_corpus").value == "tiny-shakespeare"
    assert app.radio(key="seqlab_lesson_equal").value == "time"
    assert app.get("button_group")[0].value == [5, 10, 20, 40]  # the distances, as pills
    captions = texts(app.caption)
    assert "Each cell trains for 8 s" in captions and "12 runs of 4 s each" in captions
    assert "What to look for" in texts(app.markdown)
    assert "Run the race first" in captions and not app.get("page_link")


def test_start_the_race_and_the_probe_create_runs_marked_as_one_experiment(tmp_path, monkeypatch, fake_worker):
    monkeypatch.setenv("SEQLAB_LESSON_SECONDS", "8")
    app = lesson_app(tmp_path).run()
    app.radio(key="seqlab_lesson_equal").set_value("parameters").run()
    app.button(key="seqlab_lesson_start_race").click().run()
    assert not app.exception
    runs = [Path(item["path"]) for item in jobs.list_runs()]
    records = [experiment.read_experiment(path) for path in runs]
    assert len(runs) == 4 and {record["id"] for record in records} == {"race-1"}
    assert sorted(record["cell"] for record in records) == ["gru", "lstm", "simple_rnn", "transformer"]
    assert {record["equal"] for record in records} == {"parameters"}
    configs = [run_folder.read_configs(path) for path in runs]
    assert {train.time_budget_seconds for _, train in configs} == {8.0}
    assert {train.corpus for _, train in configs} == {"tiny-shakespeare"}
    shown = texts(app.markdown)
    assert all(f"[{name}]**" in shown for name in ("SimpleRNN", "LSTM", "GRU", "Tiny Transformer"))  # a card each
    assert not app.success  # the verdict waits for all four
    assert app.button(key="seqlab_lesson_start_race").disabled  # one race at a time: a second click starts nothing
    app.get("button_group")[0].set_value([5, 20]).run()
    app.button(key="seqlab_lesson_start_probe").click().run()
    assert not app.exception
    probe = [path for path in map(Path, (item["path"] for item in jobs.list_runs()))
             if (experiment.read_experiment(path) or {}).get("kind") == "probe"]
    assert len(probe) == 6
    corpora = sorted(run_folder.read_configs(path)[1].corpus for path in probe)
    assert corpora == ["memory-copy-20"] * 3 + ["memory-copy-5"] * 3
    assert {run_folder.read_configs(path)[1].time_budget_seconds for path in probe} == {4.0}
    assert "0 of 6 runs done" in app.get("progress")[-1].proto.text
    assert app.button(key="seqlab_lesson_start_probe").disabled


def test_a_browser_with_the_default_share_may_start_each_step_and_a_full_one_is_told_why(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_WORKSPACES", "on")  # a classroom server: each browser has its share (2 by default)
    app = lesson_app(tmp_path)
    app.session_state["seqlab_workspace"] = workspace = "lesson-browser-0123456789abcdef"
    app.run()
    assert not app.exception and not app.warning
    assert not any(button.disabled for button in app.button)  # a race (4 runs) and a probe (12) take one place each
    busy = run_folder.create_run_folder(run_folder.runs_root() / "busy", *default_configs("generate"))
    workspaces.write_owner(busy, workspace)  # a run of this browser's, waiting: its whole share when it is 1
    monkeypatch.setenv("SEQLAB_RUNS_PER_WORKSPACE", "1")
    app.run()
    assert all(button.disabled for button in app.button)
    assert "You already have 1 runs waiting or training" in texts(app.warning)


def write_step_records(run_dir: Path, final_loss: float) -> None:
    lines = [json.dumps({"type": "step", "step": step, "time": step * 0.5,
                         "loss": 4.2 - (4.2 - final_loss) * step / 20}) for step in range(1, 21)]
    (run_dir / run_folder.METRICS).write_text("\n".join(lines) + "\n", encoding="utf-8")


def fake_experiment(root: Path, kind: str, plans: list[dict], fields: dict, finish) -> list[Path]:
    """Run folders as a finished experiment leaves them; `finish(run_dir, plan)` writes each run's results."""
    folders = []
    for order, plan in enumerate(plans):
        run_dir = run_folder.create_run_folder(root / f"{kind}-{order}", plan["model"], plan["train"])
        experiment.write_experiment(run_dir, {"kind": kind, "id": f"{kind}-1", "created_at": time.time(),
                                              "order": order, **fields, **plan["record"]})
        finish(run_dir, plan)
        folders.append(run_dir)
    return folders


def test_a_finished_race_and_probe_show_the_verdict_the_chart_and_the_links(tmp_path):
    root = run_folder.runs_root()
    accuracy = {"simple_rnn": 0.39, "lstm": 0.48, "gru": 0.46, "transformer": 0.31}

    def finish_race(run_dir, plan):
        run_folder.write_status(run_dir, state="finished", progress=1.0, best_val_accuracy=accuracy[plan["cell"]],
                                best_val_loss=2.0, parameters=plan["parameters"], elapsed_seconds=60.0)
        write_step_records(run_dir, 3.0 - accuracy[plan["cell"]] * 2)
        (run_dir / run_folder.BEST_MODEL).write_bytes(b"")  # the Inside page checks the model; this page only looks

    fake_experiment(root, "race", race.plan_race("tiny-shakespeare", 60), {"equal": "time", "budget_seconds": 60.0},
                    finish_race)
    remembered = {"simple_rnn": {5: 0.9, 20: 0.13}, "lstm": {5: 1.0, 20: 0.97}, "gru": {5: 1.0, 20: 0.95}}

    def finish_probe(run_dir, plan):
        run_folder.write_status(run_dir, state="finished", progress=1.0)
        write_json_atomic(run_dir / probe_eval.PROBE, {"cell": plan["cell"], "accuracy":
                                                       remembered[plan["cell"]][plan["distance"]]})

    fake_experiment(root, "probe", memory_probe.plan_probe([5, 20], "copy", 10), {"corpus_kind": "copy"},
                    finish_probe)
    app = lesson_app(tmp_path).run()
    assert not app.exception
    verdict, sentence = (box.value for box in app.success)
    assert "LSTM guesses the next character right 48% of the time" in verdict and "LSTM learned most" in verdict
    assert "SimpleRNN is down to guessing from 20 steps back" in sentence and "LSTM still gets 97%" in sentence
    race_chart, probe_chart = (json.loads(chart.proto.spec) for chart in app.get("plotly_chart"))
    assert [trace["name"].split(" · ")[0] for trace in race_chart["data"]] == ["SimpleRNN", "LSTM", "GRU",
                                                                                "Tiny Transformer"]
    assert race_chart["data"][3]["line"]["color"] == "#AB63FA"  # the Transformer's own colour
    assert [trace["name"] for trace in probe_chart["data"]] == ["SimpleRNN", "LSTM", "GRU"]
    assert probe_chart["layout"]["shapes"][0]["line"]["dash"] == "dash"  # guessing, 1 in 8
    assert probe_chart["layout"]["shapes"][0]["y0"] == pytest.approx(0.125)
    assert "6 of 6 runs done" in app.get("progress")[-1].proto.text
    links = app.get("page_link")
    assert [link.value for link in links] == ["Look inside the race's LSTM", "Look inside the race's SimpleRNN"]
    lstm = next(path for path in root.iterdir() if (experiment.read_experiment(path) or {}).get("cell") == "lstm"
                and experiment.read_experiment(path)["kind"] == "race")
    assert links[0].proto.query_string == f"run={lstm.name}" and links[0].proto.page.endswith("inside")


def test_the_lesson_page_never_loads_tensorflow_to_show_itself(tmp_path):
    """A fresh interpreter renders the page: no TensorFlow or Keras (only scoring an ended probe run loads them)."""
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"app = AppTest.from_file({str(REPO / 'pages' / 'lesson.py')!r}, default_timeout=60).run()\n"
        "assert not app.exception and app.button, 'the lesson did not render'\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('tensorflow', 'keras')))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
