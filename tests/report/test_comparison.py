"""Runs table rows, settings diff and overlaid curves, on hand-made run folders (no training)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seqlab.errors import SeqlabError
from seqlab.model.size import parameter_count
from seqlab.presets import default_configs
from seqlab.report import comparison
from seqlab.runs import jobs, run_folder


def make_run(name: str, task: str = "generate", created_at: float = 1.0, metrics: list[dict] = (),
             **overrides) -> Path:
    model, train = default_configs(task, **overrides)
    run_dir = run_folder.create_run_folder(run_folder.runs_root() / name, model, train)
    run_folder.write_status(run_dir, created_at=created_at)
    for record in metrics:
        run_folder.append_jsonl(run_dir / run_folder.METRICS, record)
    return run_dir


def listed() -> dict[str, dict]:
    return {item["id"]: item for item in jobs.list_runs()}


def test_table_rows_show_settings_results_and_problems():
    finished = make_run("finished", cell="gru", num_layers=2, units=32, corpus="hamlet", created_at=3.0)
    run_folder.write_status(finished, state="finished", parameters=12_345, best_val_loss=1.75, best_val_accuracy=0.5,
                      elapsed_seconds=61.5, progress=1.0)
    failed = make_run("failed", created_at=2.0)
    run_folder.write_status(failed, state="failed", error="The loss became NaN", progress=0.25)
    broken = make_run("broken", created_at=1.0)
    (broken / run_folder.CONFIG).write_text("{not json", encoding="utf-8")
    rows = {row["Run"]: row for row in comparison.table_rows(jobs.list_runs())}
    assert list(rows) == ["finished", "failed", "broken"]
    row = rows["finished"]
    assert (row["Task"], row["Corpus"], row["Cell"], row["Layers"], row["Units"]) == (
        "generate text", "hamlet", "GRU", 2, 32)
    assert (row["Parameters"], row["Best validation loss"], row["Best validation accuracy"]) == (12_345, 1.75, 0.5)
    assert (row["Training time (s)"], row["Progress"], row["Status"], row["Problem"]) == (61.5, 1.0, "finished", None)
    assert rows["failed"]["Status"] == "failed" and rows["failed"]["Problem"] == "The loss became NaN"
    assert rows["failed"]["Best validation loss"] is None and rows["failed"]["Progress"] == 0.25
    assert rows["broken"]["Status"] == "damaged" and "not valid JSON" in rows["broken"]["Problem"]
    assert rows["broken"]["Cell"] is None and rows["broken"]["Parameters"] is None


def test_parameters_before_training_and_queue_position(tmp_path):
    make_run("reviews", task="classify", units=8, embedding_dim=4, vocabulary_size=100, bidirectional=True)
    make_run("text", corpus=str(tmp_path / "my text.txt"))
    (tmp_path / "my text.txt").write_text("x", encoding="utf-8")
    run_folder.write_status(run_folder.runs_root() / "text", queue_position=2, queued_at=5.0)
    rows = {row["Run"]: row for row in comparison.table_rows(jobs.list_runs())}
    model, _ = default_configs("classify", units=8, embedding_dim=4, vocabulary_size=100, bidirectional=True)
    assert rows["reviews"]["Parameters"] == parameter_count(model, 100)
    assert rows["reviews"]["Cell"] == "LSTM (both directions)" and rows["reviews"]["Task"] == "judge reviews"
    assert rows["text"]["Parameters"] is None  # a generator's vocabulary is unknown until its corpus is read
    assert rows["text"]["Corpus"] == "my text.txt" and rows["text"]["Status"] == "queued (#2 in line)"


def test_config_diff_lists_only_what_differs():
    make_run("a", cell="lstm", units=64, learning_rate=0.002)
    make_run("b", cell="simple_rnn", units=64, learning_rate=0.004)
    make_run("c", cell="lstm", units=64, learning_rate=0.002)
    items = listed()
    rows = comparison.config_diff([items["a"], items["b"]])
    assert rows == [{"setting": "model.cell", "a": "lstm", "b": "simple_rnn"},
                    {"setting": "train.learning_rate", "a": "0.002", "b": "0.004"}]
    assert comparison.config_diff([items["a"], items["c"]]) == []
    three = comparison.config_diff([items["a"], items["c"], items["b"]])
    assert [row["setting"] for row in three] == ["model.cell", "train.learning_rate"]
    assert three[0] == {"setting": "model.cell", "a": "lstm", "c": "lstm", "b": "simple_rnn"}


def test_config_diff_refuses_one_run_and_damaged_runs():
    make_run("a")
    broken = make_run("broken")
    (broken / run_folder.CONFIG).write_text("[]", encoding="utf-8")
    items = listed()
    with pytest.raises(SeqlabError, match="two runs or more"):
        comparison.config_diff([items["a"]])
    with pytest.raises(SeqlabError, match="broken has no readable settings"):
        comparison.config_diff([items["a"], items["broken"]])


STEPS = [{"type": "step", "step": s, "time": s * 0.5, "loss": loss, "accuracy": 0.1}
         for s, loss in enumerate([4.0, 3.0, 2.0, 1.0], start=1)]
EPOCHS = [{"type": "epoch", "epoch": 0, "step": 2, "time": 1.0, "val_loss": 2.5, "val_accuracy": 0.3},
          {"type": "epoch", "epoch": 1, "step": 4, "time": 2.0, "val_loss": None, "val_accuracy": None},
          {"type": "epoch", "epoch": 2, "step": 4, "time": 2.1, "val_loss": 1.5, "val_accuracy": 0.6}]


def test_run_curves_read_steps_and_epochs():
    run_dir = make_run("curves", metrics=STEPS + EPOCHS)
    curves = comparison.run_curves(run_dir)
    assert curves["loss"]["step"] == [1, 2, 3, 4] and curves["loss"]["time"] == [0.5, 1.0, 1.5, 2.0]
    assert curves["loss"]["value"] == pytest.approx(comparison.smooth([4.0, 3.0, 2.0, 1.0]))
    assert curves["val_loss"] == {"step": [2, 4], "time": [1.0, 2.1], "value": [2.5, 1.5]}  # the None is skipped
    assert curves["val_accuracy"]["value"] == [0.3, 0.6]
    assert comparison.run_curves(make_run("empty")) == {
        metric: {"step": [], "time": [], "value": []} for metric, _ in comparison.PANELS}


def test_smooth_is_unbiased_and_follows_the_trend():
    assert comparison.smooth([2.0, 2.0, 2.0]) == pytest.approx([2.0, 2.0, 2.0])  # no pull towards 0
    smoothed = comparison.smooth([4.0, 3.0, 2.0, 1.0])
    assert smoothed[0] == 4.0 and all(a > b for a, b in zip(smoothed, smoothed[1:]))
    assert smoothed[-1] > 1.0  # lags behind the raw values
    assert comparison.smooth([4.0, 1.0], weight=0.0) == [4.0, 1.0]


def test_overlay_figure_has_one_colour_and_one_legend_entry_per_run():
    first = comparison.run_curves(make_run("first", metrics=STEPS + EPOCHS))
    second = comparison.run_curves(make_run("second", metrics=STEPS[:2]))
    figure = comparison.overlay_figure({"LSTM": first, "RNN": second})
    assert len(figure.data) == 2 * len(comparison.PANELS)
    for label in ("LSTM", "RNN"):
        traces = [trace for trace in figure.data if trace.name == label]
        assert len(traces) == len(comparison.PANELS) and len({trace.line.color for trace in traces}) == 1
        assert [trace.showlegend for trace in traces] == [True, False, False]
    assert figure.data[0].line.color != figure.data[3].line.color
    assert list(figure.data[1].x) == [2, 4] and list(figure.data[1].y) == [2.5, 1.5]
    assert list(figure.data[3].y) == pytest.approx(comparison.smooth([4.0, 3.0]))
    by_time = comparison.overlay_figure({"LSTM": first}, x_axis="time")
    assert list(by_time.data[0].x) == [0.5, 1.0, 1.5, 2.0]
    assert by_time.layout.xaxis.title.text == "training time (s)"
    assert [annotation.text for annotation in figure.layout.annotations] == [t for _, t in comparison.PANELS]
    with pytest.raises(SeqlabError, match="Unknown x axis 'epoch'"):
        comparison.overlay_figure({"LSTM": first}, x_axis="epoch")


def test_labels_name_the_model_and_keep_the_id():
    make_run("run-1", cell="simple_rnn", num_layers=2, units=128)
    item = listed()["run-1"]
    assert comparison.run_label(item) == "plain RNN 2×128 · run-1"
    assert comparison.run_label({"id": "broken", "model": None}) == "broken"
    assert json.loads((run_folder.runs_root() / "run-1" / run_folder.CONFIG).read_text())["model"]["units"] == 128
