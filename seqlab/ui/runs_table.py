"""The Runs page's tables and one run's details: names and plain figures, split by task, fitted to the page.

A text model's loss (per character) and a review model's (per review) are different quantities, so each task
gets its own table with its own plain figures (share right; for text, "unsure among K characters"). A table
keeps to the columns that fit the page; the rest (parameters, the loss in nats) is in the run's details below.
"""

from __future__ import annotations

import streamlit as st

from seqlab.report import comparison, plain_words
from seqlab.runs import states
from seqlab.runs.states import RunState
from seqlab.ui.messages import plain

# What each table shows, in order, sized in pixels to fit a 1400 px window beside the sidebar; a projector's 1024 px
# shows the name, state and figures and scrolls the model, corpus and time. The rest of a row (id, parameters, the
# loss in nats) is under "One run".
TABLE_COLUMNS = {"generate": ["Name", "Status", "Progress", "Right", "Unsure among", "Model", "Corpus",
                              "Training time (s)", "Problem"],
                 "classify": ["Name", "Status", "Progress", "Right", "Model", "Corpus", "Training time (s)",
                              "Problem"],
                 "forecast": ["Name", "Status", "Progress", "Off by", "Model", "Corpus", "Training time (s)",
                              "Problem"],
                 None: ["Name", "Status", "Problem", "Run id"]}
TABLE_TITLES = {"generate": "Text generation", "classify": "Review sentiment", "forecast": "Series forecasts",
                None: "Runs that cannot be read"}
RIGHT_HELP = {"generate": "How often its first guess for the next character is right, on text held back from "
                          "training (at its best)",
              "classify": "Share of held-back reviews it judges right (at its best)"}


def column_config(task: str | None) -> dict:
    """Each column's words and width: 'Guesses right' for text and 'Reviews right' for reviews (one figure, two
    meanings), help texts that say what a figure means, and the nats behind 'Unsure among' for experts."""
    right = "Guesses right" if task == "generate" else "Reviews right"
    return {
        "Name": st.column_config.TextColumn("Name", width=160,
                                            help="The run's name (change it on the Train page); its id is under "
                                                 "One run, below"),
        "Status": st.column_config.TextColumn("Status", width=75),
        "Progress": st.column_config.ProgressColumn("Progress", help="Share of the planned training done",
                                                    min_value=0.0, max_value=1.0, format="percent", width=85),
        "Model": st.column_config.TextColumn("Model", width=200, help="Cell type, layers and units per layer"),
        "Corpus": st.column_config.TextColumn("Corpus", width=115),
        "Right": st.column_config.NumberColumn(right, help=RIGHT_HELP.get(task), format="%.0f%%", width=100),
        "Unsure among": st.column_config.NumberColumn(
            "Unsure among", format="%.1f characters", width=110,
            help="As unsure as choosing between this many characters, on held-back text (fewer is better; "
                 "random guessing is the whole alphabet). " + plain_words.LOSS_IN_NATS),
        "Off by": st.column_config.NumberColumn("Off by", format="%.4g", width=90,
                                                help="Its average miss on held-back values, in the series' own "
                                                     "units, at its best (lower is better)"),
        "Training time (s)": st.column_config.NumberColumn("Trained for", format="%.0f s", width=75,
                                                           help="Seconds spent training"),
        "Problem": st.column_config.TextColumn(help="Why a run failed, was interrupted or cannot be read"),
        "Run id": st.column_config.TextColumn("Run id", help="The run's folder name (the CLI's stop/resume take it)"),
    }


def shown_rows(items: list[dict]) -> list[dict]:
    """The table rows with the share right in percent (the column shows '54%', not '53.87%')."""
    rows = comparison.table_rows(items)
    for row in rows:
        row["Right"] = None if row["Right"] is None else round(100 * row["Right"], 2)
    return rows


def show_table(items: list[dict]) -> None:
    """One table per task, then the runs that cannot be read; a Problem column only where a run has one."""
    damaged = sum(item["status"]["state"] == RunState.DAMAGED for item in items)
    active = sum(item["status"]["state"] in states.ACTIVE for item in items)
    st.caption(f"{len(items)} run(s), newest first · {active} queued or training"
               + (f" · {damaged} damaged (see the Problem column)" if damaged else ""))
    readable = [item for item in items if item.get("model") and item["status"]["state"] != RunState.DAMAGED]
    groups = {task: [item for item in readable if item["model"]["task"] == task] for task in TABLE_COLUMNS if task}
    groups[None] = [item for item in items if item not in readable]
    for task, members in groups.items():
        if not members:
            continue
        rows = shown_rows(members)
        columns = [name for name in TABLE_COLUMNS[task] if name != "Problem" or any(row["Problem"] for row in rows)]
        st.markdown(f"**{TABLE_TITLES[task]}**")
        st.dataframe(rows, hide_index=True, width="stretch", column_order=columns, column_config=column_config(task))


def run_details(item: dict) -> str:
    """The details the table leaves out: id, model, size, and the best figures in words, then in nats."""
    row, model = comparison.table_row(item), item.get("model")
    parts = [f"Run id {plain(item['id'])}"]
    if model and row["Model"]:
        parts.append(f"{plain(row['Corpus'] or '')} · {row['Model']}")
    if row["Parameters"]:
        parts.append(f"{row['Parameters']:,} parameters")
    reading = plain_words.quality_sentence(row["Validation loss (nats)"], row["Right"], model["task"]) if model else ""
    forecast = bool(model) and model["task"] == "forecast"
    reading = plain_words.forecast_error(row["Off by"]) if forecast else reading
    if reading:
        parts.append(f"at its best it {'is ' if forecast else ''}{reading}")
    if row["Validation loss (nats)"] is not None:
        unit = "(squared error on scaled values)" if forecast else "nats"
        parts.append(f"best validation loss {row['Validation loss (nats)']:.4f} {unit} (for experts)")
    return " · ".join(parts)
