"""The live charts are built once per change of a run and shared: watchers of one run cost one build, and a refresh
of an unchanged run folder costs none (issue 24 item 5)."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from seqlab.runs import run_folder
from seqlab.ui import live_charts


def watcher(run_dir: str) -> None:
    """A session watching the run: what the live view draws for its charts on every refresh."""
    from pathlib import Path

    from seqlab.ui.live_charts import show_charts

    show_charts(Path(run_dir), {"uniform": 4.17, "unigram": 3.3}, "generate", "norm", 1.0)


def add_steps(run_dir: Path, first: int, last: int) -> None:
    for step in range(first, last + 1):
        run_folder.append_jsonl(run_dir / run_folder.METRICS, {"type": "step", "step": step, "loss": 4.0 - step / 100,
                                                               "accuracy": step / 100, "grad_norm": 0.5})


def specs(app: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]


def test_watchers_of_one_run_share_one_build_per_change(tmp_path):
    run_dir = tmp_path / "shared-run"
    run_dir.mkdir()
    add_steps(run_dir, 1, 30)
    before = live_charts.builds
    alice = AppTest.from_function(watcher, args=(str(run_dir),)).run()
    bob = AppTest.from_function(watcher, args=(str(run_dir),)).run()
    assert not alice.exception and not bob.exception
    assert live_charts.builds == before + 1  # the second watcher replays the first one's charts
    assert len(specs(alice)) == 3 and specs(alice) == specs(bob)
    assert "clipping kicked in on 0% of 30 steps" in bob.caption[0].value
    for _ in range(3):  # refreshes of an unchanged run folder: nothing is rebuilt, everything is still drawn
        alice.run()
        bob.run()
    assert live_charts.builds == before + 1 and len(specs(alice)) == len(specs(bob)) == 3
    add_steps(run_dir, 31, 31)  # the worker appends a step: one new build for everyone
    bob.run()
    alice.run()
    assert live_charts.builds == before + 2
    assert specs(alice) == specs(bob) and "of 31 steps" in alice.caption[0].value


def test_a_run_without_steps_draws_no_charts(tmp_path):
    run_dir = tmp_path / "new-run"
    run_dir.mkdir()
    before = live_charts.builds
    app = AppTest.from_function(watcher, args=(str(run_dir),)).run()
    assert not app.exception and not app.get("plotly_chart") and live_charts.builds == before
    add_steps(run_dir, 1, 2)
    app.run()
    assert len(specs(app)) == 3 and live_charts.builds == before + 1


def test_a_training_runs_charts_are_rebuilt_at_most_every_chart_seconds(tmp_path, monkeypatch):
    run_dir = tmp_path / "training-run"
    run_dir.mkdir()
    add_steps(run_dir, 1, 10)
    clock = [1000.0]
    monkeypatch.setattr(live_charts, "_now", lambda: clock[0])
    first = live_charts.signature_to_draw(run_dir, training=True)
    add_steps(run_dir, 11, 11)
    clock[0] += live_charts.CHART_SECONDS / 2
    assert live_charts.signature_to_draw(run_dir, training=True) == first  # too soon: the charts shown stay
    assert live_charts.signature_to_draw(run_dir, training=False) != first  # an ended run: its final metrics
    add_steps(run_dir, 12, 12)
    clock[0] += live_charts.CHART_SECONDS
    assert live_charts.signature_to_draw(run_dir, training=True) == live_charts.metrics_signature(run_dir)


def test_presenter_mode_draws_taller_charts_in_larger_type(tmp_path):
    run_dir = tmp_path / "projected-run"
    run_dir.mkdir()
    add_steps(run_dir, 1, 10)
    normal = AppTest.from_function(watcher, args=(str(run_dir),)).run()
    projected = AppTest.from_function(watcher, args=(str(run_dir),))
    projected.query_params["present"] = "1"
    projected.run()
    assert not normal.exception and not projected.exception
    for plain_spec, large_spec in zip(specs(normal), specs(projected), strict=True):
        assert large_spec["layout"]["height"] > plain_spec["layout"]["height"]
        assert large_spec["layout"]["font"]["size"] > plain_spec["layout"].get("font", {}).get("size", 12)
