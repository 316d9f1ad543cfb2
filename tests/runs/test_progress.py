"""Progress = steps done ÷ steps planned by the run's real stopping rule (seqlab/runs/progress.py), and the clock
and status writer that apply it (seqlab/train/callbacks.py)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from seqlab.runs import progress
from seqlab.runs.progress import EPOCHS, STEP_CAP, TIME_BUDGET, Plan


def test_the_step_limit_is_the_epochs_or_a_lower_step_cap():
    assert progress.step_limit(156, 1000, 0) == (156_000, EPOCHS)
    assert progress.step_limit(156, 3, 200) == (200, STEP_CAP)
    assert progress.step_limit(156, 1, 500) == (156, EPOCHS)  # a cap above the epochs' steps never acts


def test_a_time_budget_plans_the_steps_the_measured_speed_fits_in_it():
    # the quick demo: 1,000 epochs of 156 steps, 60 s; after 10 s at 10 steps/s, 100 steps done
    planned = progress.plan(100, 156_000, EPOCHS, 60.0, 10.0, 10.0)
    assert planned == Plan(600, TIME_BUDGET) and planned.estimated
    assert progress.share_done(100, planned) == pytest.approx(1 / 6)


def test_epochs_or_a_step_cap_win_when_they_end_the_run_before_the_budget():
    assert progress.plan(100, 300, EPOCHS, 60.0, 10.0, 10.0) == Plan(300, EPOCHS)
    assert progress.plan(100, 200, STEP_CAP, 60.0, 10.0, 10.0) == Plan(200, STEP_CAP)
    assert not progress.plan(100, 200, STEP_CAP, 0.0, 10.0, 10.0).estimated
    assert progress.plan(0, 200, STEP_CAP, 0.0, 0.0, 0.0) == Plan(200, STEP_CAP)  # exact before any step


def test_before_the_speed_is_known_a_time_budget_shows_the_time_spent():
    planned = progress.plan(0, 156_000, EPOCHS, 60.0, 3.0, 0.0)
    assert planned == Plan(None, TIME_BUDGET)
    assert progress.share_done(0, planned, 60.0, 3.0) == pytest.approx(0.05)
    assert progress.steps_in_words({"step": 0, **progress.status_fields(0, planned, 60.0, 3.0)}) == "step 0"


def test_a_run_stopped_halfway_through_its_budget_shows_half():
    planned = progress.plan(300, 156_000, EPOCHS, 60.0, 30.0, 10.0)  # stopped at 30 s of 60 s
    assert planned == Plan(600, TIME_BUDGET)
    assert progress.status_fields(300, planned)["progress"] == pytest.approx(0.5)


def test_steps_in_words():
    assert progress.steps_in_words({"step": 123, "planned_steps": 640, "plan_rule": TIME_BUDGET,
                                    "state": "running"}) == "step 123 of ≈640 (time budget)"
    assert progress.steps_in_words({"step": 640, "planned_steps": 640, "plan_rule": TIME_BUDGET,
                                    "state": "finished"}) == "step 640 of 640 (time budget)"
    assert progress.steps_in_words({"step": 80, "planned_steps": 200, "plan_rule": STEP_CAP}) == \
        "step 80 of 200 (step cap)"
    assert progress.steps_in_words({"step": 5, "total_steps": 12}) == "step 5 of 12"  # a run from before plans


class _Model:
    stop_training = False


def _clock(monkeypatch, total=156_000, rule=EPOCHS, budget=60.0):
    from seqlab.train import callbacks

    now = [1000.0]
    monkeypatch.setattr(callbacks.time, "monotonic", lambda: now[0])
    clock = callbacks.TrainingClock(total, 0, 0.0, budget, rule)
    clock.set_model(_Model())
    return clock, now


def _steps(clock, now, count: int, seconds_each: float) -> None:
    for _ in range(count):
        clock.on_train_batch_begin(0)
        now[0] += seconds_each
        clock.on_train_batch_end(0)


@pytest.mark.parametrize("stop_at", [30.0, 15.0])
def test_the_clock_freezes_its_plan_when_stopped_and_the_status_shows_the_share_done(tmp_path, monkeypatch, stop_at):
    from seqlab.runs import run_folder
    from seqlab.train import callbacks

    clock, now = _clock(monkeypatch)
    _steps(clock, now, int(stop_at * 10), 0.1)  # 10 steps/s of wall time
    clock.stop("stop")
    now[0] += 5.0  # the last validation and the saves, after Stop, do not change what was planned
    writer = callbacks.ProgressWriter(tmp_path, clock, 156, 64 * 100)
    run_folder.write_status(tmp_path, state="stopping")
    writer.finish("stopped")
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["plan_rule"] == TIME_BUDGET and status["state"] == "stopped"
    assert status["progress"] == pytest.approx(stop_at / 60.0, abs=0.02)
    assert status["progress"] == pytest.approx(clock.step / status["planned_steps"])


def test_a_finished_run_is_complete_and_a_step_cap_is_exact(tmp_path, monkeypatch):
    from seqlab.train import callbacks

    clock, now = _clock(monkeypatch, total=50, rule=STEP_CAP, budget=0.0)
    _steps(clock, now, 20, 0.1)
    writer = callbacks.ProgressWriter(tmp_path, clock, 156, 6400)
    writer.write("running")
    status = json.loads((tmp_path / "status.json").read_text())
    assert (status["planned_steps"], status["plan_rule"], status["progress"]) == (50, STEP_CAP, pytest.approx(0.4))
    _steps(clock, now, 30, 0.1)
    clock.stop("steps")
    writer.finish("finished")
    status = json.loads((tmp_path / "status.json").read_text())
    assert (status["planned_steps"], status["progress"], status["state"]) == (50, 1.0, "finished")


def test_a_pressed_stop_is_never_overwritten_by_running(tmp_path, monkeypatch):
    from seqlab.runs import run_folder
    from seqlab.train import callbacks

    clock, now = _clock(monkeypatch)
    _steps(clock, now, 10, 0.1)
    writer = callbacks.ProgressWriter(tmp_path, clock, 156, 6400)
    (tmp_path / run_folder.STOP_REQUEST).write_text("{}")  # the app's Stop, before the worker's next check
    now[0] += 1.0
    writer.on_train_batch_end(0, SimpleNamespace())
    assert json.loads((tmp_path / "status.json").read_text())["state"] == "stopping"
