"""Run configuration: two flat dataclasses, each field declared once with everything people and code need.

`ModelConfig` is what the network looks like; `TrainConfig` is how it is fed and optimised. Both are written
to a run's `config.json`, which is enough to rebuild the model later (as nanoGPT checkpoints carry their config).

Each field is declared with `setting(default, ...)`: its allowed range or choices, its plain-words label and
help, and where the Train page shows it. Validation (`validate_*`), the Train page's widgets
(seqlab/ui/settings_form.py) and the CLI's `train` flags (seqlab/cli/training.py, `--field-name`) are all built
from these declarations, so the three cannot disagree.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from seqlab.config_fields import TASKS, Setting, check_declared, cli_flag, declared, field_type, setting, switched_off
from seqlab.errors import SeqlabError, require

__all__ = ["TASKS", "Setting", "cli_flag", "declared", "field_type", "switched_off", "CONFIG_CLASSES", "ModelConfig",
           "TrainConfig", "all_settings", "validate_model_config", "validate_train_config", "configs_to_json",
           "configs_from_json"]


@dataclass(frozen=True)
class ModelConfig:
    task: str = setting("generate", label="What should the model learn?", choices={
        "generate": "Write text like the corpus", "classify": "Tell positive from negative reviews",
        "forecast": "Predict the next values of a series"},
        help="Generation learns to continue text character by character; sentiment learns to read a review and "
             "say whether it is positive; forecasting learns to continue a series of numbers.",
        caption="Write text like a corpus, judge reviews, or predict the next values of a series.")
    cell: str = setting("lstm", label="Cell type", section="model", choices={
        "simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU", "transformer": "Tiny Transformer"},
        help="The recurrent unit that reads one character (or word) at a time. SimpleRNN is the plainest and "
             "forgets quickly; LSTM and GRU have gates that help them remember longer. The tiny Transformer has no "
             "memory that is carried along: every position looks back at all earlier ones at once (attention), "
             "as far back as the sequence length.",
        caption="LSTM and GRU remember longer than SimpleRNN; a Transformer looks back instead.", essential=True)
    num_layers: int = setting(1, label="Layers", low=1, high=4, slider=True, section="model",
                              flag_aliases=("--layers",),
                              help="Recurrent layers stacked on top of each other. More layers can learn more "
                                   "abstract patterns but train slower.",
                              caption="How many memories are stacked; more can learn more, but train slower.",
                              essential=True)
    units: int = setting(256, label="Units per layer", low=4, high=2048, step=16, section="model",
                         help="The size of the model's memory. Bigger remembers more but is slower. (A "
                              "Transformer's width: the size of every position's vector, split among its heads.)",
                         caption="How big each memory is: bigger remembers more and learns more slowly.",
                         essential=True)
    # the Transformer's: its width is `units` (as nanoGPT's n_embd), split among the heads; its layers are
    # num_layers; its context is the sequence length
    heads: int = setting(4, label="Attention heads", low=1, high=16, section="model", on_when=("cell", "transformer"),
                         help="A Transformer layer looks back several ways at once: each head has its own idea of "
                              "what is worth looking at. The width (units) is split among them, so it must divide "
                              "evenly.", caption="How many ways each Transformer layer looks back at once.")
    positions: str = setting("learned", label="Position signal", section="model", on_when=("cell", "transformer"),
                             choices={"learned": "Learned: a vector per position",
                                      "sinusoidal": "Sinusoidal: fixed waves (as the original Transformer)"},
                             help="Attention alone does not know the order of the characters; each position adds a "
                                  "signal. Learned vectors fit the data; fixed sine waves need no training.",
                             caption="How a Transformer knows which character came first.")
    embedding_dim: int = setting(64, label="Embedding size", low=2, high=1024, step=16, section="model",
                                 tasks=("generate", "classify"), off_when=("cell", "transformer"),
                                 help="How many numbers describe each character (or word) on the way in. (A "
                                      "Transformer's are as many as its units.)",
                                 caption="How many numbers describe each character or word going in.")
    dropout: float = setting(0.0, label="Dropout", low=0.0, high=0.8, step=0.05, slider=True, section="model",
                             help="Randomly hides this share of signals while training, so the model cannot just "
                                  "memorise. 0 is off; 0.1–0.3 helps big models on small corpora.",
                             caption="Hides some signals while training so the model cannot just memorise (0 = off).")
    # DropConnect on each recurrent layer's state-to-state weights U (AWD-LSTM's weight drop, Merity et al. 2017):
    # one mask per training batch, the same at every time step, so it costs no steps (unlike output dropout)
    weight_dropout: float = setting(0.0, label="Memory dropout", low=0.0, high=0.8, step=0.05, slider=True,
                                    section="model", off_when=("cell", "transformer"),
                                    help="Randomly cuts this share of the connections inside the recurrent memory "
                                         "for each batch (the same cuts at every step of a sequence), so the memory "
                                         "cannot lean on any single connection. Costs no speed; 0.2–0.3 keeps a big "
                                         "model from memorising a small corpus on long runs.",
                                    caption="Cuts links inside the memory each batch, against memorising (0 = off).")
    bidirectional: bool = setting(False, label="Read reviews in both directions (bidirectional)", section="model",
                                  tasks=("classify",), off_when=("cell", "transformer"),
                                  help="A second layer reads each review backwards; often a little more accurate, "
                                       "twice the work. (A Transformer already sees the whole review at once.)",
                                  caption="A second reader goes backwards; a little better, twice the work.")
    # "last": the state after the last word (as the tutorials); "max_mean": the strongest and the average output
    # over all words, so an early "brilliant" is not forgotten; "attention": a learned weighted average of them
    pooling: str = setting("last", label="Verdict from", section="model", tasks=("classify",), choices={
        "last": "The state after the last word", "max_mean": "Strongest and average signal over all words",
        "attention": "Attention over all words"},
        help="What the final layer looks at. The last state must carry the whole review in its memory; the "
             "strongest and average signal over all words also keep what was said early — usually more accurate "
             "on long reviews; attention learns how much to weigh each word, and shows where it looked. (A "
             "Transformer has no state: 'last' is its output at the last word, which has seen the whole review.)",
        caption="What the final verdict looks at: the last word's state, or all the words.")
    vocabulary_size: int = setting(20000, label="Words to know", low=100, high=200_000, step=1000, section="model",
                                   tasks=("classify",), help="The most frequent words get their own entry; rarer "
                                                             "words are treated as unknown.",
                                   caption="How many of the most common words get their own entry.")
    # a second reader beside the recurrent one: a bag of the review's words and adjacent word pairs hashed into this
    # many buckets (fastText's bigram bag); the verdict is the mean of the two readers' logits
    word_pairs: int = setting(0, label="Word-pair slots (0 = off)", low=0, high=1_000_000, step=16_384,
                              section="model", tasks=("classify",),
                              help="A second reader beside the recurrent one: it learns a small vector for each word "
                                   "and each pair of neighbouring words (\"not good\", \"must see\"), averages them "
                                   "over the review and gives its own verdict; the model's verdict is the mean of the "
                                   "two. Pairs share this many slots. 0 turns it off; 262,144 added about a point of "
                                   "IMDb test accuracy.",
                              caption='A helper that also counts word pairs like "not good" (0 = off).')


@dataclass(frozen=True)
class TrainConfig:
    corpus: str = setting("tiny-shakespeare", label="Corpus", help="The text (or reviews) to learn from: a built-in "
                          "corpus, or your own .txt/.csv/.tsv file (bring it on the Data page).",
                          caption="The text the model learns from: a built-in one, or your own from the Data page.")
    sequence_length: int = setting(100, label="Sequence length ({unit})", low=2, high=2000, step=10,
                                   section="training",
                                   help="Generation: every character of a training window is scored, so the length "
                                        "sets how far back learning can reach (a longer window can learn longer "
                                        "patterns, and each step costs more). Sentiment: how many words of each "
                                        "review are kept (longer ones are cut). Forecasting: how many past values "
                                        "the model reads before each prediction.",
                                   caption="Every character is scored; this sets how far back learning can reach.",
                                   review_caption="How many words of each review are kept; longer ones are cut.",
                                   essential=True)
    batch_size: int = setting(64, label="Batch size", low=1, high=4096, step=8, section="training",
                              help="How many sequences the model sees before each adjustment of its weights.",
                              caption="How many pieces of text the model sees before each small adjustment.")
    epochs: int = setting(10, label="Epochs", low=1, high=10_000, section="training",
                          help="How many times the model goes through the whole corpus.",
                          caption="How many times to go through the whole corpus.")
    max_steps: int = setting(0, label="Step cap (0 = no cap)", low=0, high=10_000_000, step=10, section="advanced",
                             help="Stop after this many steps whatever else is set; handy for a quick try.",
                             caption="Stop after this many steps, whatever else is set (0 = no cap).")
    time_budget_seconds: float = setting(0.0, label="Time budget (seconds)", low=0.0, high=7 * 24 * 3600.0, step=30.0,
                                         section="training", flag_aliases=("--time-budget",),
                                         help="Training stops after this much training time and keeps the best "
                                              "model (0 = no budget).",
                                         caption="Stop after this much training time, keeping the best model.")
    learning_rate: float = setting(2e-3, label="Learning rate", low=1e-5, high=1.0, step=0.0005, number_format="%.5f",
                                   section="training",
                                   help="How big each adjustment is. Too high and the loss jumps around or blows up; "
                                        "too low and learning crawls. 0.002–0.004 suits most runs here.",
                                   caption="How big each adjustment is: too big blows up, too small crawls.")
    # "cosine": the rate falls from learning_rate to 5% of it over the run (its time budget or its steps, whichever
    # ends first); the last, small steps settle into a lower loss than a constant rate reaches
    learning_rate_schedule: str = setting("constant", label="Learning-rate schedule", section="training",
                                          flag_aliases=("--schedule",), choices={
                                              "constant": "Constant", "cosine": "Cosine: slow down towards the end"},
                                          help="Cosine lowers the learning rate smoothly to 5% of it by the end of "
                                               "the run (its time budget or its steps); the small last steps "
                                               "settle the model into a lower loss.",
                                          caption="Cosine takes smaller steps towards the end and settles lower.")
    # validate and keep (best model, samples) a moving average of the weights over about this many steps rather
    # than the last step's weights (Polyak averaging: the average sits nearer the valley's floor); 0 = off
    weight_average_steps: int = setting(0, label="Average the weights over the last … steps (0 = off)", low=0,
                                        high=1_000_000, step=50, section="advanced",
                                        flag_aliases=("--weight-average",),
                                        help="Validates and keeps an average of the weights over about this many "
                                             "recent steps instead of the last step's weights, which jitter around "
                                             "the best point; the average usually sits a little lower. Training "
                                             "itself is unchanged.",
                                        caption="Keeps an average of recent weights: usually a bit better (0 = off).")
    # "auto": bfloat16 where the CPU has AVX-512 BF16 or AMX (~1.5x faster there, and it learns as well per step:
    # `python -m bench quality`), float32 elsewhere
    precision: str = setting("float32", label="Number precision", section="advanced", choices={
        "auto": "Automatic (bfloat16 where this CPU is fast at it)", "float32": "float32 (any machine)",
        "bfloat16": "bfloat16 (faster on recent CPUs)"},
        help="bfloat16 does the big multiplications with half the bits (weights stay float32): about 1.5–2× faster "
             "on CPUs with AVX-512 BF16 or AMX, slower on others.",
        caption="Fewer bits per number: faster on recent CPUs, the same on others.")
    clip: str = setting("norm", label="Gradient clipping", section="training", choices={
        "none": "Off", "norm": "Limit the overall gradient size (norm)", "value": "Limit each gradient value"},
        help="Caps how far one step may move the weights, which stops the sudden blow-ups recurrent models are "
             "prone to.", caption="Caps how far one step can move the model, which stops sudden blow-ups.",
        essential=True)
    clip_threshold: float = setting(1.0, label="Clipping threshold", low=0.01, high=100.0, step=0.1,
                                    number_format="%.2f", section="training", off_when=("clip", "none"),
                                    help="The largest gradient size (norm) or value allowed; 1.0 is a common choice.",
                                    caption="The cap itself; 1.0 is a common choice.")
    seed: int = setting(1234, label="Random seed", low=0, high=2**31 - 1, section="advanced",
                        help="The same seed and settings give the same starting weights and data order.",
                        caption="The same seed and settings give the same run again.")
    text_column: str = setting("", label="Text column (empty = detect)", section="advanced", tasks=("classify",),
                               help="For your own .csv/.tsv: the column holding the review text.",
                               caption="For your own table: the column with the text (empty = found automatically).")
    label_column: str = setting("", label="Label column (empty = detect)", section="advanced", tasks=("classify",),
                                help="For your own .csv/.tsv: the column holding positive/negative (or stars).",
                                caption="For your own table: the verdict or stars column (empty = found for you).")
    star_threshold: int = setting(0, label="Star threshold (0 = automatic)", low=0, high=10, step=1,
                                  section="advanced", tasks=("classify",),
                                  help="For labels written as star ratings: a review with at least this many stars "
                                       "is positive, fewer is negative. 0 picks it from the ratings: 6 on a 1–10 "
                                       "scale, 4 on a 1–5 scale.",
                                  caption="For star ratings: this many stars and above counts as positive (0 = "
                                          "automatic).")
    # forecast runs: which column of a person's table is the series, how many values each forecast holds, and
    # the season the seasonal-naive baseline repeats (seqlab/corpus/series.py, seqlab/encoding/windows.py)
    value_column: str = setting("", label="Value column (empty = detect)", section="advanced", tasks=("forecast",),
                                help="For your own .csv/.tsv: the column holding the series' numbers. Empty picks "
                                     "the only (or the last) column of numbers.",
                                caption="For your own table: the column with the numbers (empty = found for you).")
    horizon: int = setting(1, label="Values predicted at once", low=1, high=100, section="training",
                           tasks=("forecast",), essential=True,
                           help="How many values ahead the model predicts from each window. Longer forecasts "
                                "than this are made by feeding its own predictions back in.",
                           caption="How many next values each prediction holds (longer ones feed back).")
    season_length: int = setting(0, label="Season length (0 = automatic)", low=0, high=10_000, section="advanced",
                                 tasks=("forecast",),
                                 help="How many steps one season lasts (12 for monthly values with a yearly "
                                      "rhythm). The seasonal-naive baseline repeats the last season. 0 takes the "
                                      "built-in series' own, or finds it in your series.",
                                 caption="Steps in one season, for the seasonal baseline (0 = automatic).")


CONFIG_CLASSES = (ModelConfig, TrainConfig)
KIND = {"generate": "generation", "classify": "review", "forecast": "forecast"}  # "a generation model"


def all_settings() -> dict[str, Setting]:
    """Every field of both configs (their names never clash)."""
    return {**declared(ModelConfig), **declared(TrainConfig)}


def validate_model_config(config: ModelConfig) -> ModelConfig:
    check_declared(config)
    require(not (config.word_pairs and config.task != "classify"), f"word_pairs is set for a {KIND[config.task]} model",
           "word pairs only for classify", "set word_pairs to 0")
    require(config.cell != "transformer" or config.units % max(1, config.heads) == 0,
            f"{config.units} units cannot be split evenly among {config.heads} heads", "units a multiple of heads",
            f"set units to a multiple of {config.heads}, or change the number of heads")
    require(not (config.bidirectional and config.task != "classify"),
            f"bidirectional is on for a {KIND[config.task]} model",
            "bidirectional only for classify (a generator or forecaster must not read the future)",
            "turn bidirectional off")
    return config


def validate_train_config(config: TrainConfig) -> TrainConfig:
    require(isinstance(config.corpus, str) and bool(config.corpus.strip()), "No corpus was given",
           "a built-in corpus name or a file path", "pick a corpus (see `python -m seqlab corpora`)")
    check_declared(config)
    return config


def configs_to_json(model: ModelConfig, train: TrainConfig) -> str:
    return json.dumps({"model": asdict(model), "train": asdict(train)}, indent=2, ensure_ascii=False) + "\n"


def _from_dict(config_class, payload: dict, label: str):
    if not isinstance(payload, dict):
        raise SeqlabError(f"The {label} section of config.json is not an object", "a JSON object",
                          "restore config.json or start a new run")
    known = declared(config_class)
    unknown = sorted(set(payload) - set(known))
    require(not unknown, f"config.json has unknown {label} settings: {', '.join(unknown)}",
           f"only {', '.join(known)}", "remove those keys")
    values = {}
    for name, value in payload.items():
        kind = field_type(config_class, name)
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        require(ok, f"config.json: {label}.{name} is {value!r}", f"a {kind.__name__}",
               f"write {name} as a {kind.__name__} such as {getattr(config_class(), name)!r}")
        values[name] = value
    return config_class(**values)


def configs_from_json(payload: str) -> tuple[ModelConfig, TrainConfig]:
    """Parse and validate config.json; a hand-edited file gets a message, not a crash."""
    try:
        data = json.loads(payload)
    except json.JSONDecodeError as error:
        raise SeqlabError(f"config.json is not valid JSON ({error.msg} at line {error.lineno})",
                          "the file seqlab wrote", "undo the edit, or start a new run") from None
    if not isinstance(data, dict) or "model" not in data or "train" not in data:
        raise SeqlabError("config.json lacks its 'model' and 'train' sections", "the file seqlab wrote",
                          "undo the edit, or start a new run")
    model = validate_model_config(_from_dict(ModelConfig, data["model"], "model"))
    train = validate_train_config(_from_dict(TrainConfig, data["train"], "train"))
    return model, train
