"""The compiled LSTM step kernels build, load, match the TensorFlow ops they replace, and step aside cleanly."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqlab import fused_layers, native_kernels
from seqlab.fused_layers import FusedGRU, FusedLSTM, _lstm_backward_step, _lstm_forward_step, xla_speeds_up

STEPS, BATCH, UNITS = 4, 3, 70  # units: not a multiple of any vector width, so remainders run too


@pytest.fixture
def fresh_load(monkeypatch):
    """recurrent_step_ops() is cached per process: clear it around tests that change how it loads."""
    native_kernels.recurrent_step_ops.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    native_kernels.recurrent_step_ops.cache_clear()


def step_inputs(dtype, scale=2.0):
    """Whole sequences of STEPS steps, as the ops take them (they read step t in place)."""
    rng = np.random.default_rng(0)

    def normal(*shape):
        return tf.cast(rng.normal(scale=scale, size=shape).astype("float32"), dtype)

    gates = tf.concat([tf.sigmoid(normal(STEPS, BATCH, 2 * UNITS)), tf.tanh(normal(STEPS, BATCH, UNITS)),
                       tf.sigmoid(normal(STEPS, BATCH, UNITS))], axis=2)
    return dict(projected=normal(STEPS, BATCH, 4 * UNITS), recurrent=normal(BATCH, 4 * UNITS), c=normal(BATCH, UNITS),
                gates=tf.cast(gates, dtype), cells=normal(STEPS, BATCH, UNITS), c0=normal(BATCH, UNITS),
                d_outputs=normal(STEPS, BATCH, UNITS), dh_next=normal(BATCH, UNITS), dc_next=normal(BATCH, UNITS))


def both_steps(forward_step, backward_step, x, t):
    t = tf.constant(t, tf.int32)
    forward = forward_step(x["projected"], t, x["recurrent"], x["c"])
    backward = backward_step(x["gates"], t, x["cells"], x["c0"], x["d_outputs"], x["dh_next"], x["dc_next"])
    return [*forward, *backward]


def as_float(tensors):
    return [tf.cast(t, tf.float32).numpy() for t in tensors]


def test_the_kernels_build_and_load_on_this_machine():
    assert native_kernels.recurrent_step_ops() is not None, native_kernels.why_not()


@pytest.mark.parametrize("dtype,tolerance", [(tf.float32, 2e-6), (tf.bfloat16, 1.6e-2)])
@pytest.mark.parametrize("t", [0, 1, STEPS - 1], ids=["first", "middle", "last"])
def test_steps_match_the_tensorflow_ops(dtype, tolerance, t):
    """float32: the same numbers to a few ulp; bfloat16: within one bfloat16 rounding of a float32 computation
    from the same inputs (the kernel computes in float32 and rounds once; TF's ops round after every op).
    Step 0 reads the cell before the sequence (c0), later steps the previous step's cell."""
    ops = native_kernels.recurrent_step_ops()
    x = step_inputs(dtype)
    actual = both_steps(ops.seqlab_lstm_forward_step, ops.seqlab_lstm_backward_step, x, t)
    expected = both_steps(_lstm_forward_step, _lstm_backward_step,
                          {name: tf.cast(value, tf.float32) for name, value in x.items()}, t)
    assert all(tensor.dtype == dtype for tensor in actual)
    for got, wanted in zip(as_float(actual), as_float(expected), strict=True):
        np.testing.assert_allclose(got, wanted, rtol=tolerance, atol=tolerance)


def test_large_steps_split_over_threads_give_the_same_numbers():
    """Above 65,536 elements a step is split over the intra-op threads: rows must not be lost or doubled."""
    ops = native_kernels.recurrent_step_ops()
    rng = np.random.default_rng(3)
    projected = tf.constant(rng.normal(size=(2, 40, 4 * 2048)).astype("float32"))
    recurrent = tf.constant(rng.normal(size=(40, 4 * 2048)).astype("float32"))
    c = tf.constant(rng.normal(size=(40, 2048)).astype("float32"))
    for actual, expected in zip(ops.seqlab_lstm_forward_step(projected, 1, recurrent, c),
                                _lstm_forward_step(projected, 1, recurrent, c), strict=True):
        np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("step", [-1, STEPS])
def test_a_step_outside_the_sequence_or_mismatched_shapes_are_refused(step):
    ops = native_kernels.recurrent_step_ops()
    x = step_inputs(tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="outside the sequence"):
        ops.seqlab_lstm_forward_step(x["projected"], step, x["recurrent"], x["c"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="outside the sequence"):
        ops.seqlab_lstm_backward_step(x["gates"], step, x["cells"], x["c0"], x["d_outputs"], x["dh_next"],
                                      x["dc_next"])
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError)):
        ops.seqlab_lstm_forward_step(x["projected"], 0, x["recurrent"], x["c"][:, :3])


def lstm_layer_outputs_and_gradients(precision):
    keras.mixed_precision.set_global_policy(precision)
    try:
        keras.utils.set_random_seed(5)
        layer = FusedLSTM(16, return_sequences=True, return_state=True)
        inputs = tf.constant(np.random.default_rng(1).normal(size=(4, 9, 5)).astype("float32"))
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs = [tf.cast(t, tf.float32) for t in layer(inputs)]
            loss = sum(tf.reduce_sum(t * tf.cos(3 * t)) for t in outputs)
        gradients = tape.gradient(loss, [inputs, *layer.trainable_weights])
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return [t.numpy() for t in outputs + gradients]


@pytest.mark.parametrize("precision,tolerance", [("float32", 2e-5), ("mixed_bfloat16", 0.08)])
def test_the_layer_gives_the_same_with_and_without_the_kernels(precision, tolerance, fresh_load):
    with_kernels = lstm_layer_outputs_and_gradients(precision)
    fresh_load.setenv("SEQLAB_NATIVE", "0")
    native_kernels.recurrent_step_ops.cache_clear()
    assert fused_layers._lstm_steps() == (_lstm_forward_step, _lstm_backward_step)
    without_kernels = lstm_layer_outputs_and_gradients(precision)
    for actual, expected in zip(with_kernels, without_kernels, strict=True):
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(actual, expected, atol=tolerance * scale, rtol=tolerance)


def test_switched_off_or_without_a_compiler_the_plain_ops_are_used(fresh_load, tmp_path):
    fresh_load.setenv("SEQLAB_NATIVE", "0")
    assert native_kernels.recurrent_step_ops() is None
    assert "SEQLAB_NATIVE=0" in native_kernels.why_not()
    native_kernels.recurrent_step_ops.cache_clear()
    fresh_load.delenv("SEQLAB_NATIVE")
    fresh_load.setenv("CXX", str(tmp_path / "no-such-compiler"))
    assert native_kernels.recurrent_step_ops() is None
    assert "no C++ compiler" in native_kernels.why_not()
    assert fused_layers._lstm_steps() == (_lstm_forward_step, _lstm_backward_step)


def test_a_failing_build_is_reported_not_raised(fresh_load, tmp_path, capsys):
    fresh_load.setenv("SEQLAB_KERNEL_CACHE", str(tmp_path / "kernels"))
    fresh_load.setenv("CXX", "false")  # a "compiler" that always fails
    assert native_kernels.recurrent_step_ops() is None
    assert "could not be built" in native_kernels.why_not()
    assert "plain TensorFlow ops" in capsys.readouterr().err
    assert not list((tmp_path / "kernels").glob("*.so"))  # no half-written library left to load next time


def test_a_build_into_an_empty_cache_is_kept_and_reused(monkeypatch, tmp_path):
    monkeypatch.setenv("SEQLAB_KERNEL_CACHE", str(tmp_path / "kernels"))
    library = native_kernels.library_file()
    assert library.parent == tmp_path / "kernels" and library.stat().st_size > 0
    built_at = library.stat().st_mtime_ns
    assert native_kernels.library_file() == library
    assert library.stat().st_mtime_ns == built_at
    assert not [p for p in library.parent.iterdir() if p.name not in (library.name, ".lock")]  # no scratch left


def test_xla_steps_aside_for_an_lstm_that_runs_the_kernels():
    """XLA cannot compile the kernels (and they beat XLA's fusion); a GRU in float32 still compiles with XLA."""
    lstm = keras.Sequential([keras.Input((None, 3)), FusedLSTM(4, return_sequences=True)])
    gru = keras.Sequential([keras.Input((None, 3)), FusedGRU(4, return_sequences=True)])
    assert not xla_speeds_up("generate", lstm.layers)
    assert xla_speeds_up("generate", gru.layers)
