"""Trained runs for the Generate and Score pages: which runs are usable, which one is shown, and its loaded model.

A loaded model is shared by every browser session (st.cache_resource), keyed by the run's path and the checksum
seqlab recorded for its model.keras: two people sampling from one run share one model in memory, and a run whose
model was retrained (a new best model, a new checksum) is loaded afresh rather than served stale.
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from seqlab.errors import SeqlabError
from seqlab.runs import jobs, run_folder, workspaces
from seqlab.runs.states import RunState
from seqlab.runs.workspaces import Viewer
from seqlab.ui.messages import plain, show_error
from seqlab.ui.workspace import current_viewer

USABLE_STATES = (RunState.FINISHED, RunState.STOPPED)  # a model that no longer changes under the reader
TASK_WORDS = {"generate": "text generation", "classify": "review sentiment"}


def usable_runs(task: str, viewer: Viewer) -> list[dict]:
    """Finished or stopped runs of `task` that saved a model and this viewer may read (its own, and those it
    holds a share link to), newest first (rows of jobs.list_runs)."""
    return [item for item in jobs.list_runs()
            if item["model"] and item["model"]["task"] == task and item["status"]["state"] in USABLE_STATES
            and workspaces.can_read(viewer, item["workspace"], item["id"])
            and (Path(item["path"]) / run_folder.BEST_MODEL).is_file()]


def model_checksum(run_dir: Path) -> str:
    """The sha256 seqlab recorded for the run's model.keras (loading verifies the file against it)."""
    try:
        checksums = json.loads((Path(run_dir) / run_folder.CHECKSUMS).read_text(encoding="utf-8"))
        recorded = checksums.get(run_folder.BEST_MODEL)
    except (OSError, ValueError, AttributeError):
        recorded = None
    return recorded if isinstance(recorded, str) else "unrecorded"  # load_run then refuses the model


def link_to_page(page: str, label: str, icon: str | None = None) -> None:
    """st.page_link when the app's router knows the page; a plain hint when the page runs on its own (tests)."""
    try:
        st.page_link(page, label=label, icon=icon)
    except st.errors.StreamlitAPIException:
        st.markdown(f"→ {label} (open it from the menu on the left)")


def _describe(item: dict) -> str:
    """'lstm-shakespeare-3 · tiny-shakespeare · LSTM · 1 layer × 256 units · 54% right · unsure among 4.3': the
    run's name (its id for an older run), the model in the Train page's words, its best figures in plain numbers."""
    from seqlab.report.plain_words import headline_figure, model_shape
    from seqlab.runs.names import run_name

    model, train, status = item["model"], item["train"], item["status"]
    corpus = Path(train["corpus"]).name if "/" in train["corpus"] else train["corpus"]
    quality = headline_figure(status.get("best_val_loss"), status.get("best_val_accuracy"), model["task"])
    return (f"{run_name(Path(item['path']))} · {corpus} · {model_shape(model)}"
            + (f" · {quality}" if quality != "—" else ""))


def choose_run(task: str) -> dict | None:
    """The run picker over this browser's runs (and runs shared with it): defaults to ?run=<id> (kept in the URL
    across reloads), else the newest usable run."""
    viewer = current_viewer()
    try:
        choices = usable_runs(task, viewer)
    except SeqlabError as error:  # e.g. a runs folder that cannot be created
        show_error(error)
        return None
    requested = st.query_params.get("run")
    if requested:
        try:
            workspaces.run_for(viewer, requested)
        except SeqlabError as error:
            show_error(error)
            requested = None
        else:
            if requested not in [item["id"] for item in choices]:
                st.warning(f"Run {plain(requested)} cannot be used here: it is not a finished or stopped "
                           f"{TASK_WORDS[task]} run with a saved model. Showing another run instead.")
                requested = None
    if not choices:
        st.info(f"There is no trained {TASK_WORDS[task]} model yet. Train one first: it takes about a minute with "
                "the Quick demo preset. A run appears here once it has finished (or was stopped) with a saved model.")
        link_to_page("pages/train.py", "Go to Train", icon=":material/model_training:")
        return None
    ids = [item["id"] for item in choices]
    index = ids.index(requested) if requested else 0
    labels = {item["id"]: _describe(item) for item in choices}
    chosen = st.selectbox("Trained model", ids, index=index, format_func=labels.get, key=f"seqlab_{task}_run",
                          help="A finished (or stopped) training run. Newest first; the one in the page's address "
                               "(?run=…) is chosen when you open a link to it.")
    if st.query_params.get("run") != chosen:
        st.query_params["run"] = chosen
    return choices[ids.index(chosen)]


def inference_on_cpu() -> None:
    """Before the server loads a model: hide the GPUs from this process (seqlab/engine/devices.py), so that the app
    never takes GPU memory the runs' workers need; the sampler and the scorer run on the CPU."""
    from seqlab.engine.devices import hide_gpus

    hide_gpus()


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def _load_sampler(run_path: str, checksum: str):
    from seqlab.infer.loading import load_run
    from seqlab.infer.sampling import CharSampler, NumpyCharModel

    inference_on_cpu()
    run = load_run(Path(run_path))
    return CharSampler(NumpyCharModel.from_keras(run.model), run.vocabulary)


def sampler_for(run_dir: Path):
    """The run's CharSampler, loaded once per server for this model file (SeqlabError if it cannot be)."""
    return _load_sampler(str(Path(run_dir)), model_checksum(run_dir))


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def _load_scorer(run_path: str, checksum: str):
    from seqlab.infer.scoring import ReviewScorer

    inference_on_cpu()
    return ReviewScorer.from_run(Path(run_path))


def scorer_for(run_dir: Path):
    """The run's ReviewScorer, loaded once per server for this model file (SeqlabError if it cannot be)."""
    return _load_scorer(str(Path(run_dir)), model_checksum(run_dir))
