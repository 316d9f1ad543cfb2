"""The live view of one run: state, progress, Stop, charts and samples, redrawn from the run folder.

While the run is running or stopping, a fragment redraws it every second (every few seconds while it waits in the
queue); once it has ended, the page draws it once and stops polling. Everything shown comes from the run folder
(status.json, metrics.jsonl, samples.jsonl), so a reload, a second browser tab, another app server on the same
runs folder or the CLI all see the same run. The charts, the costly part of a refresh, are built once per change of
the run and shared by everyone watching it (live_charts.py).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from seqlab.engine.labels import PREPARING
from seqlab.errors import SeqlabError
from seqlab.model.estimate import format_duration
from seqlab.report.plain_words import cell_name
from seqlab.runs import jobs, run_folder, states, workspaces
from seqlab.runs.progress import steps_in_words
from seqlab.runs.states import RunState
from seqlab.ui.live_charts import show_charts
from seqlab.ui.messages import plain, show_error
from seqlab.ui.run_files import baseline_losses, read_configs, read_samples
from seqlab.ui.run_label import show_run_label
from seqlab.ui.workspace import current_viewer, show_share_link

TOKENS = {"generate": "characters", "classify": "words", "forecast": "values"}  # what tokens_per_second counts
NEXT_PAGE = {"generate": ("pages/generate.py", "Generate with this model"),
             "classify": ("pages/score.py", "Score reviews with this model"),
             "forecast": ("pages/forecast.py", "Forecast with this model")}
REFRESH_SECONDS = 1.0
QUEUED_REFRESH_SECONDS = 3.0  # a queued run shows only its place in the queue, and starts within this of a free slot
BADGE_COLORS = {RunState.QUEUED: "gray", RunState.RUNNING: "blue", RunState.STOPPING: "orange",
                RunState.STOPPED: "gray", RunState.FINISHED: "green", RunState.FAILED: "red",
                RunState.INTERRUPTED: "orange", RunState.DAMAGED: "red"}
BADGE_ICONS = {RunState.QUEUED: ":material/hourglass_empty:", RunState.RUNNING: ":material/play_arrow:",
               RunState.STOPPING: ":material/pending:", RunState.STOPPED: ":material/stop:",
               RunState.FINISHED: ":material/check_circle:", RunState.FAILED: ":material/error:",
               RunState.INTERRUPTED: ":material/warning:", RunState.DAMAGED: ":material/error:"}


def show_run(run_dir: Path) -> None:
    """The run's section: polled while it is active, drawn once (no polling) after it ended."""
    try:
        read_configs(str(run_dir))
        status = jobs.reconcile(run_dir)
    except (SeqlabError, OSError) as error:
        show_error(error)
        return
    if status["state"] == RunState.QUEUED:
        _queued_run(run_dir)
    elif status["state"] in states.ACTIVE:
        _live_run(run_dir)
    else:
        # in a container, as a fragment draws into one: when a stopping run ends and the page redraws it, every
        # element keeps its place in the page's tree, so the final charts are drawn once (in the fragment's last
        # refresh), not mounted again at a new place (a chart mounted anew is blank until Plotly has drawn it)
        with st.container():
            render_run(run_dir, status)


@st.fragment(run_every=REFRESH_SECONDS)
def _live_run(run_dir: Path) -> None:
    _refresh(run_dir, queued=False)


@st.fragment(run_every=QUEUED_REFRESH_SECONDS)
def _queued_run(run_dir: Path) -> None:
    _refresh(run_dir, queued=True)


def _refresh(run_dir: Path, queued: bool) -> None:
    """One poll of an active run; when it leaves the queue or ends, the whole page redraws it (the fragment
    polling at the pace of its new state takes over, or none)."""
    try:
        status = jobs.reconcile(run_dir)
        if status["state"] == RunState.QUEUED:
            jobs.schedule(run_dir.parent)  # no daemon moves the queue: whoever looks, moves it
            status = run_folder.read_status(run_dir)
    except (SeqlabError, OSError) as error:  # e.g. a bad SEQLAB_MAX_JOBS, or an unwritable runs folder
        show_error(error)
        return
    render_run(run_dir, status)
    if status["state"] not in states.ACTIVE or (status["state"] == RunState.QUEUED) != queued:
        st.rerun()


def render_run(run_dir: Path, status: dict) -> None:
    model, train = read_configs(str(run_dir))
    state = status["state"]
    _header(run_dir, status, model, train)
    if state in states.TROUBLED:
        _show_error(status)
    if state == RunState.QUEUED:
        _show_queue(status)
    _controls(run_dir, state)
    if state not in (RunState.QUEUED, RunState.DAMAGED):
        _show_progress(status, model.task, train.time_budget_seconds)
    references = baseline_losses(run_dir) if model.task == "forecast" else status.get("reference_losses")
    charted = show_charts(run_dir, references, model.task, train.clip, train.clip_threshold,
                          training=state in (RunState.RUNNING, RunState.STOPPING))
    if not charted and state == RunState.RUNNING:
        st.info("Preparing the data and building the model: the first numbers appear in a few seconds.")
    if model.task == "generate":
        _show_samples(run_dir)
    if state in states.FINAL:
        _next_steps(run_dir, model.task)


def _header(run_dir: Path, status: dict, model, train) -> None:
    state = status["state"]
    title, badge = st.columns([4, 1], vertical_alignment="center")
    with title:
        show_run_label(run_dir, may_edit=_may_control(run_dir))
    with badge:
        st.badge(state, icon=BADGE_ICONS.get(state), color=BADGE_COLORS.get(state, "gray"),
                 help="queued → running → finished; Stop makes it stopping → stopped")
    layers = f"{model.num_layers} layer{'s' if model.num_layers > 1 else ''}"
    corpus = Path(train.corpus).name if "/" in train.corpus else train.corpus
    engine, note = status.get("engine"), status.get("engine_note")
    shown = f" · engine: {plain(engine)}" + (f" ({plain(note)})" if note else "") if engine else ""
    shown += f" · backend: {plain(jobs.where_it_runs(status))}" if jobs.where_it_runs(status) else ""
    st.caption(f"{cell_name(model.cell, model.bidirectional)}, {layers} × {model.units} units · corpus {corpus} · "
               f"learning rate {train.learning_rate:g} ({train.learning_rate_schedule}) · clipping {train.clip} · "
               f"precision {train.precision}{shown}")
    if engine == PREPARING and state == RunState.RUNNING:  # the worker is building the compiled kernels
        st.info("Preparing fast kernels (once, ~20 s)…", icon=":material/build:")


def _show_error(status: dict) -> None:
    error = status.get("error") or "the run ended without saying why"
    st.error(f"**This run {status['state']}.** {plain(error)}", icon=":material/error:")
    advice = status.get("advice")
    if advice and advice not in error:
        st.info(f"What to try: {plain(advice)}")


def _show_queue(status: dict) -> None:
    position = status.get("queue_position")
    if isinstance(position, int) and position > 0:
        ahead = position - 1
        st.info(f"Waiting: {ahead} run{'s' if ahead != 1 else ''} ahead in the queue. It starts by itself when a "
                f"training slot frees up ({jobs.max_concurrent_jobs()} at a time on this machine).")
    else:
        st.info("Starting: the training process is being launched.")


def _controls(run_dir: Path, state: str) -> None:
    """Stop / Resume and Share for the run's owner; a read-only note for a share link's visitor."""
    message = st.session_state.pop("seqlab_train_error", None)
    if message:
        show_error(message)
    if not _may_control(run_dir):
        st.caption(":material/visibility: Shared with you read-only: you can watch it and use its model, but only "
                   "its owner can stop, resume or delete it.")
        return
    show_share_link(run_dir)
    if state in (RunState.QUEUED, RunState.RUNNING):
        st.button("Stop", key=f"stop-{run_dir.name}", type="primary", icon=":material/stop:", on_click=_stop,
                  args=(run_dir,),
                  help="Stops after the current batch and keeps what was learned so far (the best model is saved).")
    elif state == RunState.STOPPING:
        st.button("Stopping…", key=f"stop-{run_dir.name}", disabled=True, help="Finishing the current batch.")
    elif state in states.RESUMABLE:
        st.button("Resume", key=f"resume-{run_dir.name}", icon=":material/play_arrow:", on_click=_resume,
                  args=(run_dir,),
                  help="Continue training from the last saved checkpoint.")


def _may_control(run_dir: Path) -> bool:
    return workspaces.can_control(current_viewer(), workspaces.owner_of(run_dir))


def _stop(run_dir: Path) -> None:
    if not _may_control(run_dir):  # checked again when the click arrives, not only when the button was drawn
        return
    try:
        jobs.stop(run_dir)  # returns at once; the worker notices within one batch
    except (SeqlabError, OSError) as error:
        st.session_state["seqlab_train_error"] = str(error)


def _resume(run_dir: Path) -> None:
    if not _may_control(run_dir):
        return
    try:
        jobs.resume(run_dir, run_dir.parent, viewer=current_viewer())
    except (SeqlabError, OSError) as error:
        st.session_state["seqlab_train_error"] = str(error)


def _show_progress(status: dict, task: str, time_budget: float) -> None:
    progress = status.get("progress")
    progress = min(1.0, max(0.0, float(progress))) if isinstance(progress, int | float) else 0.0
    parts = [f"{progress:.0%}", steps_in_words(status)]  # the share of the run's plan (seqlab/runs/progress.py)
    elapsed = status.get("elapsed_seconds")
    if isinstance(elapsed, int | float) and time_budget:  # a stopped run: how far into its budget it got
        parts.append(f"{format_duration(elapsed)} of {format_duration(time_budget)}")
    elif isinstance(elapsed, int | float):
        parts.append(f"{format_duration(elapsed)} of training")
    rate = status.get("tokens_per_second")
    if isinstance(rate, int | float) and rate > 0:
        parts.append(f"{rate:,.0f} {TOKENS.get(task, 'words')}/s")
    eta = status.get("eta_seconds")
    if status["state"] == RunState.RUNNING and isinstance(eta, int | float):
        parts.append(f"about {format_duration(eta)} left")
    st.progress(progress, text=" · ".join(parts))


def _show_samples(run_dir: Path) -> None:
    st.markdown("**What the model writes as it learns**")
    samples = [sample for sample in read_samples(run_dir) if isinstance(sample.get("step"), int)]
    if not samples:
        st.caption("A sample of generated text appears after each validation (every 40 steps, or each epoch).")
        return
    options = [sample["step"] for sample in samples]
    chosen = options[-1]
    if len(options) > 1:
        key, follow_key = f"sample-step-{run_dir.name}", f"sample-follow-{run_dir.name}"
        if st.session_state.get(follow_key, True) or st.session_state.get(key) not in options:
            st.session_state[key] = options[-1]  # newest by default, and it follows new samples
        chosen = st.select_slider("After step", options=options, key=key, on_change=_remember_choice,
                                  args=(key, follow_key, options[-1]),
                                  help="Slide back to see how the writing improved as training went on.")
    sample = samples[options.index(chosen)]
    seed_length = len(sample.get("seed") or "")
    st.caption(f"After step {chosen:,} · temperature {sample.get('temperature', '?')} · the model was given the "
               f"first {seed_length} characters (the corpus's opening) and wrote the rest")
    st.code(sample["text"], language=None, wrap_lines=True)


def _remember_choice(key: str, follow_key: str, newest: int) -> None:
    st.session_state[follow_key] = st.session_state[key] == newest


def _next_steps(run_dir: Path, task: str) -> None:
    if not (run_dir / run_folder.BEST_MODEL).is_file():
        st.caption("No model was saved: a model is kept after the first epoch's validation.")
        return
    page, label = NEXT_PAGE.get(task, NEXT_PAGE["classify"])
    try:
        st.page_link(page, label=label, icon=":material/arrow_forward:", query_params={"run": run_dir.name})
    except StreamlitPageNotFoundError:  # the app does not list that page (yet)
        st.caption(f"{label}: open the {Path(page).stem.title()} page and pick run {run_dir.name}.")
