"""How much memory a training run needs at its peak, from its configs alone (no TensorFlow), and the admission
check that refuses a run that would not fit before it starts.

The estimate is a sum of parts, each an upper-ish bound (1 MB here is 2**20 bytes, as /proc reports):

    runtime       a TensorFlow worker process before the model: the libraries, the corpus, tf.data buffers
    weights       parameters x 4 bytes x WEIGHT_COPIES: the model's own, the fused loop's transposed recurrent
                  kernels, the copy a checkpoint save serializes, the sampler's NumPy copies (+1 when averaging)
    gradients     parameters x 4 bytes
    optimizer     parameters x 4 bytes x 2 (Adam's two slots)
    activations   kept for backprop: batch x sequence x layers x directions x (3 x gates + 4) x units x 4 bytes
                  (the input projection, the saved gates, their gradient, the outputs and cell states)
    output_layer  generation: logits, probabilities and their gradient over batch x sequence x vocabulary
    embedding     the looked-up vectors and their gradient over batch x sequence x embedding size
    attention     a Transformer's attention scores: batch x heads x sequence² per layer, x ATTENTION_TENSORS (the
                  scores, their softmax, its gradient); they grow with the square of the sequence, so a long
                  sequence is refused here before it exhausts the machine. Its other activations: ~TRANSFORMER_
                  ACTIVATIONS unit-sized vectors per token and layer (norms, q, k, v, the attention's output, the
                  MLP's 4-units-wide hidden layer before and after ReLU, residuals), +4 with dropout (two masks)

Measured on 2026-12-04 (2-core AMD EPYC with AVX-512 BF16, 24 GB RAM, TensorFlow 2.21, Keras 3.15): the worker's
peak RSS (VmHWM in /proc/<pid>/status, polled every 0.1 s) and VmPeak, against this estimate:

    run (cell layers x units, batch x sequence, vocabulary, steps)     peak RSS   VmPeak   estimate
    tiny: lstm 1x16, 8x20, hamlet (65 characters), 30 steps             752 MB   2932 MB    1000 MB
    quick-demo generate (lstm 1x256, 64x100, bfloat16), whole 60 s      835 MB   3033 MB    1119 MB
    quick-demo classify (gru 1x32, 64x200, 10,000 words), whole 60 s    922 MB   3093 MB    1033 MB
    best-quality classify (bi-gru 1x64, 64x800, 30,000 words), 5       1383 MB   3566 MB    1687 MB
    lstm 1x512, 256x400, tiny-shakespeare, float32, 3                 3851 MB   7343 MB    4363 MB
    gru 2x256, 256x400, tiny-shakespeare, 3                           3392 MB   7274 MB    3746 MB
    lstm 1x64, 128x200, a text of 3,001 distinct characters, 3        1656 MB   4157 MB    1995 MB
    lstm 4x2048, 4x10, hamlet (118 M parameters), 3                   4267 MB   6595 MB    4625 MB

    tiny-transformer preset (2x128, 4 heads, 32x128), bfloat16, 6      983 MB      -      1156 MB
    the same with 8 heads, 32x512 (attention scores 1.5 GB), bf16, 6   2624 MB      -      2930 MB
    the same in float32, 6                                            2510 MB      -      2930 MB
    (the Transformer rows: the same machine shared with other jobs; VmPeak not read)

Every estimate is above the measured peak, by 1.08-1.33x. Recurrent activations came to ~13.8 (LSTM) and ~12.4
(GRU) unit-sized float32 vectors per token and layer, the output layer to ~2.5 vocabulary-sized ones, and the
weights to ~7.4 float32 copies with gradients and Adam's slots. Not counted: a corpus much larger than the bundled
ones (not measured), and bfloat16's smaller activations (the bound stays float32's).

Under the default address-space limit (settings.worker_address_space_bytes: 12,800 MB here) the quick demo and the
gru 2x256 run above ran unchanged (VmPeak 3033 and 7278 MB); the lstm 1x512 run under a 5,000 MB limit failed
with TensorFlow's ResourceExhaustedError at its first step (the run: failed, "ran out of memory"); a worker limited to
300 or 1,500 MB died while importing TensorFlow (the run: interrupted).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from seqlab import settings
from seqlab.config import ModelConfig, TrainConfig
from seqlab.errors import SeqlabError
from seqlab.model.size import GATES, directions, parameter_count

MB = 2**20
FLOAT_BYTES = 4
RUNTIME_BYTES = 1000 * MB  # measured 750-920 MB for tiny models (see above)
WEIGHT_COPIES = 5
ADAM_SLOTS = 2
OUTPUT_TENSORS = 3  # logits, probabilities, their gradient (measured ~2.5)
ATTENTION_TENSORS = 3  # a Transformer layer's scores, their softmax and its gradient, batch x heads x sequence² each
TRANSFORMER_ACTIVATIONS = 22  # unit-sized vectors per token and layer kept for backprop (see above)

PART_NAMES = {"runtime": "TensorFlow itself", "weights": "weights and their copies", "gradients": "gradients",
              "optimizer": "optimizer state", "activations": "recurrent activations", "output_layer": "output layer",
              "embedding": "embedding", "attention": "attention scores"}


@dataclass(frozen=True)
class MemoryEstimate:
    """The peak memory of one training run, in bytes, part by part."""

    runtime: int
    weights: int
    gradients: int
    optimizer: int
    activations: int
    output_layer: int
    embedding: int
    attention: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, part.name) for part in fields(self))

    def biggest_parts(self, count: int = 2) -> list[str]:
        """The names of the `count` largest parts that depend on the settings (the runtime does not)."""
        parts = sorted((getattr(self, part.name), part.name) for part in fields(self) if part.name != "runtime")
        return [name for _, name in reversed(parts)][:count]


def format_bytes(size: float) -> str:
    """'350 MB', '4.2 GB', '4.3 TB' (powers of 1024, as /proc and the variables count)."""
    for unit, scale in (("TB", MB**2), ("GB", 1024 * MB)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size / MB:.0f} MB"


def estimate_peak_memory(model_config: ModelConfig, train_config: TrainConfig,
                         vocabulary_size: int) -> MemoryEstimate:
    """The run's estimated peak memory; `vocabulary_size`: characters (generate) or words (classify)."""
    parameters = parameter_count(model_config, vocabulary_size, train_config.sequence_length)
    tokens = train_config.batch_size * train_config.sequence_length
    outputs = vocabulary_size if model_config.task == "generate" else 1
    copies = WEIGHT_COPIES + (1 if train_config.weight_average_steps else 0)
    activations, attention, embedding_dim = _activations(model_config, train_config)
    return MemoryEstimate(
        runtime=RUNTIME_BYTES,
        weights=parameters * FLOAT_BYTES * copies,
        gradients=parameters * FLOAT_BYTES,
        optimizer=parameters * FLOAT_BYTES * ADAM_SLOTS,
        activations=activations,
        output_layer=OUTPUT_TENSORS * (tokens if model_config.task == "generate" else train_config.batch_size)
        * outputs * FLOAT_BYTES,
        embedding=2 * tokens * embedding_dim * FLOAT_BYTES,
        attention=attention)


def _activations(model_config: ModelConfig, train_config: TrainConfig) -> tuple[int, int, int]:
    """(bytes of activations kept for backprop, of attention scores, the embedding's width) of the run."""
    tokens = train_config.batch_size * train_config.sequence_length
    if model_config.cell == "transformer":
        per_unit = TRANSFORMER_ACTIVATIONS + (4 if model_config.dropout else 0)
        scores = train_config.batch_size * model_config.heads * train_config.sequence_length ** 2
        return (tokens * model_config.num_layers * per_unit * model_config.units * FLOAT_BYTES,
                model_config.num_layers * ATTENTION_TENSORS * scores * FLOAT_BYTES, model_config.units)
    per_unit = 3 * GATES[model_config.cell] + 4 + (2 if model_config.dropout else 0)  # + a dropout mask and output
    return (tokens * model_config.num_layers * directions(model_config) * per_unit * model_config.units
            * FLOAT_BYTES, 0, model_config.embedding_dim)


def _what_to_change(estimate: MemoryEstimate, model_config: ModelConfig, train_config: TrainConfig,
                    vocabulary_size: int) -> list[str]:
    batch = f"a smaller batch (now {train_config.batch_size})"
    sequence = f"a shorter sequence (now {train_config.sequence_length})"
    model = f"fewer units (now {model_config.units}) or layers (now {model_config.num_layers})"
    vocabulary = (f"a smaller vocabulary (now {vocabulary_size:,} words)" if model_config.task == "classify"
                  else f"a text with fewer distinct characters (now {vocabulary_size:,})")
    advice = {"activations": [batch, sequence, model], "output_layer": [batch, sequence, vocabulary],
              "embedding": [batch, sequence, f"a smaller embedding (now {model_config.embedding_dim})"],
              "weights": [model, vocabulary], "gradients": [model, vocabulary], "optimizer": [model, vocabulary],
              "attention": [sequence, batch, f"fewer heads (now {model_config.heads}) or layers (now "
                                                f"{model_config.num_layers})"]}
    chosen: list[str] = []
    biggest = estimate.biggest_parts()
    for part in [name for name in biggest if 4 * getattr(estimate, name) >= getattr(estimate, biggest[0])]:
        chosen += [item for item in advice[part] if item not in chosen]
    return chosen


def check_memory_fits(model_config: ModelConfig, train_config: TrainConfig, vocabulary_size: int) -> MemoryEstimate:
    """The estimate, or a SeqlabError when the run would need more than the per-job cap
    (SEQLAB_MAX_JOB_MEMORY_MB) or than the memory free now, with the numbers and what to change."""
    import psutil

    estimate = estimate_peak_memory(model_config, train_config, vocabulary_size)
    cap, free = settings.max_job_memory_bytes(), psutil.virtual_memory().available
    settings.worker_address_space_bytes()  # a bad value is refused now, before the run folder exists
    if estimate.total <= min(cap, free):
        return estimate
    parts = ", ".join(f"{_part_name(name, model_config)} {format_bytes(getattr(estimate, name))}"
                      for name in estimate.biggest_parts())
    if estimate.total > cap:
        limit = f"the {format_bytes(cap)} one training run may use ({settings.MAX_JOB_MEMORY_VARIABLE})"
    else:
        limit = f"the {format_bytes(free)} of memory free on this machine now"
    fix = "use " + ", ".join(_what_to_change(estimate, model_config, train_config, vocabulary_size))
    if estimate.total > cap and estimate.total <= free:
        fix += f", or raise {settings.MAX_JOB_MEMORY_VARIABLE} (this machine has {format_bytes(free)} free)"
    elif estimate.total <= cap:  # only the free memory is short
        fix += ", or wait until other programs or runs have ended"
    raise SeqlabError(f"This run would need about {format_bytes(estimate.total)} of memory ({parts}), more than "
                      f"{limit}", f"at most {format_bytes(min(cap, free))}", fix)


def _part_name(name: str, model_config: ModelConfig) -> str:
    """PART_NAMES' words; a Transformer's activations are not recurrent ones."""
    if name == "activations" and model_config.cell == "transformer":
        return "Transformer activations"
    return PART_NAMES[name]
