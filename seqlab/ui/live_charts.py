"""The live view's charts: built once per change of a run's metrics, and shared by every session watching the run.

Every watching browser's fragment reruns each second. Building the three Plotly figures and turning them into JSON
was most of what such a refresh cost the server, and it was done again for every watcher, even when nothing had
changed. Here the charts are drawn inside a function cached by Streamlit (st.cache_resource: one process-wide
copy, no pickling), keyed by the run and the signature of its metrics.jsonl: the first session to see a new
signature builds the charts, and Streamlit records the chart elements it drew; every other watcher of that run, and
the next refreshes while the file is unchanged, replay those recorded elements — already serialized — instead.
A refresh still has to send the elements (a fragment that draws nothing clears its part of the page), but sending a
recorded element costs a fraction of building one.

A training run's metrics.jsonl grows on every step, so its signature changes every second, and a run watched by one
browser only (a student's own run: the usual case) would pay a build per refresh. So while a run trains its charts
are rebuilt at most every CHART_SECONDS: the page (state, progress, step count) still refreshes every second, the
curves every two seconds. A run that has ended is always drawn from its final metrics.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import streamlit as st

from seqlab.report import training_charts
from seqlab.runs import run_folder
from seqlab.ui import presenter
from seqlab.ui.run_files import read_metrics

CACHED_CHART_SETS = 256  # a few per watched run (the newest signature, and the one before it): plenty for a class
CHART_SET_SECONDS = 900  # an unwatched run's last charts are dropped after this long
CHART_SECONDS = 2.0  # while a run trains: its charts are rebuilt at most this often (the page refreshes every second)
builds = 0  # chart sets built by this process (tests count them: one per change of a run, however many watch it)
_drawn: dict[str, tuple[float, tuple[int, int, int]]] = {}  # run folder → (when, signature) of its newest charts
_drawn_lock = threading.Lock()  # sessions run in threads of one process
_now = time.monotonic  # the clock (tests move it)


def metrics_signature(run_dir: Path) -> tuple[int, int, int]:
    """What changes whenever metrics.jsonl does: (inode, size, modification time in ns); zeros while it is missing.
    The inode changes when a resume rewrites the file; size and time whenever the worker appends."""
    try:
        stat = os.stat(Path(run_dir) / run_folder.METRICS)
    except OSError:
        return 0, 0, 0
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def signature_to_draw(run_dir: Path, training: bool) -> tuple[int, int, int]:
    """The metrics signature whose charts to draw now: the newest, except while the run trains and the charts
    shown were built less than CHART_SECONDS ago (then theirs, which every watcher replays)."""
    run, signature, now = str(run_dir), metrics_signature(run_dir), _now()
    with _drawn_lock:
        drawn = _drawn.get(run)
        if drawn is not None and drawn[1] != signature and training and now - drawn[0] < CHART_SECONDS:
            return drawn[1]
        if drawn is None or drawn[1] != signature:
            _drawn[run] = (now, signature)
        return signature


def show_charts(run_dir: Path, references: dict | None, task: str, clip: str, threshold: float,
                training: bool = False) -> bool:
    """Draw the run's loss, accuracy and gradient charts (and the clipping caption); False, drawing nothing, while
    the run has no step records yet. `training`: the run is training, so its charts may lag by CHART_SECONDS."""
    references_key = json.dumps(references, sort_keys=True) if isinstance(references, dict) else ""
    return _chart_set(str(run_dir), signature_to_draw(run_dir, training), references_key, task, clip,
                      float(threshold), presenter.is_on())


@st.cache_resource(max_entries=CACHED_CHART_SETS, ttl=CHART_SET_SECONDS, show_spinner=False)
def _chart_set(run_dir: str, signature: tuple[int, int, int], references_key: str, task: str, clip: str,
               threshold: float, presenting: bool) -> bool:
    """The charts for one signature of one run's metrics (Streamlit replays the elements drawn here on a hit);
    presenter mode (part of the key) gets taller charts in larger type, for the back of the room."""
    global builds
    steps, epochs = read_metrics(Path(run_dir))
    if not steps:
        return False
    builds += 1
    references = json.loads(references_key) if references_key else None
    run_key = Path(run_dir).name
    loss, accuracy, grad, share = training_charts.training_figures(steps, epochs, task, references, clip, threshold)
    if presenting:
        for figure in (loss, accuracy, grad):
            figure.update_layout(height=round(training_charts.CHART_HEIGHT * presenter.CHART_GROWTH),
                                 font_size=presenter.PRESENTER_CHART_FONT_PX)
    # one chart per row, full width: half-width charts were too small to read on a projector
    st.plotly_chart(loss, width="stretch", key=f"loss-{run_key}")
    st.plotly_chart(accuracy, width="stretch", key=f"accuracy-{run_key}")
    st.plotly_chart(grad, width="stretch", key=f"grad-{run_key}")
    if share is not None:
        trained = steps[-1]["step"]  # steps count from 1; a long run's records are thinned (seqlab/runs/metrics.py)
        st.caption(f"Gradient clipping kicked in on {share:.0%} of {trained:,} steps. A high share all the "
                   "time suggests a lower learning rate; spikes are normal early on.")
    return True
