"""Named starting points: each task's defaults and the presets (as minGPT names its model sizes).

A task's defaults are the config fields' own defaults (seqlab/config.py) with what the task needs on top (a
review model reads words from a review corpus, not characters of a play). Presets are further overrides, tuned on
the 2-core machine the product is built for: the Train page's buttons and `python -m seqlab train --preset`.
"""

from __future__ import annotations

from dataclasses import fields, replace

from seqlab.config import TASKS, ModelConfig, TrainConfig, validate_model_config, validate_train_config
from seqlab.errors import require

TASK_DEFAULTS = {
    "generate": (ModelConfig(task="generate"), TrainConfig()),
    "classify": (ModelConfig(task="classify", cell="lstm", units=64, embedding_dim=64, bidirectional=False),
                 TrainConfig(corpus="imdb", sequence_length=256, batch_size=64, epochs=3, learning_rate=2e-3)),
    # a series has hundreds or thousands of values, not millions: a small GRU reading two seasons of the synthetic
    # series, with dropout (it keeps a long forecast in step: PRESETS["forecast"]), many epochs, a time budget
    "forecast": (ModelConfig(task="forecast", cell="gru", units=32, num_layers=1, dropout=0.2),
                 TrainConfig(corpus="seasonal-synthetic", sequence_length=24, batch_size=32, epochs=1000,
                             learning_rate=3e-3, time_budget_seconds=60.0)),
}


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
        # A GPT-style Transformer small enough for 2 cores: 2 layers of 128 (4 heads), a window of 128 characters.
        # It needs many more characters than an LSTM before attention starts to pay: in 60 s trials (2026-12-04,
        # 2 shared cores at load ~5, bfloat16) it reached 2.47 nats/char in 184 steps at learning rate 3e-3 and
        # 2.51 in 175 at 6e-3 (the LSTM quick demo: ~1.6); hence five minutes, not one.
        "tiny-transformer": dict(cell="transformer", num_layers=2, units=128, heads=4, positions="learned",
                                 sequence_length=128, batch_size=32, epochs=1000, time_budget_seconds=300.0,
                                 learning_rate=3e-3, learning_rate_schedule="cosine", precision="auto"),
    },
    # Reviews: max and mean over every word's output (not just the last state: IMDb test 89.0% instead of 86.2%);
    # the IMDb model peaks after about two epochs and then memorises, so the best one trains two epochs with a
    # cosine schedule and keeps the best-validation model. Whole reviews (800 words; batches of similar lengths make
    # them affordable) and a second reader, a bag of words and word pairs, trained on its own verdict: IMDb test
    # 90.39% and 89.95% (two seeds); the recurrent reader alone 89.0–89.2% in three runs (docs/performance-history.md).
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
        # An encoder over the review's words (every word sees every other, padding masked), max and mean over its
        # outputs. Not tuned: one 60 s trial on IMDb (2026-12-04, 2 shared cores at load ~5) got 78% of the
        # validation reviews right after 80 steps (validation loss 0.472).
        "tiny-transformer": dict(cell="transformer", num_layers=2, units=64, heads=4, positions="learned",
                                 vocabulary_size=20000, sequence_length=256, batch_size=64, epochs=100,
                                 time_budget_seconds=300.0, dropout=0.1, pooling="max_mean", learning_rate=1e-3,
                                 learning_rate_schedule="cosine"),
    },
}
# Series: small models on a few hundred values; dropout 0.2 and a 24-value window keep the roll-out over the
# held-out tail in step. Sunspots' tail RMSE (seasonal-naive 45.0, naive 71.7): quick-demo 28.6, 21.0, 37.5 (three
# seeds; 79.5 without dropout on 36 values), balanced 29.4, best-quality 34.7 and 34.2 (two seeds; two GRU layers
# with weight averaging: 76.5); seasonal-synthetic, quick-demo: 1.28 against 1.53 for seasonal-naive.
PRESETS["forecast"] = {
    "quick-demo": dict(cell="gru", num_layers=1, units=32, sequence_length=24, batch_size=32, epochs=1000,
                       time_budget_seconds=30.0, learning_rate=3e-3, dropout=0.2),
    "balanced": dict(cell="gru", num_layers=1, units=64, sequence_length=24, batch_size=32, epochs=1000,
                     time_budget_seconds=90.0, learning_rate=3e-3, learning_rate_schedule="cosine", dropout=0.2),
    "best-quality": dict(cell="lstm", num_layers=1, units=64, sequence_length=24, batch_size=32, epochs=1000,
                         time_budget_seconds=180.0, learning_rate=3e-3, learning_rate_schedule="cosine",
                         dropout=0.2),
}
PRESET_LABELS = {"quick-demo": "Quick demo (≈ 60 s)", "balanced": "Balanced (≈ 3 min)",
                 "best-quality": "Best quality (5–10 min)", "tiny-transformer": "Tiny Transformer (≈ 5 min)"}


def default_configs(task: str, **overrides) -> tuple[ModelConfig, TrainConfig]:
    """The task's defaults with `overrides` (any ModelConfig/TrainConfig field) applied and validated."""
    require(task in TASKS, f"Unknown task '{task}'", f"one of {', '.join(TASKS)}", "choose one of them")
    model, train = TASK_DEFAULTS[task]
    model_fields = {f.name for f in fields(ModelConfig)}
    train_fields = {f.name for f in fields(TrainConfig)}
    unknown = set(overrides) - model_fields - train_fields
    require(not unknown, f"Unknown settings: {', '.join(sorted(unknown))}", "ModelConfig or TrainConfig fields",
           "check the spelling")
    model = replace(model, **{k: v for k, v in overrides.items() if k in model_fields})
    train = replace(train, **{k: v for k, v in overrides.items() if k in train_fields})
    return validate_model_config(model), validate_train_config(train)


def preset_configs(task: str, preset: str, **overrides) -> tuple[ModelConfig, TrainConfig]:
    """A named preset for `task`, with further `overrides` (e.g. corpus) applied and validated."""
    require(task in PRESETS, f"Unknown task '{task}'", f"one of {', '.join(TASKS)}", "choose one of them")
    require(preset in PRESETS[task], f"Unknown preset '{preset}'", f"one of {', '.join(PRESETS[task])}",
           "pick one of the listed presets")
    return default_configs(task, **{**PRESETS[task][preset], **overrides})
