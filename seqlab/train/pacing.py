"""How a training process is set up and paced: threads, number precision, learning-rate schedule, validation rounds.

Small decisions the trainer (seqlab/training.py) takes before and during `fit`, each measured on the 2-core
machine the presets are tuned for (see docs/performance-history.md).
"""

from __future__ import annotations

import math
from pathlib import Path

import keras

from seqlab import settings
from seqlab.config import TrainConfig

# Generation runs validate and write a sample every this many steps (or each epoch, if shorter): a 60-second
# demo on Tiny Shakespeare (156 steps per epoch) then shows its text improving a few times, not once at the end.
GENERATE_ROUND_STEPS = 40
VALIDATIONS_PER_BUDGET = 10  # longer time-budgeted runs validate ~this many times, not every 40 steps (~15 % of time)
FINAL_LEARNING_RATE_SHARE = 0.05  # the cosine schedule ends at this share of the learning rate


def configure_threads() -> None:
    """One job per two cores by default: intra-op threads from the runner avoid oversubscription, and one op at a
    time (inter-op 1) keeps two multi-threaded products from sharing those cores (measured ~3–7 % faster)."""
    import tensorflow as tf

    threads = settings.worker_threads()
    if threads > 0:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)


def cosine_learning_rate(base: float, fraction: float) -> float:
    """Half a cosine from `base` (fraction 0) down to FINAL_LEARNING_RATE_SHARE * base (fraction 1)."""
    final = FINAL_LEARNING_RATE_SHARE * base
    return final + (base - final) * 0.5 * (1.0 + math.cos(math.pi * min(1.0, max(0.0, fraction))))


def validation_round_steps(task: str, steps_per_epoch: int, train_config: TrainConfig, steps_per_second: float) -> int:
    """Steps between validations: each epoch for reviews; for text every GENERATE_ROUND_STEPS (a demo shows its
    text improving), stretched on long time-budgeted runs to about VALIDATIONS_PER_BUDGET rounds in all."""
    if task == "classify":
        return steps_per_epoch
    steps = GENERATE_ROUND_STEPS
    if train_config.time_budget_seconds and steps_per_second:
        steps = max(steps, int(steps_per_second * train_config.time_budget_seconds / VALIDATIONS_PER_BUDGET))
    return max(1, min(steps_per_epoch, steps))


def bfloat16_cpu_flags() -> list[str]:
    """The CPU flags that make bfloat16 fast here (AVX-512 BF16 dot products, AMX tiles); [] if neither."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return []
    return sorted(flags & {"avx512_bf16", "amx_bf16"})


def resolved_precision(precision: str) -> str:
    """"auto" -> "bfloat16" on a CPU with fast bfloat16 (and no GPU, where cuDNN's float32 path is kept)."""
    if precision != "auto":
        return precision
    import tensorflow as tf

    return "bfloat16" if bfloat16_cpu_flags() and not tf.config.list_logical_devices("GPU") else "float32"


def set_precision(train_config: TrainConfig) -> None:
    """Before any model is built or loaded: bfloat16 products with float32 weights, or plain float32."""
    bfloat16 = resolved_precision(train_config.precision) == "bfloat16"
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if bfloat16 else "float32")
