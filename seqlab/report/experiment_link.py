"""An experiment as a link: the Train form's choices in a URL's query, as TensorFlow Playground shares its setups.

A teacher sets up a model, copies the link, and every student's browser opens the same form ready to train; the
CLI reads the same link (`seqlab train --link`) and prints one (`--print-link`). To stay short and readable the
link holds the task, a built-in corpus, the preset, and only the settings that differ from that preset:
`train?task=generate&corpus=hamlet&preset=balanced&cell=gru&num_layers=2`.

A link comes from anyone, so reading one trusts nothing: every value is checked against its field's declaration
(seqlab/config.py) and the whole against the config's own validation; a bad or unknown value is named in a
message and left out, and the rest still applies. A server file path (an uploaded corpus) never goes into a link
nor is taken from one, and free-text settings (CSV column names) are not shared either.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

from seqlab.config import TASKS, ModelConfig, TrainConfig, all_settings, field_type
from seqlab.corpus.registry import BUILTIN_CORPORA
from seqlab.errors import SeqlabError
from seqlab.presets import PRESETS, TASK_DEFAULTS, preset_configs

MAX_LINK_CHARACTERS = 2000  # a whole link is ~600 characters at most; anything longer is not one of ours
MAX_SHOWN_VALUE = 40  # a bad value is quoted in the message up to this many characters
NEEDS_DOWNLOAD = ("imdb-full",)  # a built-in corpus fetched first (84 MB): a link cannot count on it
DEFAULT_PRESET = "quick-demo"
EXPERIMENT_KEYS = ("task", "corpus", "preset")
PAGE_KEYS = ("run", "share", "present", "embed", "embed_options")  # the app's other query keys: not settings
DEFAULT_APP_URL = "http://localhost:8501"  # `streamlit run`'s own default address, for a link printed by the CLI


def _shared(name: str) -> bool:
    """A knob of the Train page that is a number or a choice (free text, e.g. a CSV column, stays out)."""
    declaration = all_settings()[name]
    free_text = field_type(ModelConfig if name in ModelConfig.__dataclass_fields__ else TrainConfig,
                           name) is str and not declaration.choices
    return bool(declaration.section) and not free_text


SHARED_FIELDS = tuple(name for name in all_settings() if name not in EXPERIMENT_KEYS and _shared(name))


@dataclass
class Experiment:
    """What a link asks for: task, built-in corpus (None = the task's own), preset, overrides; and its problems."""

    task: str = "generate"
    corpus: str | None = None
    preset: str = DEFAULT_PRESET
    overrides: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def configs(self) -> tuple[ModelConfig, TrainConfig]:
        """The validated configs the link describes."""
        corpus = {"corpus": self.corpus} if self.corpus else {}
        return preset_configs(self.task, self.preset, **corpus, **self.overrides)


def is_shareable_corpus(corpus: str, task: str) -> bool:
    """Only a built-in corpus of the task travels in a link; an uploaded file is this server's, not the link's."""
    info = BUILTIN_CORPORA.get(corpus)
    return info is not None and info.task == task and corpus not in NEEDS_DOWNLOAD


def _text(value: float | int | bool | str) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}" if float(f"{value:g}") == value else repr(value)
    return str(value)


def encode(model: ModelConfig, train: TrainConfig, preset: str = DEFAULT_PRESET) -> tuple[str, bool]:
    """The link's query string for these configs, and whether the corpus went into it (False: an uploaded file,
    which whoever opens the link must bring themselves)."""
    task = model.task
    preset = preset if preset in PRESETS.get(task, {}) else DEFAULT_PRESET
    shared_corpus = is_shareable_corpus(train.corpus, task)
    corpus = train.corpus if shared_corpus else TASK_DEFAULTS[task][1].corpus
    base_model, base_train = preset_configs(task, preset, corpus=corpus)
    values, base = {**asdict(model), **asdict(train)}, {**asdict(base_model), **asdict(base_train)}
    query = {"task": task, **({"corpus": train.corpus} if shared_corpus else {}), "preset": preset}
    for name in SHARED_FIELDS:
        if task in all_settings()[name].tasks and values[name] != base[name]:
            query[name] = _text(values[name])
    return urlencode(query), shared_corpus


def full_link(base_url: str, query: str) -> str:
    """The Train page's address with the query: `http://host:8501/train?task=…` (base_url: the app's address)."""
    return f"{base_url.split('?')[0].rstrip('/')}/train?{query}"


def parse_query(link: str) -> dict[str, str]:
    """A whole link, or just its query (`?a=1&b=2` or `a=1&b=2`), as key -> value (the last one wins)."""
    if not isinstance(link, str) or len(link) > MAX_LINK_CHARACTERS:
        raise SeqlabError(f"The experiment link is longer than {MAX_LINK_CHARACTERS:,} characters",
                          "a link copied from seqlab's Train page", "copy the link again")
    link = link.strip()
    query = urlsplit(link).query if ("?" in link or "://" in link) else link
    return dict(parse_qsl(query, keep_blank_values=True, max_num_fields=len(all_settings()) + 20))


def _shown(value: str) -> str:
    return repr(value if len(value) <= MAX_SHOWN_VALUE else value[:MAX_SHOWN_VALUE] + "…")


def _parse_value(name: str, text: str) -> float | int | bool | str:
    """The text as the field's type; SeqlabError when it is not one."""
    config_class = ModelConfig if name in ModelConfig.__dataclass_fields__ else TrainConfig
    kind = field_type(config_class, name)
    try:
        if kind is bool:
            return {"1": True, "true": True, "0": False, "false": False}[text.strip().lower()]
        return kind(text)
    except (KeyError, ValueError):
        expected = "yes or no (1 or 0)" if kind is bool else "a whole number" if kind is int else "a number"
        raise SeqlabError(f"The link's {name} is {_shown(text)}", expected,
                          "fix it in the link, or set it on the form") from None


def decode(params: dict[str, str]) -> Experiment:
    """Check a link's query (as from `parse_query` or a page's query parameters) value by value; each bad or
    unknown one becomes a message in `problems` and is left out, the rest applies."""
    experiment, problems = Experiment(), []
    task = params.get("task", "generate")
    if task in TASKS:
        experiment.task = task
    else:
        problems.append(f"The link's task {_shown(task)} is not one seqlab has (generate or classify): "
                        "showing text generation.")
    preset = params.get("preset", DEFAULT_PRESET)
    if preset in PRESETS[experiment.task]:
        experiment.preset = preset
    else:
        problems.append(f"The link's preset {_shown(preset)} does not exist (one of {', '.join(PRESETS['generate'])}):"
                        f" starting from {DEFAULT_PRESET}.")
    corpus = params.get("corpus")
    if corpus is not None and is_shareable_corpus(corpus, experiment.task):
        experiment.corpus = corpus
    elif corpus is not None:
        problems.append(f"The link's corpus {_shown(corpus)} is not a built-in corpus for this task that a link "
                        "can carry (a file or a download is brought on the Data page): using the task's own.")
    for name, text in params.items():
        if name in EXPERIMENT_KEYS or name in PAGE_KEYS:
            continue
        if name not in SHARED_FIELDS:
            problems.append(f"The link has an unknown setting {_shown(name)}: ignored.")
        elif experiment.task not in all_settings()[name].tasks:
            problems.append(f"The link's {name} applies only to {'/'.join(all_settings()[name].tasks)}: ignored.")
        else:
            _take(experiment, name, text, problems)
    experiment.problems = problems
    return experiment


def _take(experiment: Experiment, name: str, text: str, problems: list[str]) -> None:
    """Add one override if the config accepts it together with those taken so far."""
    try:
        value = _parse_value(name, text)
        Experiment(experiment.task, experiment.corpus, experiment.preset,
                   {**experiment.overrides, name: value}).configs()
    except SeqlabError as error:
        problems.append(f"From the link: {error} The preset's value is kept.")
        return
    experiment.overrides[name] = value


def read_link(link: str) -> Experiment:
    """`decode(parse_query(link))`: the CLI's `--link`."""
    return decode(parse_query(link))
