"""Cheap, repeated reads of a run folder for the live view (redrawn every second).

metrics.jsonl grows by ~10 lines per second and reaches tens of thousands of lines in a long run; re-parsing
it every second would make the page slower the longer a run goes. `MetricsTail` parses only the bytes
appended since its last read, a block at a time, and starts over when the file is replaced (a resume rewrites
it); it files the records through `run_folder.MetricsTable`, as `run_folder.read_metrics` does, so both give the
same records: at most a few thousand step records per run (seqlab/runs/metrics.py), however long the run.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import streamlit as st

from seqlab.config import ModelConfig, TrainConfig
from seqlab.runs import jobs, run_folder, states, workspaces

SERIES = "series.json"  # a forecast run's series, split and baselines (seqlab/infer/forecasting.py)
READ_BLOCK = 1 << 20  # bytes parsed at a time: a long run's first read never holds the whole file


class MetricsTail:
    """The parsed step and epoch records of one metrics.jsonl, kept up to date incrementally."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.lock = threading.Lock()  # Streamlit sessions run in threads and share this object
        self._reset(None)

    def _reset(self, identity) -> None:
        self.identity, self.offset, self.pending = identity, 0, b""
        self.table = run_folder.MetricsTable()
        self.snapshot: tuple[list[dict], list[dict]] = ([], [])

    def read(self) -> tuple[list[dict], list[dict]]:
        """(step records, epoch records) sorted by step / epoch; the latest record for a key wins."""
        with self.lock:
            try:
                stat = os.stat(self.path)
            except OSError:
                self._reset(None)
                return self.snapshot
            identity = (stat.st_dev, stat.st_ino)
            if identity != self.identity or stat.st_size < self.offset:  # replaced or truncated: start over
                self._reset(identity)
            changed = False
            if stat.st_size > self.offset:
                with open(self.path, "rb") as file:
                    file.seek(self.offset)
                    while self.offset < stat.st_size:
                        chunk = file.read(min(READ_BLOCK, stat.st_size - self.offset))
                        if not chunk:
                            break
                        self.offset += len(chunk)
                        changed = self._parse(chunk) or changed
            if changed:
                self.snapshot = self.table.records()
            return self.snapshot

    def _parse(self, chunk: bytes) -> bool:
        """File the complete lines of `chunk`; whether any record was filed."""
        lines = (self.pending + chunk).split(b"\n")
        self.pending = lines.pop()  # an incomplete last line waits for the rest of it
        changed = False
        for line in lines:
            record = run_folder.parse_record(line)  # a line garbled by a crash mid-write is skipped
            if record is not None and self.table.add(record):
                changed = True
        return changed


@st.cache_resource(max_entries=32, show_spinner=False)
def metrics_tail(path: str) -> MetricsTail:
    """One reader per metrics file, shared by every session watching that run."""
    return MetricsTail(Path(path))


def read_metrics(run_dir: Path) -> tuple[list[dict], list[dict]]:
    return metrics_tail(str(Path(run_dir) / run_folder.METRICS)).read()


@st.cache_data(max_entries=64, show_spinner=False)
def _samples(path: str, size: int, modified: float) -> list[dict]:
    """Per-epoch samples, newest record per epoch; re-read only when the file changed."""
    by_epoch = {record["epoch"]: record for record in run_folder.read_jsonl(Path(path))
                if isinstance(record.get("epoch"), int) and isinstance(record.get("text"), str)}
    return [by_epoch[epoch] for epoch in sorted(by_epoch)]


def read_samples(run_dir: Path) -> list[dict]:
    path = Path(run_dir) / run_folder.SAMPLES
    try:
        stat = path.stat()
    except OSError:
        return []
    return _samples(str(path), stat.st_size, stat.st_mtime)


def read_series(run_dir: Path) -> dict | None:
    """series.json of a forecast run (None while the worker has not written it yet, or if it cannot be read)."""
    path = Path(run_dir) / SERIES
    try:
        return _series(str(path), path.stat().st_mtime_ns)
    except (OSError, ValueError):
        return None


@st.cache_data(max_entries=32, show_spinner=False)
def _series(path: str, modified: int) -> dict:
    series = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(series, dict):
        raise ValueError("series.json is not an object")
    return series


def baseline_losses(run_dir: Path) -> dict | None:
    """{"naive": val_loss, "seasonal_naive": val_loss}: the baselines' lines on a forecast run's loss chart."""
    baselines = (read_series(run_dir) or {}).get("baselines")
    if not isinstance(baselines, dict):
        return None
    return {kind: values["val_loss"] for kind, values in baselines.items()
            if isinstance(values, dict) and isinstance(values.get("val_loss"), int | float)} or None


@st.cache_data(max_entries=64, show_spinner=False)
def read_configs(run_dir: str) -> tuple[ModelConfig, TrainConfig]:
    """config.json is written once, before training: safe to cache by folder."""
    return run_folder.read_configs(Path(run_dir))


def newest_active_run(root: Path, workspace: str | None = None) -> Path | None:
    """The most recently created run that is queued, running or stopping (what a returning visitor expects) —
    of `workspace` only, unless that is None (the operator: any run)."""
    newest, newest_created = None, -1.0
    try:
        entries = [path for path in root.iterdir() if not path.name.startswith(".") and path.is_dir()]
    except OSError:
        return None
    for entry in entries:
        if not (entry / run_folder.CONFIG).is_file():
            continue
        if workspace is not None and workspaces.owner_of(entry) != workspace:
            continue
        try:
            status = jobs.reconcile(entry)
        except OSError:  # a folder we cannot write is nobody's live run
            continue
        created = status.get("created_at")
        created = float(created) if isinstance(created, int | float) else 0.0
        if status["state"] in states.ACTIVE and created > newest_created:
            newest, newest_created = entry, created
    return newest
