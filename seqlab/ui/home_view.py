"""Home page glue: what seqlab is, the pipeline in one picture, and one-click quick demos.

Imports nothing that loads TensorFlow: the Home page is the first thing a visitor sees.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from seqlab.errors import SeqlabError
from seqlab.presets import PRESET_LABELS, preset_configs
from seqlab.runs import jobs, states
from seqlab.runs.launch import start_training
from seqlab.runs.names import run_name
from seqlab.runs.progress import steps_in_words
from seqlab.runs.workspaces import visible_runs
from seqlab.ui.messages import plain, show_error
from seqlab.ui.workspace import current_viewer

TRAIN_PAGE, DATA_PAGE, RUNS_PAGE = "pages/train.py", "pages/data.py", "pages/runs.py"
LESSON_PAGE = "pages/lesson.py"
QUICK_DEMO = "quick-demo"
# label -> (task, corpus, what the button does, for its tooltip)
DEMOS = {
    "Generate Shakespeare": ("generate", "tiny-shakespeare",
                             "Trains a small LSTM for about a minute on Shakespeare's plays, then writes new "
                             "'Shakespeare' one letter at a time. You watch it go from gibberish to words."),
    "Judge movie reviews": ("classify", "imdb",
                            "Trains a small GRU for about a minute on 25,000 IMDb reviews to tell positive "
                            "from negative ones. Then type your own review and see its verdict."),
}

INTRODUCTION = """
**seqlab** lets you teach a small neural network to read text, one piece at a time, and watch it learn —
in your browser, no programming needed.

* It can learn to **write** like a text it reads (give it Shakespeare, it writes something Shakespeare-ish,
  letter by letter), or to **judge** texts (is this movie review positive or negative?).
* The networks are *recurrent*: they read in order and carry a small memory from one letter or word to the
  next. You choose the kind of memory — a SimpleRNN, an LSTM or a GRU — and how big it is. For comparison
  there is also a tiny *Transformer*, which carries no memory but looks back at everything it read at once.
* Every training run is saved, so you can stop it, continue it later, compare it with other runs, and use
  the trained model to write text or score reviews.
"""

# The pipeline picture: (icon, step, what happens there), drawn left to right with arrows between.
PIPELINE = ((":material/menu_book:", "Corpus", "the text"),
            (":material/abc:", "Vocabulary", "letters → numbers"),
            (":material/neurology:", "Model", "SimpleRNN · LSTM · GRU · Transformer"),
            (":material/model_training:", "Training", "learns from mistakes"),
            (":material/folder_open:", "Run folder", "model + curves"),
            (":material/edit_note:", "Use it", "write · judge"))

TEACHERS = """
**Why does an LSTM beat a SimpleRNN on long-range structure?** A SimpleRNN rewrites its whole memory at every
letter, and while it learns, the signal that says *"the speaker's name 80 letters ago mattered"* is multiplied
by the same weights at every step back — it fades away (the *vanishing gradient*). An LSTM keeps a separate
memory lane (the *cell state*) that is only changed where its gates decide to, so that signal survives the trip.
"""
LESSON_SENTENCE = ("**A 10-minute experiment for a class:** the Lesson page races a SimpleRNN, an LSTM and a GRU on "
                   "the same text, then tests how far back each can remember, one click per step.")


def show_introduction() -> None:
    st.markdown(INTRODUCTION)
    st.caption("How a text becomes a model you can use:")
    columns = st.columns([5, 1] * (len(PIPELINE) - 1) + [5], gap="small", vertical_alignment="center")
    for index, (icon, step, what) in enumerate(PIPELINE):
        box = columns[2 * index].container(border=True)
        box.markdown(f"{icon} **{step}**")
        box.caption(what)
        if index < len(PIPELINE) - 1:
            columns[2 * index + 1].markdown("**→**", text_alignment="center")


def active_runs() -> list[dict]:
    """This browser's runs queued or training now (an unreadable runs folder reads as none, with the error
    shown)."""
    try:
        return [item for item in visible_runs(current_viewer(), jobs.list_runs())
                if item["status"]["state"] in states.ACTIVE]
    except SeqlabError as error:
        show_error(error)
        return []


def show_active_run(item: dict) -> None:
    status = item["status"]
    progress = status.get("progress")
    detail = f" — {progress:.0%} done, {steps_in_words(status)}" if isinstance(progress, int | float) else ""
    name = plain(run_name(Path(item["path"])))
    st.info(f"A run is already {status['state']}: **{name}**{detail}. Watch it live instead of starting "
            "another one (a second run would wait for this one or slow it down).", icon=":material/hourglass_top:")
    st.page_link(TRAIN_PAGE, label="Watch it on the Train page", icon=":material/monitoring:",
                 query_params={"run": item["id"]},
                 help="Opens the live view of this run: loss curves, samples and a Stop button.")


def start_demo(label: str) -> None:
    """Start the quick-demo preset for the demo `label` and open its live view; errors are shown."""
    task, corpus, _ = DEMOS[label]
    try:
        run_dir = start_training(*preset_configs(task, QUICK_DEMO, corpus=corpus), viewer=current_viewer())
    except SeqlabError as error:
        show_error(error)
        return
    st.switch_page(TRAIN_PAGE, query_params={"run": run_dir.name})


def demo_buttons() -> None:
    columns = st.columns(len(DEMOS))
    for column, (label, (_, _, description)) in zip(columns, DEMOS.items()):
        with column:
            st.markdown(f"**{label}**")
            st.caption(description)
            if st.button(label, key=f"demo-{label}", type="primary", icon=":material/play_arrow:",
                         help=f"{description} Preset: {PRESET_LABELS[QUICK_DEMO]}."):
                start_demo(label)


def show_quick_demos() -> None:
    st.subheader("Try it in one click")
    active = active_runs()
    if active:
        for item in active:
            show_active_run(item)
        with st.expander("Start another quick demo anyway"):
            demo_buttons()
    else:
        st.caption("Each demo trains for about a minute, then opens the Train page so you can watch it learn.")
        demo_buttons()


def show_next_steps() -> None:
    st.subheader("Or go step by step")
    columns = st.columns(3)
    columns[0].page_link(DATA_PAGE, label="1. Pick a text (Data)", icon=":material/menu_book:",
                         help="Choose a built-in text, upload your own, paste one or give a web address.")
    columns[1].page_link(TRAIN_PAGE, label="2. Choose a model and train it", icon=":material/model_training:",
                         help="Pick the kind and size of network, then watch it learn.")
    columns[2].page_link(RUNS_PAGE, label="3. Compare your runs", icon=":material/folder_open:",
                         help="Every run you trained: compare curves, continue, download or delete.")
    with st.expander("For teachers: an LSTM versus a SimpleRNN"):
        st.markdown(TEACHERS)
        st.markdown(LESSON_SENTENCE)
        st.page_link(LESSON_PAGE, label="Open the 10-minute lesson", icon=":material/lightbulb:",
                     help="A cell-type race, a memory probe and the hidden states, one click per step.")
