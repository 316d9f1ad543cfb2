"""The Train page's settings: one widget per config field, drawn from the field's declaration in seqlab/config.py.

The label, help, caption, range or choices, step and group of each widget come from `Setting`, the same
declaration that config validation and the CLI's flags are built from, so a widget cannot offer a value the config
would refuse. The few settings declared `essential` (what a newcomer chooses) are drawn first, each with its caption
in sight; everything else waits in "More settings".

A value lives in `st.session_state["train_<field>"]` (presets write it there); the widget has its own key and
copies its value there on change, because Streamlit forgets a widget's state when the person visits another page,
or when the widget is hidden (the epochs box under a time budget).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import streamlit as st

from seqlab.config import CONFIG_CLASSES, Setting, all_settings, declared, field_type, switched_off
from seqlab.presets import TASK_DEFAULTS, default_configs

SECTION_TITLES = {"model": "**The model**", "training": "**The training**", "advanced": "**Fine points**"}
ESSENTIALS_PER_ROW = 3
MORE_SETTINGS_KEY = "train_more_settings"  # the expander's key: it stays open while the page redraws
STOP_LABELS = {"time": "a time budget", "epochs": "a number of epochs"}
STOP_FIELDS = {"time": "time_budget_seconds", "epochs": "epochs"}  # what each way of stopping shows
KINDS = {name: field_type(config_class, name) for config_class in CONFIG_CLASSES for name in declared(config_class)}
FIELDS = [name for name in KINDS if name not in ("task", "corpus")]  # the knobs a preset fills

MAX_SETTING_CHARACTERS = 200  # a column name or other free-text setting
UNITS = {"generate": "characters", "classify": "words", "forecast": "values"}  # what a sequence length counts
FORECAST_CAPTIONS = {  # the captions that speak of text, said of a series
    "sequence_length": "How many past values the model reads before each forecast: a season or more.",
    "batch_size": "How many windows of the series the model sees before each small adjustment.",
    "positions": "How a Transformer knows which value came first."}


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


def caption_for(declaration: Setting, task: str, name: str = "") -> str:
    """The one-line, plain-words caption shown under a setting (its review or series wording where it has one)."""
    if task == "forecast" and name in FORECAST_CAPTIONS:
        return FORECAST_CAPTIONS[name]
    return (declaration.review_caption if task == "classify" else "") or declaration.caption


def setting_widget(name: str, declaration: Setting, task: str, disabled: bool = False):
    """The widget the declaration describes (a choice box, a checkbox, a slider, a number box or a text box), with
    its caption under it: visible text, because a projector or a touch screen cannot show a "?" tooltip."""
    label = declaration.label.format(unit=UNITS.get(task, "words"))
    common = {"help": declaration.help, "disabled": disabled, **bind(name)}
    if declaration.choices:
        choices = declaration.choices
        value = st.selectbox(label, list(choices), format_func=choices.get, **common)
    elif KINDS[name] is bool:
        value = st.checkbox(label, **common)
    elif declaration.low is None:
        value = st.text_input(label, max_chars=MAX_SETTING_CHARACTERS, **common)
    elif declaration.slider:
        value = st.slider(label, declaration.low, declaration.high, step=declaration.step, **common)
    else:
        value = st.number_input(label, declaration.low, declaration.high, step=declaration.step,
                                format=declaration.number_format, **common)
    if caption_for(declaration, task, name):
        st.caption(caption_for(declaration, task, name))
    return value


def _shown(task: str, essential: bool, section: str | None = None) -> list[str]:
    """The knobs of a task, the essential ones or the others (of one section), in declaration order."""
    return [name for name, declaration in all_settings().items()
            if declaration.section and task in declaration.tasks and declaration.essential == essential
            and section in (None, declaration.section) and name != STOP_FIELDS["time"]]


def _draw(name: str, task: str) -> None:
    declaration = all_settings()[name]
    if name == STOP_FIELDS["epochs"]:  # how the run stops decides which of the two is shown
        rule = st.radio("Stop after", list(STOP_LABELS), format_func=STOP_LABELS.get, **bind("stop_rule"),
                        horizontal=True, help="A time budget keeps runs predictable; epochs are full passes "
                                              "over the corpus.")
        st.caption("A time budget ends the run on time; epochs go through the whole "
                   f"{'series' if task == 'forecast' else 'text'} a set number of times.")
        name = STOP_FIELDS[rule]
        declaration = all_settings()[name]
    disabled = switched_off(declaration, lambda other: st.session_state.get(state_key(other)))
    setting_widget(name, declaration, task, disabled)


def essential_widgets(task: str) -> None:
    """The choices the product is about (cell type, layers, size, sequence length, clipping), three to a row."""
    names = _shown(task, essential=True)
    for start in range(0, len(names), ESSENTIALS_PER_ROW):
        for column, name in zip(st.columns(ESSENTIALS_PER_ROW), names[start:start + ESSENTIALS_PER_ROW]):
            with column:
                _draw(name, task)


def more_settings(task: str) -> None:
    """Every other knob, in a "More settings" expander that stays open (or shut) across reruns."""
    with st.expander("More settings", icon=":material/tune:", key=MORE_SETTINGS_KEY):
        model_column, train_column = st.columns(2)
        for column, section in ((model_column, "model"), (train_column, "training")):
            with column:
                st.markdown(SECTION_TITLES[section])
                for name in _shown(task, essential=False, section=section):
                    _draw(name, task)
        st.markdown(SECTION_TITLES["advanced"])
        advanced = _shown(task, essential=False, section="advanced")
        columns = st.columns(2)
        for index, name in enumerate(advanced):
            with columns[index % 2]:
                _draw(name, task)


def fill_from_configs(task: str, model, train) -> None:
    """Put every knob's value from these configs into the session (a preset, or an experiment link)."""
    values = {**asdict(model), **asdict(train)}
    for name in FIELDS:
        st.session_state[state_key(name)] = values[name]
    st.session_state[state_key("stop_rule")] = "time" if train.time_budget_seconds else "epochs"
    st.session_state[state_key("budget_epochs")] = train.epochs  # the epoch cap behind a time budget (not shown)
    if train.time_budget_seconds:
        st.session_state[state_key("epochs")] = TASK_DEFAULTS[task][1].epochs  # what "Epochs" offers if chosen


def configs_from_form(task: str, corpus: str):
    """The configs the widgets describe, validated (raises SeqlabError with the fix)."""
    state = st.session_state
    values = {name: state[state_key(name)] for name in FIELDS}
    if state[state_key("stop_rule")] == "time":
        values["epochs"] = state[state_key("budget_epochs")]
    else:
        values["time_budget_seconds"] = 0.0
    if task in ("generate", "forecast"):  # review-only settings keep their defaults
        defaults = TASK_DEFAULTS["generate"][0]
        values.update(bidirectional=False, word_pairs=0, vocabulary_size=defaults.vocabulary_size)
    chosen = state.get("seqlab_corpus")
    if isinstance(chosen, dict) and chosen.get("corpus") == corpus:  # the columns picked on the Data page
        for name in ("text_column", "label_column", "value_column"):
            values[name] = values[name] or str(chosen.get(name) or "")
        values["star_threshold"] = values["star_threshold"] or int(chosen.get("star_threshold") or 0)
    return default_configs(task, corpus=corpus, **values)
