"""Runs page glue: the tables of runs, one overlaid chart, settings diff, and one run's actions.

Reads run folders and sends commands (resume, delete) through seqlab; never trains, never loads a model.
Runs are shown by their human names; the tables are split by task, because a text model's loss (per character)
and a review model's (per review) are different quantities: each table shows its task's plain figures, and
keeps to the columns that fit the page (the id, the parameters and the loss in nats are under "One run").
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from seqlab.errors import SeqlabError
from seqlab.report import comparison, plain_words
from seqlab.runs import jobs, run_folder, states
from seqlab.runs.admin import delete_run
from seqlab.runs.states import RunState
from seqlab.runs.workspaces import no_such_run, visible_runs
from seqlab.ui.messages import plain, show_error
from seqlab.ui.runs_table import run_details, show_table
from seqlab.ui.workspace import current_viewer, show_share_link

PAGES = {"train": "pages/train.py", "generate": "pages/generate.py", "score": "pages/score.py",
         "forecast": "pages/forecast.py", "home": "pages/home.py"}
USE_LINKS = {"generate": ("generate", "Write text with it (Generate)"),
             "classify": ("score", "Judge reviews with it (Score)"),
             "forecast": ("forecast", "Forecast with it (Forecast)")}
NOTICE, CONFIRM = "runs_notice", "runs_confirm_delete"  # session-state keys
COMPARE_DEFAULT = 2  # runs overlaid when none were chosen yet


def load_runs() -> list[dict] | None:
    """This browser's runs (the operator's: all); every action below acts only on a run listed here."""
    try:
        return visible_runs(current_viewer(), jobs.list_runs())
    except SeqlabError as error:
        show_error(error)
        return None


def show_empty_state() -> None:
    st.info("There are no runs yet. A run is one training of one model: start one with a **Quick demo** on the "
            "Home page (one click, about a minute), or pick your own settings on the Train page.",
            icon=":material/folder_open:")
    columns = st.columns(2)
    columns[0].page_link(PAGES["home"], label="Quick demo (Home)", icon=":material/play_arrow:",
                         help="One click trains a small model for about a minute.")
    columns[1].page_link(PAGES["train"], label="Choose your own settings (Train)", icon=":material/model_training:",
                         help="Pick a corpus, a kind of network and its size, then train.")


def show_notice() -> None:
    """A message from the previous run of the page (e.g. after a delete, which reruns the page)."""
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.success(notice)


def show_comparison(items: list[dict], chosen: str | None) -> None:
    st.subheader("Compare runs")
    healthy = [item for item in items if item["model"] and item["status"]["state"] != RunState.DAMAGED]
    if not healthy:
        st.caption("No run can be compared yet: every run is damaged.")
        return
    by_id = {item["id"]: item for item in healthy}
    if "runs_compare" in st.session_state:  # keep the choice, minus runs deleted meanwhile
        st.session_state["runs_compare"] = [run_id for run_id in st.session_state["runs_compare"] if run_id in by_id]
    else:
        every_task = [item["model"]["task"] for item in healthy]  # the chosen run, else the newest with a sibling
        first = by_id[chosen] if chosen in by_id else next(
            (item for item in healthy if every_task.count(item["model"]["task"]) > 1), healthy[0])
        default = [first["id"]] + [item["id"] for item in healthy if item["id"] != first["id"]
                                   and item["model"]["task"] == first["model"]["task"]][:COMPARE_DEFAULT - 1]
        st.session_state["runs_compare"] = default
    labels = comparison.run_labels(healthy)
    selected = st.multiselect("Runs to overlay", list(by_id), key="runs_compare", format_func=labels.get,
                              help="Pick the runs whose learning curves you want to see on the same chart.")
    if not selected:
        st.caption("Pick one or more runs above to see their learning curves.")
        return
    tasks = {by_id[run_id]["model"]["task"] for run_id in selected}
    metrics = comparison.metrics_for(tasks)
    if st.session_state.get("runs_metric") not in metrics:
        st.session_state.pop("runs_metric", None)  # e.g. 'unsure among K characters' once only reviews are chosen
    left, right = st.columns([3, 2])
    metric = left.selectbox("Figure", metrics, index=metrics.index(comparison.default_metric(tasks)),
                            key="runs_metric", format_func=lambda name: comparison.METRICS[name][0],
                            help="What the chart draws. 'Unsure' is e^loss: as unsure as choosing between K "
                                 "characters (fewer is better). " + plain_words.LOSS_IN_NATS)
    x_axis = right.radio("Horizontal axis", list(comparison.X_AXES), horizontal=True, key="runs_x_axis",
                         format_func=lambda name: comparison.X_AXES[name].capitalize(),
                         help="Compare after the same number of training steps, or after the same time: "
                              "a bigger model learns more per step but takes longer per step.")
    curves = {labels[run_id]: comparison.run_curves(Path(by_id[run_id]["path"])) for run_id in selected}
    st.plotly_chart(comparison.overlay_figure(curves, x_axis, metric), width="stretch")
    if len(tasks) > 1 and metric != "val_accuracy":
        st.warning("These runs do different tasks (writing text, judging reviews, forecasting a series): their "
                   "losses are not comparable." + (" Choose the accuracy figure to compare them."
                                                   if "forecast" not in tasks else ""))
    if len(selected) >= 2:
        differences = comparison.config_diff([by_id[run_id] for run_id in selected])
        st.markdown("**Settings that differ**")
        if differences:
            st.dataframe(differences, hide_index=True, width="stretch")
        else:
            st.caption("These runs have exactly the same settings.")


def chosen_run(items: list[dict]) -> str | None:
    """The run named in the URL (?run=...), validated; else None."""
    run_id = st.query_params.get("run")
    if not run_id or run_id in {item["id"] for item in items}:
        return run_id or None
    try:
        run_folder.check_run_id(run_id)  # a malformed id says so
    except SeqlabError as error:
        show_error(error)
    else:
        show_error(no_such_run(run_id))  # not listed: the same words whether it is missing or not yours
    return None


def show_run_actions(items: list[dict], chosen: str | None) -> None:
    st.subheader("One run")
    ids, labels = [item["id"] for item in items], comparison.run_labels(items)
    if st.session_state.get("runs_selected") not in ids:  # first visit, or its run was deleted meanwhile
        st.session_state["runs_selected"] = chosen if chosen in ids else ids[0]
    run_id = st.selectbox("Run", ids, key="runs_selected", format_func=labels.get,
                          help="The run to continue, open, download or delete.")
    if st.query_params.get("run") != run_id:
        st.query_params["run"] = run_id  # so a browser reload keeps this run
    item = items[ids.index(run_id)]
    status, path = item["status"], Path(item["path"])
    state = status["state"]
    st.markdown(f"**{plain(comparison.run_name(item))}** is **{state}**.")
    st.caption(run_details(item))
    if item.get("error") or status.get("error"):
        (st.error if state == RunState.DAMAGED else st.warning)(item.get("error") or status.get("error"))
    show_links(item)
    if state != RunState.DAMAGED:
        show_share_link(path)
    columns = st.columns(3)
    with columns[0]:
        resume_button(item)
    with columns[1]:
        download_buttons(path, run_id, damaged=state == RunState.DAMAGED)
    with columns[2]:
        delete_controls(run_id, state, comparison.run_name(item))


def show_links(item: dict) -> None:
    if not item["model"]:
        return
    has_model = (Path(item["path"]) / run_folder.BEST_MODEL).is_file()
    use_page, use_label = USE_LINKS.get(item["model"]["task"], USE_LINKS["classify"])
    columns = st.columns(2)
    columns[0].page_link(PAGES["train"], label="Training curves and samples (Train)", icon=":material/monitoring:",
                         query_params={"run": item["id"]}, help="The live view of this run, or its record.")
    columns[1].page_link(PAGES[use_page], label=use_label, icon=":material/edit_note:",
                         query_params={"run": item["id"]},
                         disabled=not has_model,
                         help="Use the trained model." if has_model else
                         "Available once the run has finished its first validation (end of its first epoch).")


def resume_button(item: dict) -> None:
    state = item["status"]["state"]
    resumable = state in states.RESUMABLE and item["model"] is not None
    if st.button("Continue training", key="runs_resume", icon=":material/play_arrow:", disabled=not resumable,
                 help="Continue a stopped, interrupted or failed run from its last checkpoint." if resumable else
                 f"Only a stopped, interrupted or failed run can be continued; this one is {state}."):
        try:
            status = jobs.resume(Path(item["path"]), viewer=current_viewer())
        except SeqlabError as error:
            show_error(error)
            return
        place = f" (#{status['queue_position']} in line)" if status.get("queue_position") else ""
        st.session_state[NOTICE] = f"Run {comparison.run_name(item)} continues: it is {status['state']}{place}."
        st.rerun()


def download_buttons(path: Path, run_id: str, damaged: bool = False) -> None:
    model_file, config_file = path / run_folder.BEST_MODEL, path / run_folder.CONFIG
    if model_file.is_file():
        from seqlab.ui.model_download import model_zip

        st.download_button("Download the model (zip)", data=model_zip(path), file_name=f"{run_id}-model.zip",
                           mime="application/zip", key="runs_download_model", icon=":material/download:",
                           help="The network at its best validation loss as model.keras built from Keras' own "
                                "layers: plain Keras loads it, no seqlab needed. With its settings, vocabulary, "
                                "training curves and a model card (README.md). Made when you click (a few seconds).")
    elif not damaged:
        st.caption("No trained model yet (it is saved at the end of the first epoch).")
    if config_file.is_file():
        st.download_button("Download the settings", data=config_file.read_bytes, file_name=f"{run_id}-config.json",
                           mime="application/json", key="runs_download_config", icon=":material/description:",
                           help="config.json: every setting of this run; enough to train it again.")


def delete_controls(run_id: str, state: str, name: str | None = None) -> None:
    if state in states.ACTIVE:
        st.button("Delete this run", key="runs_delete", icon=":material/delete:", disabled=True,
                  help="A run that is queued or training cannot be deleted: stop it first on the Train page.")
        return
    if st.session_state.get(CONFIRM) != run_id:
        if st.button("Delete this run", key="runs_delete", icon=":material/delete:",
                     help="Removes the run's folder and everything in it. You will be asked to confirm."):
            st.session_state[CONFIRM] = run_id
            st.rerun()
        return
    named = f"{name} ({run_id})" if name and name != run_id else run_id
    st.warning(f"Delete run **{plain(named)}** and all its files? This cannot be undone.")
    confirm, cancel = st.columns(2)
    if confirm.button("Yes, delete it", key="runs_delete_confirm", type="primary",
                      help="Deletes the run now. A run linked in from another folder only loses its link."):
        st.session_state.pop(CONFIRM, None)
        try:
            st.session_state[NOTICE] = delete_run(run_id)
        except SeqlabError as error:
            show_error(error)
            return
        st.query_params.pop("run", None)
        st.rerun()
    if cancel.button("Cancel", key="runs_delete_cancel", help="Keep the run."):
        st.session_state.pop(CONFIRM, None)
        st.rerun()


def show_runs_page() -> None:
    show_notice()
    items = load_runs()
    if items is None:
        return
    chosen = chosen_run(items)  # a run named in the URL that is not listed gets its message, even with none listed
    if not items:
        show_empty_state()
        return
    show_table(items)
    show_comparison(items, chosen)
    st.divider()
    show_run_actions(items, chosen)
