"""Trained runs for the Generate and Score pages: which runs are usable, which one is shown, and its loaded model.

A run is usable as soon as it has saved a model: while it trains (its best model so far, marked "still training"),
once stopped, interrupted or finished. The page never waits for a reload: while it has no model to offer, or the
run shown is still training, a fragment looks at the model files every WATCH_SECONDS (a few stat calls and one
small status read) and reruns the page when a new model appears or the run ends.

A loaded model is shared by every browser session (st.cache_resource), keyed by the run's path and the checksum
seqlab recorded for its model.keras: two people sampling from one run share one model in memory, and a run whose
model was retrained (a new best model, a new checksum) is loaded afresh rather than served stale.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import streamlit as st

from seqlab.errors import SeqlabError
from seqlab.report.plain_words import TASK_NAMES
from seqlab.runs import jobs, run_folder, workspaces
from seqlab.runs.states import RunState
from seqlab.runs.workspaces import Viewer
from seqlab.ui.messages import plain, show_error
from seqlab.ui.workspace import current_viewer

# a run with a saved model is usable in every state but queued, failed and damaged; while it is running or
# stopping its model.keras is replaced by each new best model (atomically: seqlab/infer/loading.py reads it safely)
USABLE_STATES = (RunState.RUNNING, RunState.STOPPING, RunState.FINISHED, RunState.STOPPED, RunState.INTERRUPTED)
TRAINING_STATES = (RunState.RUNNING, RunState.STOPPING)
WATCH_SECONDS = 2.0  # how often a page without a model (or showing a training run's) looks for a new one
LOAD_ATTEMPTS = 3  # a model replaced while it loads is loaded again, under its new checksum
TASK_PAGES = {"generate": ("pages/generate.py", "Generate"), "classify": ("pages/score.py", "Score reviews"),
              "forecast": ("pages/forecast.py", "Forecast")}  # where each task's runs are used


def usable_runs(task: str, viewer: Viewer) -> list[dict]:
    """Runs of `task` that saved a model seqlab recorded (training ones included) and this viewer may read (its
    own, and those it holds a share link to), newest first (rows of jobs.list_runs)."""
    return [item for item in jobs.list_runs()
            if item["model"] and item["model"]["task"] == task and item["status"]["state"] in USABLE_STATES
            and workspaces.can_read(viewer, item["workspace"], item["id"]) and has_model(Path(item["path"]))]


def has_model(run_dir: Path) -> bool:
    """model.keras is there with a recorded checksum (save_model records it before the file appears)."""
    return (Path(run_dir) / run_folder.BEST_MODEL).is_file() and model_checksum(run_dir) != "unrecorded"


def still_training(item: dict) -> bool:
    return item["status"]["state"] in TRAINING_STATES


def training_mark(item: dict) -> str:
    """"still training — model from step 1,240": the step of the best model saved so far."""
    step = item["status"].get("best_step")
    return "still training — model from step " + f"{step:,}" if isinstance(step, int) else "still training"


def model_checksum(run_dir: Path) -> str:
    """The sha256 seqlab recorded for the run's model.keras (loading verifies the file against it)."""
    try:
        checksums = json.loads((Path(run_dir) / run_folder.CHECKSUMS).read_text(encoding="utf-8"))
        recorded = checksums.get(run_folder.BEST_MODEL)
    except (OSError, ValueError, AttributeError):
        recorded = None
    return recorded if isinstance(recorded, str) else "unrecorded"  # load_run then refuses the model


def link_to_page(page: str, label: str, icon: str | None = None, query_params: dict | None = None) -> None:
    """st.page_link when the app's router knows the page; a plain hint when the page runs on its own (tests)."""
    try:
        st.page_link(page, label=label, icon=icon, query_params=query_params)
    except st.errors.StreamlitAPIException:
        st.markdown(f"→ {label} (open it from the menu on the left)")


def _made_for_another_page(run_id: str, task: str) -> bool:
    """A run of another task named in the address (a forecast run opened on Generate): say which page uses it,
    with a link there; False when it is not such a run."""
    try:
        other = run_folder.read_configs(run_folder.run_in_root(run_id))[0].task
    except SeqlabError:
        return False
    if other == task or other not in TASK_PAGES:
        return False
    page, title = TASK_PAGES[other]
    st.info(f"Run {plain(run_id)} is a {TASK_NAMES[other]} run, not a {TASK_NAMES[task]} one: see the {title} page "
            "for it.", icon=":material/info:")
    link_to_page(page, f"Open it on the {title} page", icon=":material/arrow_forward:", query_params={"run": run_id})
    return True


def _describe(item: dict) -> str:
    """'lstm-shakespeare-3 · tiny-shakespeare · LSTM · 1 layer × 256 units · 54% right · unsure among 4.3': the
    run's name (its id for an older run), the model in the Train page's words, its best figures in plain numbers."""
    from seqlab.report.plain_words import headline_figure, model_shape
    from seqlab.runs.names import run_name

    model, train, status = item["model"], item["train"], item["status"]
    corpus = Path(train["corpus"]).name if "/" in train["corpus"] else train["corpus"]
    quality = headline_figure(status.get("best_val_loss"), status.get("best_val_accuracy"), model["task"])
    if model["task"] == "forecast":
        from seqlab.report.comparison import best_error
        from seqlab.report.plain_words import forecast_error

        error = forecast_error(best_error(Path(item["path"]), status))
        quality = f"{error} on held-back values, one at a time" if error else "—"
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
                if not _made_for_another_page(requested, task):
                    st.warning(f"Run {plain(requested)} cannot be used here: it is not a {TASK_NAMES[task]} run with "
                               "a saved model (yet). Showing another run instead.")
                requested = None
    if not choices:
        st.info(f"There is no trained {TASK_NAMES[task]} model yet. Train one first: it takes about a minute with "
                "the Quick demo preset. A run appears here by itself as soon as it has saved its first model, even "
                "while it is still training.")
        link_to_page("pages/train.py", "Go to Train", icon=":material/model_training:")
        _watch(None, models_signature(None))
        return None
    ids = [item["id"] for item in choices]
    index = ids.index(requested) if requested else 0
    labels = {item["id"]: _describe(item) + (f" · {training_mark(item)}" if still_training(item) else "")
              for item in choices}
    chosen = st.selectbox("Trained model", ids, index=index, format_func=labels.get, key=f"seqlab_{task}_run",
                          help="A training run with a saved model: finished, stopped, or still training (then its "
                               "best model so far). Newest first; the one in the page's address (?run=…) is chosen "
                               "when you open a link to it.")
    if st.query_params.get("run") != chosen:
        st.query_params["run"] = chosen
    item = choices[ids.index(chosen)]
    if still_training(item):
        st.info(f"**Still training** — this is the model from step {item['status'].get('best_step') or 0:,}, the "
                "best so far. A better one is picked up here by itself as soon as the run saves it.",
                icon=":material/model_training:")
        _watch(item["path"], models_signature(item["path"]))
    return item


def models_signature(run_path: str | None) -> tuple:
    """What changes when the page has something new to offer. For a run still training: its model file and its
    state (one stat, one small read). With no model at all: which runs of the runs root have a model file (a stat
    each) — a run's first model reruns the page, the better models of a classroom's other runs do not."""
    if run_path is not None:
        status = run_folder.read_status(Path(run_path))
        return _modified(Path(run_path) / run_folder.BEST_MODEL), status.get("state"), status.get("best_step")
    try:
        with os.scandir(run_folder.runs_root()) as entries:
            return tuple(sorted(entry.name for entry in entries if not entry.name.startswith(".")
                                and os.path.exists(os.path.join(entry.path, run_folder.BEST_MODEL))))
    except (OSError, SeqlabError):
        return ()


def _modified(path: Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


@st.fragment(run_every=WATCH_SECONDS)
def _watch(run_path: str | None, seen: tuple) -> None:
    """Reruns the page when a model appears (or the run shown saves a better one, or ends); draws nothing."""
    if models_signature(run_path) != seen:
        st.rerun()


def inference_on_cpu() -> None:
    """Before the server loads a model: hide the GPUs from this process (seqlab/engine/devices.py), so that the app
    never takes GPU memory the runs' workers need; the sampler and the scorer run on the CPU."""
    from seqlab.engine.devices import hide_gpus

    hide_gpus()


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def _load_sampler(run_path: str, checksum: str):
    from seqlab.infer.loading import load_run, require_task
    from seqlab.infer.sampling import CharSampler

    inference_on_cpu()
    run = require_task(load_run(Path(run_path), checksum=checksum), "generate", "generate text")
    return CharSampler.from_keras(run.model, run.vocabulary)


def sampler_for(run_dir: Path):
    """The run's CharSampler, loaded once per server for this model file (SeqlabError if it cannot be)."""
    return _loaded(_load_sampler, run_dir)


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def _load_scorer(run_path: str, checksum: str):
    from seqlab.infer.loading import load_run, require_task
    from seqlab.infer.scoring import ReviewScorer

    inference_on_cpu()
    run = require_task(load_run(Path(run_path), checksum=checksum), "classify", "score reviews")
    return ReviewScorer(run.model, name=run.path.name)


def scorer_for(run_dir: Path):
    """The run's ReviewScorer, loaded once per server for this model file (SeqlabError if it cannot be)."""
    return _loaded(_load_scorer, run_dir)


def _loaded(loader, run_dir: Path):
    """loader(run, checksum), cached under the checksum of the very file it loaded: a training run that saves a
    newer model while it loads (ModelReplacedError: never cached) is loaded again under the new checksum."""
    from seqlab.infer.loading import ModelReplacedError

    for attempt in range(LOAD_ATTEMPTS):
        try:
            return loader(str(Path(run_dir)), model_checksum(run_dir))
        except ModelReplacedError:
            if attempt == LOAD_ATTEMPTS - 1:
                raise
            time.sleep(0.2)
