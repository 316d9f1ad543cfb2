"""Lesson page glue: why gates? Three steps, one click each — a cell-type race, a memory probe, a look inside.

The experiments themselves are seqlab/lessons/ (race.py, memory_probe.py): ordinary runs started through the job
runner and marked as one experiment in their run folders (experiment.json). This page only reads those folders and
sends commands, so a reload, another tab of the same workspace or the CLI's `race` / `probe memory` all show the
same race and probe; training never runs here. While an experiment has a run waiting or training, a fragment
redraws its step every POLL_SECONDS (and moves the queue, as every watcher does); once all have ended, the step is
drawn once. How long each run trains is the operator's SEQLAB_LESSON_SECONDS (seqlab/settings.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from seqlab import settings
from seqlab.errors import SeqlabError
from seqlab.lessons import experiment, race
from seqlab.report.comparison import run_curves
from seqlab.runs import jobs, run_folder, states
from seqlab.runs.states import RunState
from seqlab.ui import lesson_charts, presenter
from seqlab.ui.live_run import BADGE_COLORS, BADGE_ICONS
from seqlab.ui.messages import plain, show_error, show_warning
from seqlab.ui.train_view import corpus_choices
from seqlab.ui.workspace import current_viewer

POLL_SECONDS = 2.0
STARTUP_SECONDS = 7  # a worker's start (TensorFlow, the corpus) and its last validation, on top of its budget
PROBE_SHARE = 0.5  # a probe run trains this share of a race run's seconds (a tiny model on a tiny task)
RACE_KEY, PROBE_KEY = "seqlab_lesson_race", "seqlab_lesson_probe"  # session: the experiment shown, when several
CORPUS_KEY, EQUAL_KEY = "seqlab_lesson_corpus", "seqlab_lesson_equal"  # the race's pickers
INSIDE_PAGE = "pages/inside.py"
CELL_COLOURS = {"simple_rnn": "red", "lstm": "blue", "gru": "green",  # Markdown's names for the charts' colours
                "transformer": "violet"}
EQUAL = {"time": ("Equal time", "Same size of memory (units) and the same seconds for each: which cell learns "
                                "most in the time?"),
         "parameters": ("Equal size", "Units chosen so that each cell has about as many weights as the LSTM, and "
                                      "the same seconds: which design makes best use of its weights?")}

INTRODUCTION = """
A SimpleRNN, an LSTM and a GRU all read text one character at a time and carry a memory from one character to
the next. The LSTM and the GRU add *gates*: switches that decide what to keep and what to forget. Are they worth
it? Three steps, one click each, about ten minutes in all: **race** the three cells on the same text, **probe**
how far back each can remember, then **look inside** at what their memories hold. A tiny *Transformer* joins the
race for comparison: it carries no memory at all, but looks back at everything in its window at once (attention).
"""
RACE_LOOK_FOR = ("**What to look for:** the lines fall as each model learns to predict the next character. "
                 "Which falls lowest in the same time?")
INSIDE_LOOK_FOR = ("**What to look for:** units that switch on inside quotes or brackets, or count along a line; "
                   "and how far back the LSTM's guesses still look, compared with the SimpleRNN's.")


def race_seconds() -> int:
    """How long each race run trains: the operator's SEQLAB_LESSON_SECONDS (a bad value is shown, the default
    used)."""
    try:
        return settings.lesson_seconds()
    except SeqlabError as error:
        show_error(error)
        return 60


def probe_seconds() -> int:
    """How long each memory-probe run trains: a share of a race run's seconds, at least 2."""
    return max(2, round(race_seconds() * PROBE_SHARE))


def minutes_for(runs: int, seconds: float) -> str:
    """'about 4 minutes': `runs` of `seconds` each, as many at once as the job runner trains."""
    try:
        at_once = max(1, jobs.max_concurrent_jobs())
    except SeqlabError:
        at_once = 1
    total = math.ceil(runs / at_once) * (seconds + STARTUP_SECONDS)
    return f"about {max(1, round(total / 60))} minute{'s' if round(total / 60) > 1 else ''}"


def room_problem(count: int) -> str | None:
    """Why this browser cannot start `count` runs now (its share of the queue), or None."""
    try:
        experiment.check_room_for(count, current_viewer(), run_folder.runs_root())
    except SeqlabError as error:
        return str(error)
    return None


def experiments(kind: str) -> list[dict]:
    """This browser's experiments of `kind`, newest first (an unreadable runs folder: none, and why)."""
    try:
        return experiment.find_experiments(kind, viewer=current_viewer())
    except (SeqlabError, OSError) as error:
        show_error(error)
        return []


def start_problem(groups: list[dict], runs: int) -> str | None:
    """Why the step's button is off: its newest experiment still runs (one at a time: a second click in a class
    must not start it twice), or this browser has no room for `runs` more runs; None when it may start."""
    if groups and active(groups[0]["runs"]):
        return ""  # the button says it in its help; the experiment itself is on show below
    return room_problem(runs)


def shown_experiment(groups: list[dict], key: str) -> dict | None:
    """The experiment to show: the newest, or the one picked when there are several."""
    if not groups:
        return None
    ids = [group["id"] for group in groups]
    if st.session_state.get(key) not in ids:
        st.session_state[key] = ids[0]
    if len(ids) > 1:
        st.selectbox("Showing", ids, key=key, help="Your earlier runs of this step stay here; the newest is shown "
                                                   "first.")
    return groups[ids.index(st.session_state[key])]


def active(run_dirs: list[str]) -> bool:
    """True while a run of the list waits or trains; moves the queue as every watcher does."""
    statuses = [jobs.reconcile(Path(path))["state"] for path in run_dirs]
    if RunState.QUEUED in statuses:
        jobs.schedule(run_folder.runs_root())
    return any(state in states.ACTIVE for state in statuses)


def start(kind: str, starter, key: str) -> None:
    """Start an experiment (`starter()`), then show it: the newest becomes the one shown."""
    try:
        started = starter()
    except SeqlabError as error:
        show_error(error)
        return
    st.session_state[key] = started["id"]
    st.rerun()


def show_lesson() -> None:
    st.markdown(INTRODUCTION)
    race_group = show_race_step()
    from seqlab.ui.lesson_probe import show_probe_step

    show_probe_step()
    show_inside_step(race_group)


def show_race_step() -> dict | None:
    st.subheader("1. The race", divider="gray")
    st.markdown(RACE_LOOK_FOR)
    choices = corpus_choices("generate")
    if st.session_state.get(CORPUS_KEY) not in choices:
        st.session_state[CORPUS_KEY] = "tiny-shakespeare" if "tiny-shakespeare" in choices else next(iter(choices))
    left, right = st.columns(2)
    corpus = left.selectbox("Text to learn", list(choices), format_func=choices.get, key=CORPUS_KEY,
                            help="Any text you have for writing: the built-in ones, or your own from the Data page.")
    equal = right.radio("Keep equal", list(EQUAL), format_func=lambda name: EQUAL[name][0], key=EQUAL_KEY,
                        horizontal=True, help="What the runners share, so the race is fair.")
    right.caption(EQUAL[equal][1])
    seconds = race_seconds()
    st.caption(f"Each cell trains for {seconds} s on the same text; the race takes "
               f"{minutes_for(len(race.CELLS), seconds)} here.")
    groups = experiments("race")
    problem = start_problem(groups, len(race.CELLS))
    if problem:
        show_warning(problem)
    if st.button("Start the race", type="primary", icon=":material/sprint:", disabled=problem is not None,
                 key="seqlab_lesson_start_race", help="Trains a SimpleRNN, an LSTM, a GRU and a tiny "
                                                       "Transformer on the same text (one race at a time)."):
        start("race", lambda: race.start_race(corpus, seconds, equal, viewer=current_viewer()), RACE_KEY)
    group = shown_experiment(groups, RACE_KEY)
    if group is not None:
        if active(group["runs"]):
            live_experiment(draw_race, group["runs"])
        else:
            with st.container():  # as the fragment draws into one: the final chart keeps its place
                draw_race(group["runs"])
    return group


@st.fragment(run_every=POLL_SECONDS)
def live_experiment(draw, run_dirs: list[str]) -> None:
    """`draw(run_dirs)` every POLL_SECONDS while a run of the experiment (race or probe) is still active."""
    try:
        still = active(run_dirs)
        draw(run_dirs)
    except (SeqlabError, OSError) as error:
        show_error(error)
        return
    if not still:
        st.rerun()  # ended: the page draws it once, without polling


def draw_race(run_dirs: list[str]) -> None:
    """Where each runner is, their curves on one chart, and the verdict once all have ended."""
    rows = race.race_status(run_dirs)
    for column, row in zip(st.columns(len(rows)), rows):
        with column:
            runner_card(row)
    series = [(row["cell"], f"{row['label']} · {row['units']} units", run_curves(Path(row["path"]))) for row in rows]
    if any(curves["loss"]["value"] for _, _, curves in series):
        figure = lesson_charts.race_figure(series, presenter.chart_height(lesson_charts.CHART_HEIGHT),
                                           presenter.chart_font_size())
        st.plotly_chart(figure, width="stretch", key="seqlab_lesson_race_chart")
    else:
        st.info("The curves appear a few seconds after the first cell starts training.", icon=":material/timer:")
    if all(row["state"] in states.FINAL for row in rows):  # (while they race, the cards above say where each is)
        st.success(plain(race.verdict(run_dirs)), icon=":material/emoji_events:")


def runner_card(row: dict) -> None:
    """One cell of the race: its name in its chart colour, its size, its state and how far it got."""
    state, weights = row["state"], row.get("parameters")
    size = f"{row['units']} units" + (f" · {weights:,} weights" if isinstance(weights, int) else "")
    st.markdown(f"**:{CELL_COLOURS.get(row['cell'], 'gray')}[{plain(row['label'])}]** · {size}")
    words = {RunState.QUEUED: "waiting its turn", RunState.RUNNING: "training", RunState.FINISHED: "done"}
    st.badge(words.get(state, str(state)), icon=BADGE_ICONS.get(state), color=BADGE_COLORS.get(state, "gray"))
    progress = row.get("progress")
    progress = min(1.0, max(0.0, float(progress))) if isinstance(progress, int | float) else 0.0
    accuracy = row.get("accuracy")
    text = f"{accuracy:.0%} right" if state in states.FINAL and isinstance(accuracy, int | float) else f"{progress:.0%}"
    st.progress(progress, text=text)


def show_inside_step(race_group: dict | None) -> None:
    st.subheader("3. Look inside", divider="gray")
    st.markdown(INSIDE_LOOK_FOR)
    if race_group is None:
        st.caption("Run the race first: this step opens its LSTM and its SimpleRNN on the Inside the network page.")
        return
    by_cell = {}
    for path in race_group["runs"]:
        record = experiment.read_experiment(Path(path)) or {}
        by_cell.setdefault(record.get("cell"), Path(path))
    columns = st.columns(2)
    for column, cell in zip(columns, ("lstm", "simple_rnn")):
        run_dir, label = by_cell.get(cell), lesson_charts.cell_label(cell)
        with column:
            if run_dir is None or not (run_dir / run_folder.BEST_MODEL).is_file():
                st.caption(f"The race's {label} can be opened once it has saved its model (at the end of its run).")
                continue
            try:
                st.page_link(INSIDE_PAGE, label=f"Look inside the race's {label}", icon=":material/visibility:",
                             query_params={"run": run_dir.name},
                             help="Opens the Inside the network page with this run chosen.")
            except StreamlitPageNotFoundError:  # the app does not list that page
                st.caption(f"Open the Inside the network page and pick run {plain(run_dir.name)}.")
