"""One declaration per setting: config validation, the Train page's widget and the CLI flag all say the same.

Each field of ModelConfig/TrainConfig declares its range or choices, label, help and flag once (seqlab/config.py).
These tests read the three consumers back and compare them with that declaration, so a widget, flag or check
that is written by hand and drifts (a widget allowing 0.01–100 while the config takes any positive number) fails.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from streamlit.testing.v1 import AppTest

from seqlab.cli.main import build_parser
from seqlab.config import (
    CONFIG_CLASSES,
    ModelConfig,
    TrainConfig,
    all_settings,
    cli_flag,
    declared,
    field_type,
    validate_model_config,
    validate_train_config,
)
from seqlab.errors import SeqlabError
from seqlab.presets import default_configs
from seqlab.ui.settings_form import state_key, widget_key
from tests.conftest import REPO

FIELDS = [(config_class, name) for config_class in CONFIG_CLASSES for name in declared(config_class)]
VALIDATE = {ModelConfig: validate_model_config, TrainConfig: validate_train_config}


def _valid_base(config_class, name):
    """A config in which `name` is in use (e.g. clipping on for its threshold, a review model for its settings)."""
    model, train = default_configs("classify" if "classify" in declared(config_class)[name].tasks and
                                   "generate" not in declared(config_class)[name].tasks else "generate")
    switch = declared(config_class)[name].on_when
    if switch:  # e.g. a Transformer for its heads
        model = replace(model, **{switch[0]: switch[1]}) if config_class is ModelConfig else model
    return model if config_class is ModelConfig else train


@pytest.mark.parametrize("config_class,name", FIELDS)
def test_config_accepts_exactly_the_declared_values(config_class, name):
    declaration, validate = declared(config_class)[name], VALIDATE[config_class]
    base = _valid_base(config_class, name)
    if declaration.choices:
        for value in declaration.choices:
            if not (name == "task" and value == "classify"):  # a generation config with task=classify is still valid
                validate(replace(base, **{name: value}))
        with pytest.raises(SeqlabError, match=f"Unknown {name.replace('_', ' ')}"):
            validate(replace(base, **{name: "no-such-" + name}))
    if declaration.low is not None:
        kind = field_type(config_class, name)
        for value in (declaration.low, declaration.high):
            validate(replace(base, **{name: kind(value)}))
        below = declaration.low - (1 if kind is int else declaration.low * 0.5 or 0.01)
        above = declaration.high + (1 if kind is int else declaration.high * 0.5)
        for value in (below, above):
            with pytest.raises(SeqlabError, match=f"{name} is"):
                validate(replace(base, **{name: kind(value)}))


@pytest.mark.parametrize("config_class,name", FIELDS)
def test_cli_flag_is_the_field_name_with_its_declared_choices_and_aliases(config_class, name):
    declaration = declared(config_class)[name]
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    action = next(action for action in train._actions if action.dest == name)
    assert action.option_strings == [cli_flag(name), *declaration.flag_aliases]
    assert (action.choices or None) == (list(declaration.choices) if declaration.choices else None)
    assert declaration.help.replace("%", "%%") in action.help
    if declaration.low is not None:
        assert f"[{declaration.low:g} to {declaration.high:g}]" in action.help
    if field_type(config_class, name) is not bool:
        assert action.type is field_type(config_class, name)


def test_old_flag_spellings_still_work():
    args = build_parser().parse_args(["train", "--layers", "2", "--schedule", "cosine", "--weight-average", "5",
                                      "--time-budget", "30"])
    assert (args.num_layers, args.learning_rate_schedule, args.weight_average_steps, args.time_budget_seconds) == \
        (2, "cosine", 5, 30.0)


def _train_page(task: str) -> AppTest:
    app = AppTest.from_file(str(REPO / "pages" / "train.py"), default_timeout=60)
    app.session_state[state_key("task")] = task
    return app.run()


def _widget(app: AppTest, name: str):
    for kind in ("number_input", "slider", "selectbox", "checkbox", "text_input", "radio"):
        found = [widget for widget in getattr(app, kind) if widget.key == widget_key(name)]
        if found:
            return kind, found[0]
    return None, None


@pytest.mark.parametrize("task", ["generate", "classify"])
def test_train_page_widgets_follow_the_declarations(task):
    app = _train_page(task)
    assert not app.exception
    app.radio(key=widget_key("stop_rule")).set_value("epochs").run()  # the epochs box, then the budget box
    shown_epochs = _widget(app, "epochs")[1] is not None
    app.radio(key=widget_key("stop_rule")).set_value("time").run()
    checked = 0
    for name, declaration in all_settings().items():
        kind, widget = _widget(app, name)
        if name == "epochs":
            assert shown_epochs
            continue
        if name in ("task", "corpus"):  # drawn above the settings, with choices that depend on the corpora
            assert (widget.label, widget.help) == (declaration.label, declaration.help)
            continue
        if not declaration.section or task not in declaration.tasks:
            assert widget is None, f"{name} has no knob for {task}"
            continue
        assert widget is not None, f"no widget for {name}"
        unit = "characters" if task == "generate" else "words"
        assert widget.label == declaration.label.format(unit=unit) and widget.help == declaration.help
        if declaration.choices:
            assert kind == "selectbox" and widget.options == list(declaration.choices.values())
        elif declaration.low is not None:
            assert kind == ("slider" if declaration.slider else "number_input")
            assert (widget.min, widget.max) == (declaration.low, declaration.high)
        else:
            assert kind == ("checkbox" if isinstance(field_type(_owner(name), name)(), bool) else "text_input")
        checked += 1
    assert checked >= 15


def _owner(name: str):
    return next(config_class for config_class in CONFIG_CLASSES if name in declared(config_class))


def test_every_environment_variable_is_in_the_settings_table():
    """seqlab/settings.py's docstring is the operators' list: a variable read there must be listed there."""
    import re

    source = (REPO / "seqlab" / "settings.py").read_text(encoding="utf-8")
    table = source.split('"""')[1]
    assert [name for name in set(re.findall(r'"(SEQLAB_[A-Z_]+)"', source)) if name not in table] == []
