"""The Train form in the page's address: a link opens the same experiment, ready to train.

Reading: when the address carries settings this session has not seen yet (a link just opened, or followed inside
the app), they are checked (seqlab/report/experiment_link.py) and fill the form; what was refused is said above it.
Writing: after each redraw the form's settings go back into the address, beside the page's own keys (?run=, the
share token), so the browser's address bar is always a link to what the form shows.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import streamlit as st

from seqlab.config import ModelConfig, TrainConfig
from seqlab.errors import SeqlabError
from seqlab.presets import TASK_DEFAULTS
from seqlab.report.experiment_link import PAGE_KEYS, decode, encode, full_link
from seqlab.ui.messages import show_warning
from seqlab.ui.settings_form import fill_from_configs, state_key

SEEN = "seqlab_train_link_seen"  # the settings in the address that the form already follows
PROBLEMS = "seqlab_train_link_problems"  # (what the link's values were refused for, the form's link right after)


def _address_settings() -> dict[str, str]:
    return {key: value for key, value in st.query_params.to_dict().items() if key not in PAGE_KEYS}


def apply_link() -> None:
    """Fill the form from the address's settings if they are new to this session (before the widgets are drawn)."""
    settings = _address_settings()
    if not settings or settings == st.session_state.get(SEEN):
        return
    st.session_state[SEEN] = settings
    experiment = decode(settings)
    try:
        model, train = experiment.configs()
    except SeqlabError as error:  # each value passed on its own; should the whole still fail, the preset stands
        experiment.problems.append(str(error))
        experiment.overrides = {}
        model, train = experiment.configs()
    task = experiment.task
    st.session_state[state_key("task")] = task
    st.session_state[state_key("preset")] = experiment.preset
    st.session_state[state_key("corpus")] = experiment.corpus or TASK_DEFAULTS[task][1].corpus
    fill_from_configs(task, model, train)
    st.session_state[PROBLEMS] = (experiment.problems, None)


def show_problems() -> None:
    """What the opened link asked for that the form could not take, until the form is changed."""
    problems, _ = st.session_state.get(PROBLEMS) or ([], None)
    for problem in problems:
        show_warning(problem)


def show_link(model: ModelConfig, train: TrainConfig, preset: str) -> None:
    """Put the form's settings into the address, and show the whole link to copy."""
    query, corpus_shared = encode(model, train, preset)
    settings = dict(parse_qsl(query, keep_blank_values=True))
    if settings != _address_settings():
        kept = {key: value for key, value in st.query_params.to_dict().items() if key in PAGE_KEYS}
        st.query_params.from_dict({**kept, **settings})
    st.session_state[SEEN] = settings
    problems, clean = st.session_state.get(PROBLEMS) or ([], None)
    if problems and clean is None:
        st.session_state[PROBLEMS] = (problems, query)  # the link's problems stay in sight until the form changes
    elif problems and clean != query:
        st.session_state.pop(PROBLEMS)
    base = (st.context.url or "").split("?")[0].rstrip("/")
    if base.rsplit("/", 1)[-1] == "train":
        base = base.rsplit("/", 1)[0]
    st.markdown("**Copy link to this experiment**")
    st.code(full_link(base, query), language=None, wrap_lines=True)
    note = "" if corpus_shared else (" Your own corpus is not in the link (it stays on this server): whoever opens "
                                     "it starts on the task's built-in corpus, or brings the file on the Data page.")
    st.caption("Opens this form with these settings, ready to train: for a class, a colleague or a later you." + note)

