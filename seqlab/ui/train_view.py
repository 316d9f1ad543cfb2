"""Train page glue: choose task, corpus and preset; see the model's size and time; start the run.

The settings themselves are drawn by seqlab/ui/settings_form.py, one widget per config field, from the
field's declaration in seqlab/config.py.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from seqlab.config import ModelConfig, TrainConfig, declared
from seqlab.corpus import dataset_download
from seqlab.corpus.registry import BUILTIN_CORPORA, Corpus, list_corpora, load_corpus
from seqlab.corpus.statistics import check_trainable
from seqlab.errors import SeqlabError
from seqlab.model.estimate import epoch_seconds, epoch_shape, format_duration, measured_slowdown
from seqlab.model.memory import estimate_peak_memory, format_bytes
from seqlab.model.size import parameter_count
from seqlab.presets import PRESET_LABELS, PRESETS, preset_configs
from seqlab.report.experiment_link import NEEDS_DOWNLOAD
from seqlab.runs import launch, run_folder, workspaces
from seqlab.ui import experiment_url
from seqlab.ui.messages import show_error, show_warning
from seqlab.ui.run_files import newest_active_run
from seqlab.ui.series_view import cached_series
from seqlab.ui.settings_form import (
    FIELDS,
    bind,
    configs_from_form,
    essential_widgets,
    fill_from_configs,
    more_settings,
    state_key,
)
from seqlab.ui.workspace import current_viewer

TASK, CORPUS = declared(ModelConfig)["task"], declared(TrainConfig)["corpus"]
HIDDEN_CORPORA = NEEDS_DOWNLOAD  # listed once downloaded (84 MB): the Data page fetches it
LAST_RUN = "seqlab_train_last_run"  # session key: the run shown last, shown again when coming back
SERIES_CAPTION = "The series the model learns from: a built-in one, or a column of your own table (Data page)."
LONG_RUN_SECONDS = 3600  # warn before a run this long that is limited by epochs only


def apply_preset(task: str, preset: str) -> None:
    """Fill every knob from the preset (the callback of the task and preset pickers)."""
    fill_from_configs(task, *preset_configs(task, preset))


def _apply_chosen_preset() -> None:
    apply_preset(st.session_state[state_key("task")], st.session_state[state_key("preset")])


def corpus_choices(task: str) -> dict[str, str]:
    """corpus value → label: the Data page's choice first (if it fits the task), then the built-ins."""
    choices = {}
    chosen = st.session_state.get("seqlab_corpus")
    if isinstance(chosen, dict) and chosen.get("task") == task and chosen.get("corpus"):
        choices[str(chosen["corpus"])] = f"{chosen.get('label') or chosen['corpus']} (chosen on the Data page)"
    for info in list_corpora():
        if info.task == task and (info.name not in HIDDEN_CORPORA or dataset_download.is_available()):
            choices.setdefault(info.name, f"{info.name} — {info.description}")
    return choices


def _initialise() -> None:
    """First visit (or back from another page, which drops widget state): task from the Data page, preset."""
    if state_key("task") not in st.session_state:
        chosen = st.session_state.get("seqlab_corpus")
        task = chosen.get("task") if isinstance(chosen, dict) else None
        st.session_state[state_key("task")] = task if task in PRESETS else "generate"
    st.session_state.setdefault(state_key("preset"), "quick-demo")
    if any(state_key(name) not in st.session_state for name in FIELDS + ["stop_rule", "budget_epochs"]):
        apply_preset(st.session_state[state_key("task")], st.session_state[state_key("preset")])


@st.cache_resource(max_entries=8, show_spinner="Reading the corpus…")
def _cached_corpus(value: str, text_column: str, label_column: str, modified: float, star_threshold: int = 0) -> Corpus:
    return load_corpus(value, text_column=text_column or None, label_column=label_column or None,
                       star_threshold=star_threshold)


def load_training_corpus(value: str, text_column: str = "", label_column: str = "", star_threshold: int = 0) -> Corpus:
    """The corpus as the worker will read it (cached per file version, shared by sessions)."""
    return _cached_corpus(value, text_column, label_column, _modified(value), star_threshold)


def _modified(value: str) -> float:
    """A stored file's version (0 for built-ins, and for a missing file, which load_corpus then names)."""
    if value in BUILTIN_CORPORA:
        return 0.0
    try:
        return Path(value).stat().st_mtime
    except OSError:
        return 0.0


@st.cache_data(max_entries=16, show_spinner=False)
def _distinct_characters(value: str, modified: float) -> int:
    return len(set(load_training_corpus(value).text))


@st.cache_data(ttl=30, show_spinner=False)
def _machine_slowdown(root: str) -> tuple[float, int]:
    return measured_slowdown(Path(root))


def _summary(model: ModelConfig, train: TrainConfig, corpus: Corpus) -> None:
    """Parameter count and the time estimate, before anything is trained."""
    if model.task == "generate":
        vocabulary, size = _distinct_characters(train.corpus, _modified(train.corpus)), len(corpus.text)
    elif model.task == "forecast":  # one number goes in at each step; the series' values are its size
        vocabulary, size = 1, len(corpus.series.values)
    else:
        vocabulary, size = model.vocabulary_size, len(corpus.texts)
    slowdown, measured_runs = _machine_slowdown(str(run_folder.runs_root()))
    steps, _ = epoch_shape(model.task, size, train.sequence_length, train.batch_size)
    seconds = epoch_seconds(model, train, size, vocabulary, slowdown)
    columns = st.columns(4)
    columns[0].metric("Parameters", f"{parameter_count(model, vocabulary, train.sequence_length):,}",
                      help="Numbers the model learns. More can learn more, but train slower and overfit sooner.")
    columns[1].metric("Steps per epoch", f"{steps:,}", help="One step = one batch; one epoch = the whole corpus once.")
    columns[2].metric("Time per epoch", f"≈ {format_duration(seconds)}",
                      help="An estimate, from the model's arithmetic per character (or word), the steps through time, "
                           "the corpus size and this machine's measured speed.")
    if train.time_budget_seconds:
        epochs = train.time_budget_seconds / max(seconds, 1e-9)
        columns[3].metric("Epochs in budget", f"≈ {epochs:.1f}" if epochs < 10 else f"≈ {epochs:,.0f}",
                          help="How many times the time budget lets the model read the whole corpus (an estimate).")
    else:
        columns[3].metric("Whole run", f"≈ {format_duration(seconds * train.epochs)}",
                          help="The epochs times the time per epoch (an estimate).")
        if seconds * train.epochs > LONG_RUN_SECONDS:
            st.warning("This run would take over an hour. A time budget keeps it predictable.")
    source = ("from a typical laptop speed (no finished run on this machine yet)" if not measured_runs else
              "measured from the latest finished run on this machine" if measured_runs == 1 else
              f"measured from the {measured_runs} latest finished runs on this machine")
    st.caption(f"Times are estimates, {source}; other runs training at the same time slow each other down. "
               f"Training needs about {format_bytes(estimate_peak_memory(model, train, vocabulary).total)} of memory.")


def _pickers() -> tuple[str, str, str]:
    """Task, corpus and preset, each with its caption: what to learn, from what, and where the knobs start."""
    left, right = st.columns(2)
    with left:
        task = st.radio(TASK.label, list(TASK.choices), format_func=TASK.choices.get,
                        **bind("task", after=_apply_chosen_preset), help=TASK.help)
        st.caption(TASK.caption)
    choices = corpus_choices(task)
    if st.session_state.get(state_key("corpus")) not in choices:
        st.session_state[state_key("corpus")] = next(iter(choices))
    with right:
        corpus_value = st.selectbox(CORPUS.label, list(choices), format_func=choices.get, **bind("corpus"),
                                    help=CORPUS.help)
        st.caption(SERIES_CAPTION if task == "forecast" else CORPUS.caption)
    preset = st.radio("Preset", list(PRESETS[task]), format_func=PRESET_LABELS.get, horizontal=True,
                      **bind("preset", after=_apply_chosen_preset),
                      help="Fills in every setting below. Quick demo shows learning within a minute; the others take "
                           "longer and write better.")
    st.caption("A starting point that fills in every setting; change any of them after.")
    return task, corpus_value, preset


def setup_form() -> Path | None:
    """Task, corpus, preset, knobs, summary and the Train button; returns the new run's folder when started."""
    _initialise()
    experiment_url.apply_link()
    link_problems = st.container()
    task, corpus_value, preset = _pickers()
    essential_widgets(task)
    more_settings(task)
    errors, warnings = [], []
    model = train = corpus = None
    try:
        run_folder.runs_root()  # an unusable runs folder is a message here, and keeps the Train button off
        model, train = configs_from_form(task, corpus_value)
        if task == "forecast" and train.corpus not in BUILTIN_CORPORA:  # a column of the person's table
            corpus = cached_series(train.corpus, train.value_column, Path(train.corpus).name)
        else:
            corpus = load_training_corpus(train.corpus, train.text_column, train.label_column, train.star_threshold)
        check_trainable(corpus, task, train.sequence_length)
    except SeqlabError as error:
        errors.append(str(error))
    if train is not None and train.clip == "none" and train.learning_rate >= 0.01:
        warnings.append("A learning rate this high without gradient clipping often makes the loss blow up "
                        "(NaN). Turn clipping on, or lower the learning rate.")
    if not errors:
        _summary(model, train, corpus)
    for message in warnings:
        show_warning(message)
    for message in errors:
        show_error(message)
    started = None
    if st.button("Train", type="primary", icon=":material/rocket_launch:", disabled=bool(errors),
                 key=state_key("start"),
                 help="Starts training in the background. You can leave this page; the run keeps going."):
        try:
            started = launch.start_training(model, train, corpus=corpus, viewer=current_viewer())
        except SeqlabError as error:
            show_error(error)
    if train is not None:
        experiment_url.show_link(model, train, preset)
    with link_problems:
        experiment_url.show_problems()
    return started


def current_run() -> Path | None:
    """The run named in the URL (?run=<id>), if this browser may see it; else its newest active run; else the run
    this session last showed. Whichever it is goes into the URL, so a browser reload shows the same run.
    """
    viewer, run_id = current_viewer(), st.query_params.get("run")
    try:
        run_dir = (workspaces.run_for(viewer, run_id) if run_id
                   else newest_active_run(run_folder.runs_root(), viewer.workspace))
    except SeqlabError as error:
        show_error(error)
        return None
    if run_dir is None and st.session_state.get(LAST_RUN):
        try:
            run_dir = workspaces.run_for(viewer, st.session_state[LAST_RUN])
        except SeqlabError:  # deleted meanwhile (Runs page): nothing to show
            st.session_state.pop(LAST_RUN)
    if run_dir is not None:
        st.session_state[LAST_RUN] = run_dir.name
        if not run_id:
            st.query_params["run"] = run_dir.name
    return run_dir
