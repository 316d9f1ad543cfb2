"""Run configuration: two flat dataclasses, validated, with a JSON round-trip.

`ModelConfig` is what the network looks like; `TrainConfig` is how it is fed
and optimised. Both are written to a run's `config.json`, which is enough to
rebuild the model later (as nanoGPT checkpoints carry their config).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace

from seqlab.errors import SeqlabError

TASKS = ("generate", "classify")
CELLS = ("simple_rnn", "lstm", "gru")
CLIP_MODES = ("none", "norm", "value")
SCHEDULES = ("constant", "cosine")
POOLINGS = ("last", "max_mean")
PRECISIONS = ("float32", "bfloat16", "auto")
GATES = {"simple_rnn": 1, "gru": 3, "lstm": 4}  # weight blocks per cell: input/forget/cell/output for LSTM


@dataclass(frozen=True)
class ModelConfig:
    task: str = "generate"  # "generate" (next character) or "classify" (review sentiment)
    cell: str = "lstm"  # "simple_rnn" | "lstm" | "gru"
    num_layers: int = 1  # stacked recurrent layers, 1–4
    units: int = 256  # hidden state size of each layer
    embedding_dim: int = 64  # size of the learned vector per character / word
    dropout: float = 0.0  # dropout between layers and before the output, 0–0.8
    # DropConnect on each recurrent layer's state-to-state weights U (AWD-LSTM's weight drop, Merity et al. 2017):
    # every training batch zeroes this share of U's entries, the same ones at every time step, so the memory cannot
    # lean on any one connection. 0–0.8; 0 = off. Unlike dropout on the outputs it costs no steps (one mask per batch)
    weight_dropout: float = 0.0
    bidirectional: bool = False  # classify only: read the review in both directions
    # classify only: "last" judges from the state after the last word (as the tutorials); "max_mean" from the
    # strongest and the average output over all words, so an early "brilliant" is not forgotten by the end
    pooling: str = "last"
    vocabulary_size: int = 20000  # classify only: most frequent words kept (generate: set by the corpus)
    # classify only: a second reader beside the recurrent one, a bag of the review's words and adjacent word
    # pairs ("not good", hashed into this many buckets: fastText's bigram bag); the verdict is the mean of the
    # two readers' logits. 0 = off. Each reader alone reaches ~89% IMDb test accuracy, the two together ~90%
    word_pairs: int = 0


@dataclass(frozen=True)
class TrainConfig:
    corpus: str = "tiny-shakespeare"  # built-in name or path
    sequence_length: int = 100  # generate: characters per window; classify: words kept per review
    batch_size: int = 64
    epochs: int = 10
    max_steps: int = 0  # stop after this many optimizer steps (0: no cap)
    time_budget_seconds: float = 0.0  # stop after this much training time (0: no budget)
    learning_rate: float = 2e-3
    # "cosine": the rate falls from learning_rate to 5% of it over the run (its time budget or its steps, whichever
    # ends first); the last, small steps settle into a lower loss than a constant rate reaches
    learning_rate_schedule: str = "constant"
    # validate and keep (best model, samples) a moving average of the weights over about this many steps rather
    # than the last step's weights (Polyak averaging: the average sits nearer the valley's floor); 0 = off
    weight_average_steps: int = 0
    # "bfloat16": mixed precision (bfloat16 products, float32 weights); "auto": bfloat16 where the CPU has AVX-512
    # BF16 or AMX (there it is ~1.5x faster and learns as well per step: `bench quality`), float32 elsewhere
    precision: str = "float32"
    clip: str = "norm"  # "none" | "norm" (global norm over all gradients) | "value" (each element)
    clip_threshold: float = 1.0
    seed: int = 1234
    text_column: str = ""  # classify CSV/TSV: column names ("" = detect)
    label_column: str = ""


TASK_DEFAULTS = {
    "generate": (ModelConfig(task="generate"), TrainConfig()),
    "classify": (ModelConfig(task="classify", cell="lstm", units=64, embedding_dim=64, bidirectional=False),
                 TrainConfig(corpus="imdb", sequence_length=256, batch_size=64, epochs=3, learning_rate=2e-3)),
}


WORD_PAIR_DIM = 16  # the word-pair bag's vector size (fastText uses 10 for sentiment)

# Named presets per task (as minGPT names its model sizes): the Train page's buttons and `train --preset`.
# Each entry is a set of ModelConfig/TrainConfig overrides on the task defaults; time budgets make them
# predictable on a 2-core laptop.
PRESETS: dict[str, dict[str, dict]] = {
    # Text: one LSTM layer of 512 learns most per second on 2 cores (two layers reached 2.04 nats/char in 300 s,
    # one 1.48); a high learning rate that a cosine schedule brings down by the end of the budget. Best quality
    # validates and keeps the weights averaged over ~150 steps: 1.4600 / 1.4607 (150 / 300 steps) against 1.4661
    # without, in 300 s runs on one machine the same morning; the 60 s quick demo lost by it (1.619 against 1.601).
    "generate": {
        "quick-demo": dict(cell="lstm", num_layers=1, units=256, embedding_dim=64, sequence_length=100,
                           batch_size=64, epochs=1000, time_budget_seconds=60.0, learning_rate=6e-3,
                           learning_rate_schedule="cosine", precision="auto"),
        "balanced": dict(cell="lstm", num_layers=1, units=512, embedding_dim=128, sequence_length=100,
                         batch_size=64, epochs=1000, time_budget_seconds=180.0, learning_rate=6e-3,
                         learning_rate_schedule="cosine", precision="auto"),
        "best-quality": dict(cell="lstm", num_layers=1, units=512, embedding_dim=128, sequence_length=100,
                             batch_size=64, epochs=1000, time_budget_seconds=300.0, learning_rate=6e-3,
                             learning_rate_schedule="cosine", precision="auto", weight_average_steps=150),
    },
    # Reviews: max and mean over every word's output (not just the last state: IMDb test 89.0% instead of 86.2%);
    # the IMDb model peaks after about two epochs and then memorises, so the best one trains two epochs with a
    # cosine schedule and keeps the best-validation model. Whole reviews (800 words; batches of similar lengths make
    # them affordable) and a second reader, a bag of words and word pairs, trained on its own verdict: IMDb test
    # 90.39% and 89.95% (two seeds); the recurrent reader alone 89.0–89.2% in three runs (README "Performance").
    "classify": {
        "quick-demo": dict(cell="gru", num_layers=1, units=32, embedding_dim=32, vocabulary_size=10000,
                           sequence_length=200, batch_size=64, epochs=100, time_budget_seconds=60.0,
                           pooling="max_mean"),
        "balanced": dict(cell="gru", num_layers=1, units=64, embedding_dim=64, vocabulary_size=20000,
                         sequence_length=256, batch_size=64, epochs=100, time_budget_seconds=180.0,
                         pooling="max_mean"),
        "best-quality": dict(cell="gru", num_layers=1, units=64, embedding_dim=128, bidirectional=True,
                             vocabulary_size=30000, sequence_length=800, batch_size=64, epochs=2,
                             time_budget_seconds=600.0, dropout=0.3, pooling="max_mean", learning_rate=3e-3,
                             learning_rate_schedule="cosine", word_pairs=262_144),
    },
}
PRESET_LABELS = {"quick-demo": "Quick demo (≈ 60 s)", "balanced": "Balanced (≈ 3 min)",
                 "best-quality": "Best quality (5–10 min)"}

def _check(condition: bool, what: str, expected: str, fix: str) -> None:
    if not condition:
        raise SeqlabError(what, expected, fix)


def _in_range(name: str, value, low, high) -> None:
    _check(low <= value <= high, f"{name} is {value}", f"a value from {low} to {high}",
           f"set {name} between {low} and {high}")


def validate_model_config(config: ModelConfig) -> ModelConfig:
    _check(config.task in TASKS, f"Unknown task '{config.task}'", f"one of {', '.join(TASKS)}",
           "choose generate (text) or classify (reviews)")
    _check(config.cell in CELLS, f"Unknown cell '{config.cell}'", f"one of {', '.join(CELLS)}",
           "choose simple_rnn, lstm or gru")
    _in_range("num_layers", config.num_layers, 1, 4)
    _in_range("units", config.units, 4, 2048)
    _in_range("embedding_dim", config.embedding_dim, 2, 1024)
    _in_range("dropout", config.dropout, 0.0, 0.8)
    _in_range("weight_dropout", config.weight_dropout, 0.0, 0.8)
    _in_range("vocabulary_size", config.vocabulary_size, 100, 200_000)
    _check(config.word_pairs == 0 or 1_000 <= config.word_pairs <= 1_000_000, f"word_pairs is {config.word_pairs}",
           "0 (off) or 1,000 to 1,000,000 buckets", "set word_pairs to 0 or e.g. 131072")
    _check(not (config.word_pairs and config.task == "generate"), "word_pairs is set for a generation model",
           "word pairs only for classify", "set word_pairs to 0")
    _check(config.pooling in POOLINGS, f"Unknown pooling '{config.pooling}'", f"one of {', '.join(POOLINGS)}",
           "choose last or max_mean")
    _check(not (config.bidirectional and config.task == "generate"), "bidirectional is on for a generation model",
           "bidirectional only for classify (a generator must not read the future)", "turn bidirectional off")
    return config


def validate_train_config(config: TrainConfig) -> TrainConfig:
    _check(bool(config.corpus.strip()), "No corpus was given", "a built-in corpus name or a file path",
           "pick a corpus (see `python -m seqlab corpora`)")
    _in_range("sequence_length", config.sequence_length, 2, 2000)
    _in_range("batch_size", config.batch_size, 1, 4096)
    _in_range("epochs", config.epochs, 1, 10_000)
    _in_range("max_steps", config.max_steps, 0, 10_000_000)
    _in_range("time_budget_seconds", config.time_budget_seconds, 0, 7 * 24 * 3600)
    _check(math.isfinite(config.learning_rate) and 0 < config.learning_rate <= 1.0,
           f"learning_rate is {config.learning_rate}", "a value above 0 and at most 1 (typical: 1e-3 to 1e-2)",
           "use a learning rate such as 0.002")
    _in_range("weight_average_steps", config.weight_average_steps, 0, 1_000_000)
    _check(config.learning_rate_schedule in SCHEDULES, f"Unknown learning-rate schedule "
           f"'{config.learning_rate_schedule}'", f"one of {', '.join(SCHEDULES)}", "choose constant or cosine")
    _check(config.precision in PRECISIONS, f"Unknown precision '{config.precision}'", f"one of {', '.join(PRECISIONS)}",
           "choose float32 (any machine), bfloat16 (CPUs with AVX-512 BF16 or AMX) or auto")
    _check(config.clip in CLIP_MODES, f"Unknown clip mode '{config.clip}'", f"one of {', '.join(CLIP_MODES)}",
           "choose none, norm or value")
    _check(config.clip == "none" or (math.isfinite(config.clip_threshold) and config.clip_threshold > 0),
           f"clip_threshold is {config.clip_threshold}", "a positive number (typical: 1.0 for norm, 0.5 for value)",
           "set a positive clipping threshold, or clip none")
    _in_range("seed", config.seed, 0, 2**31 - 1)
    return config


def configs_to_json(model: ModelConfig, train: TrainConfig) -> str:
    return json.dumps({"model": asdict(model), "train": asdict(train)}, indent=2, ensure_ascii=False) + "\n"


def _from_dict(cls, payload: dict, label: str):
    if not isinstance(payload, dict):
        raise SeqlabError(f"The {label} section of config.json is not an object", "a JSON object",
                          "restore config.json or start a new run")
    known = {field.name: field for field in fields(cls)}
    unknown = sorted(set(payload) - set(known))
    _check(not unknown, f"config.json has unknown {label} settings: {', '.join(unknown)}",
           f"only {', '.join(known)}", "remove those keys")
    values = {}
    for name, value in payload.items():
        default = getattr(cls(), name)
        kind = type(default)
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        _check(ok, f"config.json: {label}.{name} is {value!r}", f"a {kind.__name__}",
               f"write {name} as a {kind.__name__} such as {default!r}")
        values[name] = value
    return cls(**values)


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


def default_configs(task: str, **overrides) -> tuple[ModelConfig, TrainConfig]:
    """The task's defaults with `overrides` (any ModelConfig/TrainConfig field) applied and validated."""
    _check(task in TASKS, f"Unknown task '{task}'", f"one of {', '.join(TASKS)}", "choose generate or classify")
    model, train = TASK_DEFAULTS[task]
    model_fields = {f.name for f in fields(ModelConfig)}
    train_fields = {f.name for f in fields(TrainConfig)}
    unknown = set(overrides) - model_fields - train_fields
    _check(not unknown, f"Unknown settings: {', '.join(sorted(unknown))}", "ModelConfig or TrainConfig fields",
           "check the spelling")
    model = replace(model, **{k: v for k, v in overrides.items() if k in model_fields})
    train = replace(train, **{k: v for k, v in overrides.items() if k in train_fields})
    return validate_model_config(model), validate_train_config(train)


def layer_parameters(cell: str, input_dim: int, units: int) -> int:
    """Weights of one recurrent layer, as Keras builds it (GRU with reset_after=True has two biases)."""
    gates = GATES[cell]
    biases = 2 * gates * units if cell == "gru" else gates * units
    return gates * (input_dim * units + units * units) + biases


def parameter_count(config: ModelConfig, vocabulary_size: int) -> int:
    """Total trainable parameters; `vocabulary_size` is characters (generate) or words (classify)."""
    directions = 2 if config.bidirectional else 1
    total = vocabulary_size * config.embedding_dim
    input_dim = config.embedding_dim
    for _ in range(config.num_layers):
        total += directions * layer_parameters(config.cell, input_dim, config.units)
        input_dim = directions * config.units
    outputs = vocabulary_size if config.task == "generate" else 1
    if config.task == "classify" and config.pooling == "max_mean":
        input_dim *= 2  # max and mean side by side
    if config.task == "classify" and config.word_pairs:
        total += (1 + config.word_pairs + vocabulary_size) * WORD_PAIR_DIM  # row 0: padding; pairs; words
        total += WORD_PAIR_DIM + 1  # the bag's own verdict
    return total + input_dim * outputs + outputs


def flops_per_token(config: ModelConfig, vocabulary_size: int) -> int:
    """Forward multiply-adds x 2 per input token (embedding lookups are free; output layer per step for generate)."""
    directions = 2 if config.bidirectional else 1
    gates = GATES[config.cell]
    input_dim, macs = config.embedding_dim, 0
    for _ in range(config.num_layers):
        macs += directions * gates * (input_dim * config.units + config.units * config.units)
        input_dim = directions * config.units
    if config.task == "generate":
        macs += input_dim * vocabulary_size
    return 2 * macs


def preset_configs(task: str, preset: str, **overrides) -> tuple[ModelConfig, TrainConfig]:
    """A named preset for `task`, with further `overrides` (e.g. corpus) applied and validated."""
    _check(task in PRESETS, f"Unknown task '{task}'", f"one of {', '.join(TASKS)}", "choose generate or classify")
    _check(preset in PRESETS[task], f"Unknown preset '{preset}'", f"one of {', '.join(PRESETS[task])}",
           "pick one of the listed presets")
    return default_configs(task, **{**PRESETS[task][preset], **overrides})
