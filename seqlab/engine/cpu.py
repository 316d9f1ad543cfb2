"""How this machine computes a training step: threads per process and number precision.

Set once per worker process, before any model is built or loaded (seqlab/runs/worker.py); the benchmarks set
the same. Measured on the 2-core machine the presets are tuned for (docs/performance-history.md).
"""

from __future__ import annotations

from pathlib import Path

import keras

from seqlab import settings
from seqlab.config import TrainConfig


def configure_threads() -> None:
    """One job per two cores by default: intra-op threads from the runner avoid oversubscription, and one op at a
    time (inter-op 1) keeps two multi-threaded products from sharing those cores (measured ~3–7 % faster)."""
    import tensorflow as tf

    threads = settings.worker_threads()
    if threads > 0:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)


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
