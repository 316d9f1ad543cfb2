"""How a config field is declared: the `Setting` beside each field, and the checks every declaration implies.

seqlab/config.py declares its two dataclasses' fields with `setting(default, ...)`; validation, the Train page's
widgets (seqlab/ui/settings_form.py) and the CLI's flags (seqlab/cli/training.py) all read these declarations, so
they cannot disagree. Kept apart from the dataclasses so that adding a field never means scrolling past machinery.
"""

from __future__ import annotations

import math
from dataclasses import Field, dataclass, field, fields

from seqlab.errors import require

TASKS = ("generate", "classify", "forecast")
SECTIONS = ("model", "training", "advanced")  # the Train page's groups of widgets, in order


@dataclass(frozen=True)
class Setting:
    """How one config field looks to people: label, help, allowed values, where it is shown, old CLI spellings."""

    label: str
    help: str
    low: float | None = None  # numbers: the smallest allowed value
    high: float | None = None  # numbers: the largest allowed value
    choices: dict[str, str] | None = None  # value -> what the Train page shows for it
    step: float | None = None  # the widget's increment
    number_format: str | None = None  # the widget's printf format, e.g. "%.4f"
    slider: bool = False  # a slider rather than a number box
    section: str = ""  # "model" | "training" | "advanced"; "" = not a knob on the Train page
    tasks: tuple[str, ...] = TASKS  # the tasks whose Train page shows it
    caption: str = ""  # one line in plain words, shown under the widget (a tooltip cannot reach a projector)
    review_caption: str = ""  # the caption for review models, where the setting means something else
    essential: bool = False  # shown before "More settings": the few choices the product is about
    off_when: tuple[str, str] | None = None  # (field, value): this setting means nothing while that field has it
    on_when: tuple[str, str] | None = None  # (field, value): this setting means something only while it has it
    flag_aliases: tuple[str, ...] = ()  # earlier CLI spellings, still accepted


def setting(default, **declaration) -> Field:
    """A dataclass field with its Setting declaration beside it."""
    return field(default=default, metadata={"setting": Setting(**declaration)})


def declared(config_class) -> dict[str, Setting]:
    """Field name -> its Setting, in declaration order."""
    return {item.name: item.metadata["setting"] for item in fields(config_class)}


def cli_flag(name: str) -> str:
    """The CLI flag of a field: its name, dashed (`num_layers` -> `--num-layers`)."""
    return "--" + name.replace("_", "-")


def field_type(config_class, name: str) -> type:
    """The Python type of a field, read from its default (the annotations are strings here)."""
    return type(getattr(config_class(), name))


def check_declared(config) -> None:
    """Every field against its declaration: type, choices, range (skipped while the setting is switched off)."""
    for name, declaration in declared(type(config)).items():
        value, kind = getattr(config, name), field_type(type(config), name)
        well_typed = isinstance(value, kind) or (kind is float and isinstance(value, int))
        require(well_typed and not (kind is not bool and isinstance(value, bool)), f"{name} is {value!r}",
               f"a {kind.__name__}", f"set {name} to a {kind.__name__}")
        if switched_off(declaration, lambda other: getattr(config, other)):
            continue
        if declaration.choices:
            listed = ", ".join(declaration.choices)
            require(value in declaration.choices, f"Unknown {name.replace('_', ' ')} '{value}'", f"one of {listed}",
                   f"choose one of {listed} ({cli_flag(name)})")
        if declaration.low is not None:
            low, high = declaration.low, declaration.high
            require(math.isfinite(value) and low <= value <= high, f"{name} is {value}", f"a value from {low:g} to "
                   f"{high:g}", f"set {name} ({cli_flag(name)}) between {low:g} and {high:g}")


def switched_off(declaration: Setting, value_of) -> bool:
    """Whether a setting means nothing now, given `value_of(field name)` for the other fields."""
    if declaration.off_when and value_of(declaration.off_when[0]) == declaration.off_when[1]:
        return True
    return bool(declaration.on_when) and value_of(declaration.on_when[0]) != declaration.on_when[1]
