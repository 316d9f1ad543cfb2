"""Metrics are read in bounded memory: at most MAX_STEP_POINTS step records per run, however long the run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from seqlab.runs import metrics, run_folder
from tests.conftest import REPO


def step(number: int, **fields) -> dict:
    return {"type": "step", "step": number, "loss": 4.0 - number / 1e6, **fields}


def table_of(records, max_steps: int = metrics.MAX_STEP_POINTS) -> tuple[list[dict], list[dict]]:
    table = metrics.MetricsTable(max_steps)
    for record in records:
        table.add(record)
    return table.records()


@pytest.mark.parametrize("count", [1, 2, 99, 100, 101, 1_000, 12_345])
def test_a_long_run_is_thinned_to_an_even_grid_with_its_first_and_last_step(count):
    steps, _ = table_of((step(n) for n in range(1, count + 1)), 100)
    numbers = [record["step"] for record in steps]
    assert len(numbers) <= 100 if count > 100 else numbers == list(range(1, count + 1))
    assert numbers[0] == 1 and numbers[-1] == count and numbers == sorted(set(numbers))
    if count > 100:
        assert len(numbers) > 50  # not thinner than it needs to be
        gaps = {b - a for a, b in zip(numbers[1:-2], numbers[2:-1])}
        assert len(gaps) == 1  # evenly spaced between the first and the latest
    table_of([], 100)  # (an empty table is fine)


def test_thinning_keeps_every_epoch_and_the_latest_record_for_a_step():
    records = [step(n) for n in range(1, 5_001)] + [{"type": "epoch", "epoch": e, "step": 40 * e, "val_loss": 2.0}
                                                      for e in range(1, 126)]
    steps, epochs = table_of(records, 100)
    assert [record["epoch"] for record in epochs] == list(range(1, 126))
    resumed = records + [step(n, resumed=True) for n in range(3_000, 3_501)]  # trained again after a resume
    steps, _ = table_of(resumed, 100)
    assert steps[-1]["step"] == 3_500 and steps[-1]["resumed"]
    assert all(record.get("resumed") for record in steps if record["step"] >= 3_000)
    assert all(record["step"] <= 3_500 for record in steps) and len(steps) <= 100
    assert table_of([step(1), step(2), step(2, loss=9.0)])[0][-1]["loss"] == 9.0  # a short run: all of it, as before


def test_records_that_are_not_metrics_are_ignored():
    table = metrics.MetricsTable()
    assert not table.add({"type": "step", "step": "3"}) and not table.add({"type": "sample", "step": 3})
    assert not table.add({"type": "step", "step": True}) and table.records() == ([], [])
    with pytest.raises(ValueError):
        metrics.MetricsTable(2)


def test_read_metrics_streams_and_skips_garbled_lines(tmp_path):
    path = tmp_path / run_folder.METRICS
    lines = [json.dumps(step(n)) for n in range(1, 10_001)]
    lines.insert(500, '{"type": "step", "st')  # a crash mid-write
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    steps, epochs = run_folder.read_metrics(tmp_path)
    assert len(steps) <= metrics.MAX_STEP_POINTS and steps[-1]["step"] == 10_000 and epochs == []
    assert run_folder.read_metrics(tmp_path / "nothing-here") == ([], [])


def test_the_live_view_reads_the_same_points_a_block_at_a_time(tmp_path, monkeypatch):
    from seqlab.ui import run_files

    monkeypatch.setattr(run_files, "READ_BLOCK", 4096)
    path = tmp_path / run_folder.METRICS
    tail = run_files.MetricsTail(path)
    for start in (1, 3_001):  # the first read, then what was appended since
        with open(path, "a", encoding="utf-8") as file:
            file.write("".join(json.dumps(step(n)) + "\n" for n in range(start, start + 3_000)))
        assert tail.read() == run_folder.read_metrics(tmp_path)
    assert tail.read()[0][-1]["step"] == 6_000 and tail.offset == path.stat().st_size


MEASURE = """
import json, resource, sys
from pathlib import Path
from seqlab.runs import run_folder
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
steps, epochs = run_folder.read_metrics(Path(sys.argv[1]))
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"points": len(steps), "first": steps[0]["step"], "last": steps[-1]["step"],
                  "epochs": len(epochs), "grown_kib": grown}))
"""


def test_a_million_steps_read_in_little_memory(tmp_path):
    """A day-long run's file (~65 MB): parsed whole into records it would take about a gigabyte."""
    with open(tmp_path / run_folder.METRICS, "w", encoding="utf-8") as file:
        for start in range(1, 1_000_001, 100_000):
            file.write("".join(f'{{"type": "step", "step": {n}, "loss": {4 - n / 4e5:.4f}, "grad_norm": {n % 7}}}\n'
                               + (f'{{"type": "epoch", "epoch": {n // 1000}, "step": {n}, "val_loss": 2.5}}\n'
                                  if n % 1000 == 0 else "") for n in range(start, start + 100_000)))
    result = subprocess.run([sys.executable, "-c", MEASURE, str(tmp_path)], capture_output=True, text=True, cwd=REPO,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout)
    assert measured["points"] <= metrics.MAX_STEP_POINTS and measured["points"] > metrics.MAX_STEP_POINTS // 2
    assert (measured["first"], measured["last"], measured["epochs"]) == (1, 1_000_000, 1_000)
    assert measured["grown_kib"] < 40_000, measured  # the kept records and one line at a time, not the file
