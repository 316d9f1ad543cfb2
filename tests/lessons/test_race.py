"""The cell-type race: fair plans, the four runs marked as one experiment and found again, the verdict's words."""

from __future__ import annotations

import pytest

from seqlab.errors import SeqlabError
from seqlab.lessons import experiment, race
from seqlab.runs import names, run_folder
from seqlab.runs.workspaces import Viewer
from tests.lessons.fake_runs import fake_run
from tests.tiny_runs import end_every_run


def test_equal_time_gives_the_same_units_and_seconds():
    plans = race.plan_race("hamlet", 60, "time", units=128)
    assert [plan["cell"] for plan in plans] == ["simple_rnn", "lstm", "gru", "transformer"]
    assert {plan["units"] for plan in plans} == {128} and {plan["budget_seconds"] for plan in plans} == {60.0}
    assert {plan["train"].time_budget_seconds for plan in plans} == {60.0}
    assert plans[0]["parameters"] < plans[2]["parameters"] < plans[1]["parameters"] < plans[3]["parameters"]
    assert plans[3]["model"].heads == 4 and race.race_heads(30) == 2 and race.race_heads(7) == 1


def test_equal_parameters_matches_the_lstms_size():
    plans = {plan["cell"]: plan for plan in race.plan_race("hamlet", 30, "parameters", units=128)}
    target = plans["lstm"]["parameters"]
    assert plans["lstm"]["units"] == 128 and plans["simple_rnn"]["units"] > plans["gru"]["units"] > 128
    for cell, plan in plans.items():  # a Transformer's units go in steps of its 4 heads: a coarser match
        assert abs(plan["parameters"] - target) / target < (0.05 if cell == "transformer" else 0.03)
        assert plan["model"].units == plan["units"]
    assert plans["transformer"]["units"] % 4 == 0 and plans["transformer"]["units"] < 128


def test_bad_choices_are_refused():
    with pytest.raises(SeqlabError, match="time or parameters"):
        race.plan_race("hamlet", 60, "weights")
    with pytest.raises(SeqlabError, match="budget"):
        race.plan_race("hamlet", 0)


def test_a_race_is_four_runs_marked_as_one_experiment(tmp_path):
    root = tmp_path / "runs"
    try:
        started = race.start_race("hamlet", 2, units=8, root=root)
    finally:
        end_every_run(root)
    assert started["id"] == "race-1" and len(started["runs"]) == 4
    records = [experiment.read_experiment(path) for path in started["runs"]]
    assert [record["cell"] for record in records] == ["simple_rnn", "lstm", "gru", "transformer"]
    assert all(record["kind"] == "race" and record["equal"] == "time" and record["budget_seconds"] == 2
               for record in records)
    assert [names.run_name(path) for path in started["runs"]] == ["race-1 SimpleRNN", "race-1 LSTM", "race-1 GRU",
                                                                  "race-1 Tiny Transformer"]
    found = race.find_races(root)
    assert [group["id"] for group in found] == ["race-1"] and found[0]["runs"] == started["runs"]
    assert experiment.experiment_runs("race-1", root) == started["runs"]
    assert experiment.new_experiment_id("race", root) == "race-2"
    assert set(race.race_curves(started["runs"])) == {"SimpleRNN · 8 units", "LSTM · 8 units", "GRU · 8 units",
                                                      "Tiny Transformer · 8 units"}


def test_a_browsers_race_takes_one_place_in_its_share(tmp_path, monkeypatch):
    """Four runs, a share of two: the race starts (one place), one more run fits, a third thing does not."""
    monkeypatch.setenv("SEQLAB_WORKSPACES", "on")
    monkeypatch.setenv("SEQLAB_RUNS_PER_WORKSPACE", "2")
    monkeypatch.setenv("SEQLAB_MAX_JOBS", "1")
    root, viewer = tmp_path / "runs", Viewer("w" * 32, from_browser=True)
    try:
        started = race.start_race("hamlet", 2, units=8, root=root, viewer=viewer)
        assert len(started["runs"]) == 4
        second = race.start_race("hamlet", 2, units=8, root=root, viewer=viewer)
        with pytest.raises(SeqlabError, match="You already have 2 runs waiting or training"):
            race.start_race("hamlet", 2, units=8, root=root, viewer=viewer)
        runs = [entry for entry in run_folder.runs_root(root).iterdir() if not entry.name.startswith(".")]
        assert len(runs) == 8 and len(second["runs"]) == 4
    finally:
        end_every_run(run_folder.runs_root(root))


def _race(tmp_path, accuracies: dict, equal: str = "time", states: dict | None = None) -> list:
    record = {"kind": "race", "id": "race-1", "equal": equal, "budget_seconds": 60}
    return [fake_run(tmp_path, cell, cell, state=(states or {}).get(cell, "finished"), units=256,
                     record={**record, "order": order}, best_val_accuracy=accuracy, best_val_loss=1.5,
                     parameters=300_000, progress=0.4)
            for order, (cell, accuracy) in enumerate(accuracies.items())]


def test_verdict_names_the_winner_in_plain_words(tmp_path):
    runs = _race(tmp_path, {"simple_rnn": 0.39, "lstm": 0.48, "gru": 0.472})
    assert race.verdict(runs) == ("After 60 s each with the same units (256), LSTM guesses the next character right "
                                  "48% of the time, GRU 47%, SimpleRNN 39%: LSTM learned most.")


def test_verdict_says_how_many_steps_each_took(tmp_path):
    runs = _race(tmp_path, {"simple_rnn": 0.50, "lstm": 0.44, "gru": 0.45})
    for run_dir, steps in zip(runs, (2950, 1100, 1300)):
        run_folder.write_status(run_dir, step=steps)
    assert race.verdict(runs).endswith("SimpleRNN learned most. In that time SimpleRNN took 2,950 training steps, "
                                       "GRU 1,300, LSTM 1,100: the fewer gates a cell has, the less work a step "
                                       "is, and the more text it reads.")
    sized = _race(tmp_path / "sized", {"simple_rnn": 0.52, "lstm": 0.51, "gru": 0.53}, "parameters")
    for run_dir, steps in zip(sized, (627, 694, 553)):
        run_folder.write_status(run_dir, step=steps)
    assert race.verdict(sized).endswith("GRU learned most. In that time LSTM took 694 training steps, SimpleRNN 627, "
                                        "GRU 553.")


def test_verdict_with_the_transformer_in_the_race(tmp_path):
    runs = _race(tmp_path, {"simple_rnn": 0.40, "lstm": 0.48, "gru": 0.47, "transformer": 0.30})
    for run_dir, steps in zip(runs, (2950, 1100, 1300, 900)):
        run_folder.write_status(run_dir, step=steps)
    assert race.verdict(runs) == ("After 60 s each with the same units (256), LSTM guesses the next character right "
                                  "48% of the time, GRU 47%, SimpleRNN 40%, Tiny Transformer 30%: LSTM learned most. "
                                  "In that time SimpleRNN took 2,950 training steps, GRU 1,300, LSTM 1,100, Tiny "
                                  "Transformer 900: the less work a step is, the more text a cell reads.")


def test_verdict_for_equal_sizes_a_tie_and_a_failure(tmp_path):
    runs = _race(tmp_path, {"simple_rnn": None, "lstm": 0.48, "gru": 0.481}, "parameters",
                 {"simple_rnn": "failed"})
    assert race.verdict(runs) == ("After 60 s each at the same size (about 300,000 parameters), GRU guesses the next "
                                  "character right 48% of the time, LSTM 48%: GRU and LSTM learned about as much "
                                  "(SimpleRNN ended without a result).")


def test_verdict_while_the_race_is_on(tmp_path):
    runs = _race(tmp_path, {"simple_rnn": None, "lstm": 0.4, "gru": None}, states={"simple_rnn": "queued",
                                                                                     "gru": "queued"})
    assert race.verdict(runs) == "Still racing: SimpleRNN is queued, LSTM is finished, GRU is queued."
