"""The Train page's settings: one widget per config field, drawn from the field's declaration in seqlab/config.py.

The label, help, range or choices, step and group of each widget come from `Setting`, the same declaration that
config validation and the CLI's flags are built from, so a widget cannot offer a value the config would refuse.

A value lives in `st.session_state["train_<field>"]` (presets write it there); the widget has its own key and
copies its value there on change, because Streamlit forgets a widget's state when the person visits another page,
or when the widget is hidden (the epochs box under a time budget).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from seqlab.config import CONFIG_CLASSES, Setting, all_settings, declared, field_type
from seqlab.presets import TASK_DEFAULTS, default_configs

SECTION_TITLES = {"model": "**The model**", "training": "**The training**"}
STOP_LABELS = {"time": "a time budget", "epochs": "a number of epochs"}
STOP_FIELDS = {"time": "time_budget_seconds", "epochs": "epochs"}  # what each way of stopping shows
KINDS = {name: field_type(config_class, name) for config_class in CONFIG_CLASSES for name in declared(config_class)}
FIELDS = [name for name in KINDS if name not in ("task", "corpus")]  # the knobs a preset fills

MAX_SETTING_CHARACTERS = 200  # a column name or other free-text setting


def state_key(name: str) -> str:
    """Where a setting's value lives in the session."""
    return f"train_{name}"


def widget_key(name: str) -> str:
    return f"train_widget_{name}"


def bind(name: str, after: Callable[[], None] | None = None) -> dict:
    """A widget's key, its current value (set before it is drawn) and the callback that keeps the value."""
    st.session_state[widget_key(name)] = st.session_state[state_key(name)]
    return {"key": widget_key(name), "on_change": _sync, "args": (name, after)}


def _sync(name: str, after: Callable[[], None] | None) -> None:
    st.session_state[state_key(name)] = st.session_state[widget_key(name)]
    if after is not None:
        after()


def setting_widget(name: str, declaration: Setting, task: str, disabled: bool = False):
    """The widget the declaration describes: a choice box, a checkbox, a slider, a number box or a text box."""
    label = declaration.label.format(unit="characters" if task == "generate" else "words")
    common = {"help": declaration.help, "disabled": disabled, **bind(name)}
    if declaration.choices:
        choices = declaration.choices
        return st.selectbox(label, list(choices), format_func=choices.get, **common)
    if KINDS[name] is bool:
        return st.checkbox(label, **common)
    if declaration.low is None:
        return st.text_input(label, max_chars=MAX_SETTING_CHARACTERS, **common)
    if declaration.slider:
        return st.slider(label, declaration.low, declaration.high, step=declaration.step, **common)
    return st.number_input(label, declaration.low, declaration.high, step=declaration.step,
                           format=declaration.number_format, **common)


def _section(section: str, task: str) -> None:
    drawn: dict[str, object] = {}
    for name, declaration in all_settings().items():
        if declaration.section != section or task not in declaration.tasks or name == STOP_FIELDS["time"]:
            continue
        if name == STOP_FIELDS["epochs"]:  # how the run stops decides which of the two is shown
            rule = st.radio("Stop after", list(STOP_LABELS), format_func=STOP_LABELS.get, **bind("stop_rule"),
                            horizontal=True, help="A time budget keeps runs predictable; epochs are full passes "
                                                  "over the corpus.")
            name = STOP_FIELDS[rule]
            declaration = all_settings()[name]
        switch = declaration.off_when
        disabled = bool(switch) and drawn.get(switch[0]) == switch[1]
        drawn[name] = setting_widget(name, declaration, task, disabled)


def settings_widgets(task: str) -> None:
    """The model's and the training's settings side by side, the rest in an Advanced expander."""
    model_column, train_column = st.columns(2)
    for column, section in ((model_column, "model"), (train_column, "training")):
        with column:
            st.markdown(SECTION_TITLES[section])
            _section(section, task)
    with st.expander("Advanced"):
        _section("advanced", task)


def configs_from_form(task: str, corpus: str):
    """The configs the widgets describe, validated (raises SeqlabError with the fix)."""
    state = st.session_state
    values = {name: state[state_key(name)] for name in FIELDS}
    if state[state_key("stop_rule")] == "time":
        values["epochs"] = state[state_key("budget_epochs")]
    else:
        values["time_budget_seconds"] = 0.0
    if task == "generate":  # review-only settings keep their defaults
        defaults = TASK_DEFAULTS["generate"][0]
        values.update(bidirectional=False, word_pairs=0, vocabulary_size=defaults.vocabulary_size)
    chosen = state.get("seqlab_corpus")
    if isinstance(chosen, dict) and chosen.get("corpus") == corpus:  # the columns picked on the Data page
        for name in ("text_column", "label_column"):
            values[name] = values[name] or str(chosen.get(name) or "")
        values["star_threshold"] = values["star_threshold"] or int(chosen.get("star_threshold") or 0)
    return default_configs(task, corpus=corpus, **values)
