"""`python -m seqlab race` and `python -m seqlab probe memory`: one-line errors, runs started as one experiment,
the JSON a script reads and the table a person pastes into docs/lessons.md."""

from __future__ import annotations

import json

import pytest

from seqlab.cli.lessons import format_probe
from seqlab.cli.main import main
from seqlab.lessons import experiment
from tests.tiny_runs import end_every_run


@pytest.mark.parametrize("distances", ["5,x", "0,10", "1,2,3,4,5,6,7,8,9", "300"])
def test_bad_distances_are_one_line_and_exit_2(distances, capsys, tmp_path):
    assert main(["probe", "memory", "--distances", distances, "--runs-root", str(tmp_path / "runs")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1 and "Fix:" in error
    assert not list((tmp_path / "runs").glob("2*"))


def test_probe_starts_its_runs_and_writes_the_json(capsys, tmp_path):
    root, out = tmp_path / "runs", tmp_path / "probe.json"
    try:
        code = main(["probe", "memory", "--distances", "3,2", "--budget", "2", "--no-wait", "--json",
                     "--runs-root", str(root), "--out", str(out)])
    finally:
        end_every_run(root)
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report == json.loads(out.read_text())
    assert report["id"] == "probe-1" and report["distances"] == [2, 3] and len(report["runs"]) == 6
    assert report["command"] == "python -m seqlab probe memory --distances 2,3 --kind copy --budget 2"
    assert report["machine"]["cpus"] >= 1 and [row["distance"] for row in report["rows"]] == [2, 3]
    assert {row[cell] for row in report["rows"] for cell in ("simple_rnn", "lstm", "gru")} == {None}  # not scored
    records = [experiment.read_experiment(path) for path in report["runs"]]
    assert [(record["distance"], record["cell"]) for record in records][:3] == [
        (2, "simple_rnn"), (2, "lstm"), (2, "gru")]


def test_race_without_waiting(capsys, tmp_path):
    root = tmp_path / "runs"
    try:
        code = main(["race", "--corpus", "hamlet", "--budget", "2", "--units", "8", "--equal", "parameters",
                     "--no-wait", "--json", "--runs-root", str(root)])
    finally:
        end_every_run(root)
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["id"] == "race-1" and [row["cell"] for row in report["runs"]] == ["simple_rnn", "lstm", "gru",
                                                                                             "transformer"]
    assert report["verdict"].startswith("Still racing: ")
    assert main(["race", "--equal", "weights", "--runs-root", str(root)]) == 2


def test_the_table_a_person_reads():
    report = {"id": "probe-1", "kind": "copy", "budget_seconds": 45.0, "date": "2026-12-04 16:00 UTC",
              "rows": [{"distance": 5, "chance": 0.125, "simple_rnn": 0.98, "lstm": 1.0, "gru": None}],
              "sentence": "S.", "command": "python -m seqlab probe memory --distances 5",
              "machine": {"cpus": 2, "platform": "Linux"}}
    lines = format_probe(report).splitlines()
    assert lines[1].split() == ["steps", "back", "SimpleRNN", "LSTM", "GRU", "chance"]
    assert lines[2].split() == ["5", "98%", "100%", "—", "12.5%"]
    assert lines[-2:] == ["command: python -m seqlab probe memory --distances 5",
                          "machine: 2 CPUs, Linux; probe-1, 2026-12-04 16:00 UTC"]


def test_show_reports_an_earlier_race_or_probe_and_refuses_a_wrong_id(capsys, tmp_path):
    from tests.lessons.fake_runs import fake_run

    root = tmp_path / "runs"
    record = {"kind": "race", "id": "race-1", "equal": "time", "budget_seconds": 60}
    for order, (cell, accuracy) in enumerate({"simple_rnn": 0.39, "lstm": 0.48, "gru": 0.47}.items()):
        fake_run(root, cell, cell, units=256, record={**record, "order": order}, best_val_accuracy=accuracy)
    probe = {"kind": "probe", "id": "probe-1", "corpus_kind": "copy", "distances": [5], "budget_seconds": 30,
             "distance": 5}
    fake_run(root, "probe-lstm", "lstm", corpus="memory-copy-5", record=probe,
             probe={"accuracy": 0.9, "chance": 0.125, "distance": 5, "cell": "lstm"})
    assert main(["race", "--show", "race-1", "--runs-root", str(root)]) == 0
    assert "LSTM guesses the next character right 48% of the time" in capsys.readouterr().out
    assert main(["probe", "memory", "--show", "probe-1", "--no-wait", "--runs-root", str(root)]) == 0
    shown = capsys.readouterr().out
    assert "--distances 5 --kind copy --budget 30" in shown and "90%" in shown
    assert main(["race", "--show", "probe-1", "--runs-root", str(root)]) == 2
    assert "'probe-1' is not a race" in capsys.readouterr().err
    assert not [entry for entry in root.iterdir() if entry.name.startswith("2")]  # nothing new started
