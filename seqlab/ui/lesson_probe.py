"""The Lesson page's second step: the memory probe, where the right next character depends on one N steps back.

The probe's runs are started and tabulated by seqlab/lessons/memory_probe.py; each ended run is scored at its
answer positions (seqlab/lessons/probe_eval.py writes probe.json into its folder) by whoever watches it first, so
the chart fills in as the runs end. Scoring loads the run's model (TensorFlow, lazily, as the Generate page does);
it never trains, and one lock keeps two sessions from scoring the same runs at once.
"""

from __future__ import annotations

import threading
from pathlib import Path

import streamlit as st

from seqlab.corpus import synthetic
from seqlab.errors import SeqlabError
from seqlab.lessons import memory_probe, probe_eval
from seqlab.runs import jobs, run_folder, states
from seqlab.ui import lesson_charts, presenter
from seqlab.ui.lesson_view import (
    PROBE_KEY,
    active,
    experiments,
    live_experiment,
    minutes_for,
    probe_seconds,
    shown_experiment,
    start,
    start_problem,
)
from seqlab.ui.messages import plain, show_warning
from seqlab.ui.workspace import current_viewer

DISTANCE_CHOICES = (2, 5, 10, 20, 40, 80, 160)  # docs/lessons.md measured 5 to 160
DISTANCES_KEY, KIND_KEY = "seqlab_lesson_distances", "seqlab_lesson_kind"
KINDS = {"copy": "Repeat a letter", "brackets": "Close a bracket"}
EXAMPLES = {"copy": "c·····=c", "brackets": "[·····=]"}
LOOK_FOR = ("**What to look for:** each line of the practice text starts with a clue, then N random letters, then "
            "an '=' after which the model must recall the clue. Where does each cell's line drop to guessing?")
_scoring = threading.Lock()


def score_ended(run_dirs: list[str]) -> None:
    """Score every ended run of the probe that has no probe.json yet (once, whoever watches first)."""
    with _scoring:
        try:
            probe_eval.evaluate_finished(run_dirs)
        except (SeqlabError, OSError, ValueError) as error:
            show_warning(f"A run could not be scored: {error}")


def show_probe_step() -> None:
    st.subheader("2. The memory probe", divider="gray")
    st.markdown(LOOK_FOR)
    kind = st.radio("Task", list(KINDS), format_func=KINDS.get, key=KIND_KEY, horizontal=True,
                    help="Copy: repeat the letter seen N steps back (one of 8). Brackets: close the bracket opened "
                         "N steps back with its partner (one of 4).")
    st.caption(f"A line with N = 5: `{EXAMPLES[kind].replace('·····', 'kqzjw')}` — "
               f"guessing gets {synthetic.chance(kind):.1%} right.")
    st.session_state.setdefault(DISTANCES_KEY, list(memory_probe.DEFAULT_DISTANCES))
    # a row of its own: in half the width, a projector's 1024 px cut the last pills off
    distances = st.pills("Steps back (N)", DISTANCE_CHOICES, selection_mode="multi", key=DISTANCES_KEY,
                         help="How far back the clue stands. The three cells train once for each N you pick.")
    st.caption("Pick the distances to try: each one trains all three cells.")
    distances, seconds = sorted(distances or []), probe_seconds()
    runs = len(distances) * len(memory_probe.CELLS)
    groups = experiments("probe")
    problem = start_problem(groups, runs) if distances else "Pick at least one distance."
    if distances:
        st.caption(f"{runs} runs of {seconds} s each: {minutes_for(runs, seconds)} here.")
    if problem:
        show_warning(problem)
    if st.button("Start the memory probe", type="primary", icon=":material/psychology:", disabled=problem is not None,
                 key="seqlab_lesson_start_probe", help="Trains the three cells once for each distance, then scores "
                                                        "each at the answers (one probe at a time)."):
        start("probe", lambda: memory_probe.start_probe(distances, kind, seconds, viewer=current_viewer()),
              PROBE_KEY)
    group = shown_experiment(groups, PROBE_KEY)
    if group is None:
        return
    if active(group["runs"]):
        live_experiment(draw_probe, group["runs"])
    else:
        with st.container():
            draw_probe(group["runs"])




def draw_probe(run_dirs: list[str]) -> None:
    """How many runs have ended, which trains now, the accuracy-against-N chart and the sentence."""
    score_ended(run_dirs)
    ended = [path for path in run_dirs if run_folder.read_status(Path(path))["state"] in states.FINAL]
    rows = memory_probe.probe_table(run_dirs)
    scored = lesson_charts.scored_count(rows)
    training = [_run_words(Path(path)) for path in run_dirs
                if jobs.reconcile(Path(path))["state"] == states.RunState.RUNNING]
    text = f"{len(ended)} of {len(run_dirs)} runs done"
    st.progress(len(ended) / max(1, len(run_dirs)),
                text=text + (f" · training now: {', '.join(training)}" if training else ""))
    if scored:
        figure = lesson_charts.accuracy_figure(rows, presenter.chart_height(lesson_charts.CHART_HEIGHT),
                                               presenter.chart_font_size())
        st.plotly_chart(figure, width="stretch", key="seqlab_lesson_probe_chart")
    sentence = memory_probe.probe_sentence(rows)
    if len(ended) == len(run_dirs) and scored:
        st.success(plain(sentence), icon=":material/psychology:")
    else:
        st.caption(plain(sentence))


def _run_words(run_dir: Path) -> str:
    """'LSTM N=20': the run's cell and distance."""
    try:
        kind, distance = probe_eval.probe_corpus(run_dir)
        model, _ = run_folder.read_configs(run_dir)
    except SeqlabError:
        return run_dir.name
    return f"{lesson_charts.cell_label(model.cell)} N={distance}"
