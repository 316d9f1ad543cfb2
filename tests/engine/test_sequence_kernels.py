"""The whole-sequence ops give the step ops' numbers (bfloat16: the same bits; float32: to a few ulp, the products
sum in another order), on one thread and split over two, and refuse bad shapes. They exist only where the CPU has
AVX-512 BF16 (this machine and CI's do)."""

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from seqlab.engine import native_kernels
from seqlab.engine.choice import Engine, choose_engine, engine_functions
from seqlab.engine.fused_layers import gru_recurrence, lstm_recurrence, simple_rnn_recurrence

CPU_FLAGS = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
HAS_BF16 = "avx512_bf16" in CPU_FLAGS
needs_bf16 = pytest.mark.skipif(not HAS_BF16, reason="the sequence ops are built only for CPUs with AVX-512 BF16")
GATES = {"lstm": 4, "gru": 3, "simple_rnn": 1}
RECURRENCES = {"lstm": lstm_recurrence, "gru": gru_recurrence, "simple_rnn": simple_rnn_recurrence}


def recurrence_arguments(cell, steps, batch, units, dtype=tf.bfloat16):
    rng = np.random.default_rng(3)

    def normal(*shape, scale=1.0):
        return tf.cast(rng.normal(scale=scale, size=shape).astype("float32"), dtype)

    arguments = [normal(steps, batch, GATES[cell] * units), normal(units, GATES[cell] * units, scale=units**-0.5)]
    if cell == "gru":
        arguments.append(normal(3 * units, scale=0.3))
    arguments.append(normal(batch, units, scale=0.5))
    if cell == "lstm":
        arguments.append(normal(batch, units, scale=0.5))
    return arguments


def outputs_and_gradients(cell, arguments, monkeypatch, sequence_ops):
    """Every output and every argument's gradient of a loss that weighs each output value differently."""
    monkeypatch.setenv("SEQLAB_SEQUENCE_KERNELS", "1" if sequence_ops else "0")
    with tf.GradientTape() as tape:
        tape.watch(arguments)
        outputs = RECURRENCES[cell](*arguments)
        loss = sum(tf.reduce_sum(tf.cast(o, tf.float32) * tf.reshape(tf.sin(tf.range(tf.size(o), dtype=tf.float32)),
                                                                       o.shape)) for o in outputs)
    gradients = tape.gradient(loss, arguments)
    return [tf.cast(t, tf.float32).numpy() for t in [*outputs, *gradients]]


def test_the_sequence_ops_are_built_exactly_where_the_cpu_has_avx512_bf16():
    ops = native_kernels.recurrent_step_ops()
    assert ops is not None, native_kernels.why_not()
    for cell in GATES:
        assert hasattr(ops, f"seqlab_{cell}_forward_sequence") == HAS_BF16
        for dtype in (tf.float32, tf.bfloat16):
            assert (choose_engine(cell, dtype, 64) == Engine.SEQUENCE_OPS) == HAS_BF16


def test_they_apply_to_float32_and_bfloat16_with_units_in_sixteens_only(monkeypatch):
    for dtype, units in ((tf.float16, 64), (tf.float64, 64), (tf.bfloat16, 70), (tf.float32, 8), (tf.bfloat16, None)):
        assert choose_engine("lstm", dtype, units) == Engine.STEP_OPS
    monkeypatch.setenv("SEQLAB_SEQUENCE_KERNELS", "0")
    assert choose_engine("lstm", tf.bfloat16, 64) == Engine.STEP_OPS


def assert_float32_close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=2e-5, atol=2e-5 * max(1.0, float(np.abs(expected).max())))


@needs_bf16
@pytest.mark.parametrize("cell", list(GATES))
@pytest.mark.parametrize("steps", [1, 9])
@pytest.mark.parametrize("dtype", [tf.bfloat16, tf.float32], ids=["bf16", "f32"])
def test_one_thread_gives_the_step_ops_numbers(cell, steps, dtype, monkeypatch):
    """A product this small runs on one thread; 48 units are three 16-unit blocks. bfloat16: same roundings as
    the step ops, so the same bits, forward and back."""
    arguments = recurrence_arguments(cell, steps, 7, 48, dtype)
    whole = outputs_and_gradients(cell, arguments, monkeypatch, sequence_ops=True)
    stepwise = outputs_and_gradients(cell, arguments, monkeypatch, sequence_ops=False)
    for actual, expected in zip(whole, stepwise, strict=True):
        if dtype == tf.bfloat16:
            np.testing.assert_array_equal(actual, expected)
        else:
            assert_float32_close(actual, expected)


@needs_bf16
@pytest.mark.parametrize("cell", list(GATES))
def test_two_threads_give_the_step_ops_numbers_in_float32(cell, monkeypatch):
    arguments = recurrence_arguments(cell, 6, 16, 272, tf.float32)
    whole = outputs_and_gradients(cell, arguments, monkeypatch, sequence_ops=True)
    stepwise = outputs_and_gradients(cell, arguments, monkeypatch, sequence_ops=False)
    for actual, expected in zip(whole, stepwise, strict=True):
        assert_float32_close(actual, expected)


@needs_bf16
@pytest.mark.parametrize("cell", list(GATES))
def test_two_threads_give_the_step_ops_numbers(cell, monkeypatch):
    """16 x 272 x 272 is large enough to split: 17 blocks of units, 8 on one thread and 9 on the other. Forward
    bit for bit; backward within bfloat16 rounding (oneDNN sums the long dz @ Uᵀ products in another order)."""
    arguments = recurrence_arguments(cell, 6, 16, 272)
    whole = outputs_and_gradients(cell, arguments, monkeypatch, sequence_ops=True)
    stepwise = outputs_and_gradients(cell, arguments, monkeypatch, sequence_ops=False)
    outputs = len(whole) - len(arguments)
    for index, (actual, expected) in enumerate(zip(whole, stepwise, strict=True)):
        if index < outputs:
            np.testing.assert_array_equal(actual, expected)
        else:
            scale = float(np.abs(expected).max())
            np.testing.assert_allclose(actual, expected, atol=0.02 * scale, rtol=0.02)
            assert np.mean(actual == expected) > 0.5


@needs_bf16
@pytest.mark.parametrize("cell", list(GATES))
@pytest.mark.parametrize("dtype", [tf.bfloat16, tf.float32], ids=["bf16", "f32"])
def test_bad_shapes_are_refused(cell, dtype):
    forward, backward = engine_functions(Engine.SEQUENCE_OPS, cell)
    arguments = recurrence_arguments(cell, 3, 2, 40, dtype)  # 40 units: not a multiple of 16
    with pytest.raises(tf.errors.InvalidArgumentError, match="shapes"):
        forward(*arguments)
    arguments = recurrence_arguments(cell, 3, 2, 48, dtype)
    arguments[-1] = arguments[-1][:, :32]  # a state too narrow
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError)):
        forward(*arguments)


@needs_bf16
def test_two_recurrences_at_once_give_what_each_gives_alone():
    """Independent ops may run side by side (inter-op threads): one gets the helper threads, the other runs on one
    thread; both must give the numbers they give alone."""
    forward, _ = engine_functions(Engine.SEQUENCE_OPS, "simple_rnn")
    first, second = recurrence_arguments("simple_rnn", 5, 16, 272), recurrence_arguments("simple_rnn", 4, 16, 272)
    alone = [forward(*first).numpy(), forward(*second).numpy()]
    together = tf.function(lambda: [forward(*first), forward(*second), forward(*second), forward(*first)])
    for _ in range(3):
        results = together()
        for actual, expected in zip(results, [alone[0], alone[1], alone[1], alone[0]], strict=True):
            np.testing.assert_array_equal(actual.numpy(), expected)
