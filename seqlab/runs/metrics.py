"""Reading a run's metrics.jsonl in bounded memory, however long the run.

A run writes one record per step: a day-long run leaves a million lines. The app and the CLI only draw them, and a
chart needs a few thousand points, so readers stream the file line by line and `MetricsTable` keeps at most
`MAX_STEP_POINTS` step records: the first, the latest, and those on an evenly spaced grid of steps whose spacing
doubles whenever the table is full (1, 2, 4, ... steps apart). Kept records are real records, so a thinned curve
keeps the spread of the raw one, and the share of clipped steps counted over them estimates the whole run's. Every
epoch (validation) record is kept. No TensorFlow, and nothing from the rest of seqlab: run_folder re-exports these.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

MAX_STEP_POINTS = 2000  # step records held per run (per reader); the charts send at most training_charts.MAX_POINTS


def parse_record(line: str | bytes) -> dict | None:
    """One JSON-lines record, or None for a line that is not one (truncated or garbled by a crash mid-write)."""
    try:
        record = json.loads(line)
    except ValueError:  # JSONDecodeError, or UnicodeDecodeError for bytes
        return None
    return record if isinstance(record, dict) else None


def iter_jsonl(path: Path) -> Iterator[dict]:
    """The complete records of a JSON-lines file, one at a time; a garbled line is skipped, a missing file is empty."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            for line in file:
                record = parse_record(line)
                if record is not None:
                    yield record
    except FileNotFoundError:
        return


class MetricsTable:
    """The records of a metrics.jsonl by step and by epoch, thinned to at most `max_steps` step records: every
    reader of metrics (read_metrics, the live view's incremental MetricsTail in seqlab/ui/run_files.py) files them
    through this class, so they all see the same points.

    After a resume the steps since the checkpoint are trained again, so the latest record for a step (or an epoch)
    wins: a step record at or before the latest one seen replaces it and drops the kept steps after it. Records of
    another type, or without an integer key, are ignored.
    """

    def __init__(self, max_steps: int = MAX_STEP_POINTS) -> None:
        if max_steps < 3:
            raise ValueError("a metrics table keeps at least 3 step records (first, latest, one between)")
        self.max_steps = max_steps
        self.steps: dict[int, dict] = {}  # the kept step records (the grid and the first), by step, ascending
        self.epochs: dict[int, dict] = {}
        self.latest: dict | None = None  # the newest step record, kept whether or not it is on the grid
        self.first_step: int | None = None
        self.stride = 1  # kept steps are multiples of this (and the first step)

    def add(self, record: dict) -> bool:
        """File one record; False if it is neither a step nor an epoch record (nothing changed)."""
        kind = record.get("type")
        key = record.get("step") if kind == "step" else record.get("epoch") if kind == "epoch" else None
        if not isinstance(key, int) or isinstance(key, bool):
            return False
        if kind == "epoch":
            self.epochs[key] = record
            return True
        if self.latest is not None and key <= self.latest["step"]:  # trained again after a resume
            self.steps = {step: kept for step, kept in self.steps.items() if step < key}
            if key <= self.first_step:  # all of it again: start afresh
                self.steps, self.first_step, self.stride = {}, None, 1
        if self.first_step is None:
            self.first_step = key
        self.latest = record
        if key == self.first_step or key % self.stride == 0:
            self.steps[key] = record
            if len(self.steps) > self.max_steps:
                self._coarsen()
        return True

    def _coarsen(self) -> None:
        """Double the grid's spacing until the kept steps fit with room for the latest (about half go each time)."""
        while len(self.steps) >= self.max_steps:
            self.stride *= 2
            self.steps = {step: kept for step, kept in self.steps.items()
                          if step == self.first_step or step % self.stride == 0}

    def records(self) -> tuple[list[dict], list[dict]]:
        """(step records sorted by step, at most max_steps of them, the latest last; epoch records sorted by
        epoch)."""
        steps = [self.steps[step] for step in sorted(self.steps)]
        if self.latest is not None and self.latest["step"] not in self.steps:
            steps.append(self.latest)
        return steps, [self.epochs[epoch] for epoch in sorted(self.epochs)]


def read_metrics_file(path: Path, max_steps: int = MAX_STEP_POINTS) -> tuple[list[dict], list[dict]]:
    """(step records, epoch records) of one metrics.jsonl, streamed: memory holds the kept records, not the file."""
    table = MetricsTable(max_steps)
    for record in iter_jsonl(path):
        table.add(record)
    return table.records()
