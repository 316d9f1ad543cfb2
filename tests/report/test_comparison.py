"""Runs table rows, settings diff and overlaid curves, on hand-made run folders (no training)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from seqlab.errors import SeqlabError
from seqlab.model.size import parameter_count
from seqlab.presets import default_configs
from seqlab.report import comparison, plain_words
from seqlab.runs import jobs, names, run_folder


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


def test_table_rows_show_names_plain_figures_and_problems():
    finished = make_run("finished", cell="gru", num_layers=2, units=32, corpus="hamlet", created_at=3.0)
    run_folder.write_status(finished, state="finished", parameters=12_345, best_val_loss=math.log(4.3),
                            best_val_accuracy=0.5, elapsed_seconds=61.5, progress=1.0)
    names.write_label(finished, name="gru-hamlet-1")
    failed = make_run("failed", created_at=2.0)
    run_folder.write_status(failed, state="failed", error="The loss became NaN", progress=0.25)
    broken = make_run("broken", created_at=1.0)
    (broken / run_folder.CONFIG).write_text("{not json", encoding="utf-8")
    rows = {row["Run id"]: row for row in comparison.table_rows(jobs.list_runs())}
    assert list(rows) == ["finished", "failed", "broken"]
    row = rows["finished"]
    assert (row["Name"], row["Task"], row["Corpus"], row["Model"]) == (
        "gru-hamlet-1", "text generation", "hamlet", "GRU · 2 layers × 32 units")
    assert (row["Right"], row["Unsure among"]) == (0.5, pytest.approx(4.3))  # e^loss: choosing between 4.3
    assert row["Validation loss (nats)"] == pytest.approx(math.log(4.3)) and row["Parameters"] == 12_345
    assert (row["Training time (s)"], row["Progress"], row["Status"], row["Problem"]) == (61.5, 1.0, "finished", None)
    assert rows["failed"]["Name"] == "failed"  # an older run without a label is named by its id
    assert rows["failed"]["Status"] == "failed" and rows["failed"]["Problem"] == "The loss became NaN"
    assert rows["failed"]["Right"] is None and rows["failed"]["Progress"] == 0.25
    assert rows["broken"]["Status"] == "damaged" and "not valid JSON" in rows["broken"]["Problem"]
    assert rows["broken"]["Model"] is None and rows["broken"]["Parameters"] is None


def test_reviews_and_text_are_not_mixed():
    """A review model's loss is per review, a text model's per character: the table never compares them."""
    make_run("text", created_at=2.0)
    run_folder.write_status(run_folder.runs_root() / "text", state="finished", best_val_loss=1.5,
                            best_val_accuracy=0.55)
    make_run("reviews", task="classify", created_at=1.0)
    run_folder.write_status(run_folder.runs_root() / "reviews", state="finished", best_val_loss=0.3,
                            best_val_accuracy=0.875)
    items = jobs.list_runs()
    assert [row["Run id"] for row in comparison.table_rows(items, "generate")] == ["text"]
    [reviews] = comparison.table_rows(items, "classify")
    assert reviews["Right"] == 0.875 and reviews["Unsure among"] is None  # accuracy is a review model's figure
    assert reviews["Task"] == "review sentiment"
    huge = comparison.table_row({**items[0], "status": {**items[0]["status"], "best_val_loss": 900.0}})
    assert huge["Unsure among"] == plain_words.MAX_SHOWN_PERPLEXITY  # bounded, never an overflow


def test_parameters_before_training_and_queue_position(tmp_path):
    make_run("reviews", task="classify", units=8, embedding_dim=4, vocabulary_size=100, bidirectional=True)
    make_run("text", corpus=str(tmp_path / "my text.txt"))
    (tmp_path / "my text.txt").write_text("x", encoding="utf-8")
    run_folder.write_status(run_folder.runs_root() / "text", queue_position=2, queued_at=5.0)
    rows = {row["Run id"]: row for row in comparison.table_rows(jobs.list_runs())}
    model, _ = default_configs("classify", units=8, embedding_dim=4, vocabulary_size=100, bidirectional=True)
    assert rows["reviews"]["Parameters"] == parameter_count(model, 100)
    assert rows["reviews"]["Model"] == "bidirectional LSTM · 1 layer × 8 units"
    assert rows["text"]["Parameters"] is None  # a generator's vocabulary is unknown until its corpus is read
    assert rows["text"]["Corpus"] == "my text.txt" and rows["text"]["Status"] == "queued (#2 in line)"


def test_config_diff_lists_only_what_differs():
    make_run("a", cell="lstm", units=64, learning_rate=0.002)
    make_run("b", cell="simple_rnn", units=64, learning_rate=0.004)
    make_run("c", cell="lstm", units=64, learning_rate=0.002)
    items = listed()
    names.write_label(run_folder.runs_root() / "b", name="rnn-try")
    items = listed()
    rows = comparison.config_diff([items["a"], items["b"]])  # one column per run, headed by its name
    assert rows == [{"setting": "Cell type", "key": "model.cell", "a": "LSTM", "rnn-try": "SimpleRNN"},
                    {"setting": "Learning rate", "key": "train.learning_rate", "a": "0.002", "rnn-try": "0.004"}]
    assert comparison.config_diff([items["a"], items["c"]]) == []
    three = comparison.config_diff([items["a"], items["c"], items["b"]])
    assert [row["key"] for row in three] == ["model.cell", "train.learning_rate"]
    assert three[0] == {"setting": "Cell type", "key": "model.cell", "a": "LSTM", "c": "LSTM", "rnn-try": "SimpleRNN"}


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
        field: {"step": [], "time": [], "value": []} for field in ("val_accuracy", "loss", "val_loss", "val_mae")}


def test_smooth_is_unbiased_and_follows_the_trend():
    assert comparison.smooth([2.0, 2.0, 2.0]) == pytest.approx([2.0, 2.0, 2.0])  # no pull towards 0
    smoothed = comparison.smooth([4.0, 3.0, 2.0, 1.0])
    assert smoothed[0] == 4.0 and all(a > b for a, b in zip(smoothed, smoothed[1:]))
    assert smoothed[-1] > 1.0  # lags behind the raw values
    assert comparison.smooth([4.0, 1.0], weight=0.0) == [4.0, 1.0]


def test_overlay_figure_is_one_large_chart_of_the_chosen_figure():
    first = comparison.run_curves(make_run("first", metrics=STEPS + EPOCHS))
    second = comparison.run_curves(make_run("second", metrics=STEPS[:2]))
    figure = comparison.overlay_figure({"LSTM": first, "RNN": second}, metric="val_accuracy")
    assert [trace.name for trace in figure.data] == ["LSTM", "RNN"]  # one line per run, one chart
    assert figure.data[0].line.color != figure.data[1].line.color
    assert figure.layout.height >= 500 and not figure.layout.annotations  # no small panels
    assert list(figure.data[0].x) == [2, 4] and list(figure.data[0].y) == [0.3, 0.6]
    unsure = comparison.overlay_figure({"LSTM": first}, metric="val_unsure")
    assert list(unsure.data[0].y) == pytest.approx([math.exp(2.5), math.exp(1.5)])  # choosing between K
    assert unsure.layout.yaxis.type == "log" and "choosing between" in unsure.layout.yaxis.title.text
    training = comparison.overlay_figure({"RNN": second}, metric="unsure")
    assert list(training.data[0].y) == pytest.approx([math.exp(v) for v in comparison.smooth([4.0, 3.0])])
    nats = comparison.overlay_figure({"LSTM": first}, x_axis="time", metric="loss")
    assert list(nats.data[0].x) == [0.5, 1.0, 1.5, 2.0] and "nats" in nats.layout.yaxis.title.text
    assert nats.layout.xaxis.title.text == "training time (s)"
    with pytest.raises(SeqlabError, match="Unknown x axis 'epoch'"):
        comparison.overlay_figure({"LSTM": first}, x_axis="epoch")
    with pytest.raises(SeqlabError, match="Unknown figure 'bleu'"):
        comparison.overlay_figure({"LSTM": first}, metric="bleu")


def test_default_figure_is_accuracy_whenever_reviews_are_in_the_comparison():
    assert comparison.default_metric({"generate"}) == "unsure"
    assert comparison.default_metric({"generate", "classify"}) == "val_accuracy"
    assert comparison.default_metric({"classify"}) == "val_accuracy"
    assert comparison.metrics_for({"classify"}) == ["val_accuracy", "loss", "val_loss"]  # no 'K characters'
    assert comparison.metrics_for({"generate", "classify"}) == [m for m in comparison.METRICS if m != "val_mae"]
    assert comparison.default_metric({"forecast"}) == "val_mae"  # a forecast has no 'right': its error in units
    assert comparison.metrics_for({"forecast"}) == ["loss", "val_loss", "val_mae"]
    for tasks in ({"generate"}, {"classify"}, {"generate", "classify"}, {"forecast"}, {"forecast", "classify"}):
        assert comparison.default_metric(tasks) in comparison.metrics_for(tasks)


def test_labels_name_the_run_and_its_model():
    make_run("run-1", cell="simple_rnn", num_layers=2, units=128)
    make_run("run-2", cell="simple_rnn", num_layers=2, units=128)
    items = listed()
    assert comparison.run_label(items["run-1"]) == "run-1 · SimpleRNN · 2 layers × 128 units"  # no label: the id
    names.write_label(run_folder.runs_root() / "run-1", name="my-rnn")
    names.write_label(run_folder.runs_root() / "run-2", name="my-rnn")
    assert comparison.run_label(items["run-1"]) == "my-rnn · SimpleRNN · 2 layers × 128 units"
    labels = comparison.run_labels([items["run-1"], items["run-2"]], with_model=False)
    assert labels == {"run-1": "my-rnn · run-1", "run-2": "my-rnn · run-2"}  # a shared name is told apart by id
    assert comparison.run_label({"id": "broken", "model": None}) == "broken"
    assert json.loads((run_folder.runs_root() / "run-1" / run_folder.CONFIG).read_text())["model"]["units"] == 128
