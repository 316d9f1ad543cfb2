"""Which engine runs a recurrent layer on this machine: decided here, in `choose_engine`, and nowhere else.

    Engine.KERAS         Keras' own loop: on a GPU (where Keras picks its cuDNN kernel), and for layers the fused
                         loop does not cover (a mask from padded reviews, dropout inside the cell, other
                         activations, stateful or unrolled layers, a GRU without reset_after)
    Engine.SEQUENCE_OPS  the fused CPU loop as one compiled op each way for the whole sequence (CPUs with AVX-512
                         BF16; float32 or bfloat16; units a multiple of 16; SEQLAB_SEQUENCE_KERNELS=0 turns it off)
    Engine.STEP_OPS      the fused CPU loop with each step's element-wise maths as one compiled op
    Engine.TF_OPS        the fused CPU loop with that maths in plain TensorFlow ops: no C++ compiler, a failed build,
                         or SEQLAB_NATIVE=0; slower, and the only engine whose training step XLA compiles

The fused loop is seqlab/engine/fused_layers.py, the compiled ops seqlab/engine/native/ (built by
native_kernels.py), the plain maths seqlab/engine/recurrent_steps.py; the tests hold every engine to the others.
The GPU check comes first: where a GPU runs the layer the kernels are never built or loaded.

What a run is told (`engine_in_words`, written to status.json by the worker, shown by the Train page and the CLI):
"GPU", "compiled CPU kernels" (SEQUENCE_OPS / STEP_OPS) or "standard TensorFlow" (TF_OPS, or Keras' loop on a CPU)
with the reason, and "preparing fast kernels (once, ~20 s)" while the kernels are being built.
"""

from __future__ import annotations

import enum

import keras
import tensorflow as tf

from seqlab import settings
from seqlab.engine import native_kernels
from seqlab.engine.labels import COMPILED, GPU, STANDARD
from seqlab.engine.recurrent_steps import PLAIN


class Engine(enum.StrEnum):
    KERAS = "keras"
    SEQUENCE_OPS = "sequence-ops"
    STEP_OPS = "step-ops"
    TF_OPS = "tf-ops"


KERAS_LOOP_NOTE = "Keras' own loop: padded reviews need a mask, which the compiled kernels do not cover"
TRANSFORMER_NOTE = ("a Transformer has no recurrent loop: TensorFlow's own matrix products and attention run it "
                    "(the compiled kernels are for recurrent cells)")
_chosen: set[Engine] = set()  # what choose_engine gave this process's layers since forget_choices()


def on_gpu() -> bool:
    return bool(tf.config.list_logical_devices("GPU"))


def choose_engine(cell: str, dtype=None, units: int | None = None, fused_loop_fits: bool = True) -> Engine:
    """The engine for a `cell` layer of `units` computing in `dtype`; `fused_loop_fits` is the layer's own verdict
    on its settings (no mask, default activations, ...). Remembered for engine_in_words()."""
    engine = _engine(cell, dtype, units, fused_loop_fits)
    _chosen.add(engine)
    return engine


def _engine(cell: str, dtype, units: int | None, fused_loop_fits: bool) -> Engine:
    if not fused_loop_fits or keras.backend.backend() != "tensorflow" or on_gpu():
        return Engine.KERAS
    ops = native_kernels.recurrent_step_ops()
    if ops is None:
        return Engine.TF_OPS
    if (dtype in (tf.float32, tf.bfloat16) and units and units % 16 == 0 and settings.sequence_kernels_on()
            and hasattr(ops, f"seqlab_{cell}_forward_sequence")):
        return Engine.SEQUENCE_OPS
    return Engine.STEP_OPS


def engine_functions(engine: Engine, cell: str):
    """(forward, backward) of `cell` for a fused-loop engine: whole-sequence ops, per-step ops or per-step TF ops."""
    if engine == Engine.TF_OPS:
        return PLAIN[cell]
    kind = {Engine.SEQUENCE_OPS: "sequence", Engine.STEP_OPS: "step"}[engine]
    ops = native_kernels.recurrent_step_ops()
    return getattr(ops, f"seqlab_{cell}_forward_{kind}"), getattr(ops, f"seqlab_{cell}_backward_{kind}")


def compile_with_xla(task: str) -> bool:
    """Whether to compile the training step with XLA: only where the fused loop runs plain TF ops (XLA cannot
    compile the kernels, and they are faster), and then in float32 text models, where XLA makes the loop's many
    small element-wise ops a few kernels (−10–20 % time per step). Not in bfloat16 (XLA's CPU products there are
    ~2× slower than oneDNN's), not for masked reviews (Keras' own loop), not on a GPU (cuDNN kernels do not
    compile)."""
    return (task == "generate" and _engine("lstm", None, None, True) == Engine.TF_OPS
            and keras.mixed_precision.global_policy().compute_dtype == "float32")


def without_recurrence() -> tuple[str, str]:
    """(engine, note) of a model without recurrent layers (a Transformer): no engine to choose, TensorFlow runs it."""
    return (GPU, "") if on_gpu() else (STANDARD, TRANSFORMER_NOTE)


def forget_choices() -> None:
    """Start a new record for engine_in_words() (a worker does, before it builds its model)."""
    _chosen.clear()


def engine_in_words() -> tuple[str, str] | None:
    """(engine, note) of the layers run since forget_choices(), as the Train page and the CLI say it: GPU,
    COMPILED or STANDARD, and for STANDARD why ("no C++ compiler found (…)", ...); None before any layer ran."""
    if not _chosen:
        return None
    if _chosen & {Engine.SEQUENCE_OPS, Engine.STEP_OPS}:
        return COMPILED, ""
    if Engine.TF_OPS in _chosen:
        return STANDARD, native_kernels.why_not()
    return (GPU, "") if on_gpu() else (STANDARD, KERAS_LOOP_NOTE)
