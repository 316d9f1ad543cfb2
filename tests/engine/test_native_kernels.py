"""The compiled step kernels build, load, match the TensorFlow ops they replace, and step aside cleanly."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqlab.engine import choice, compiler, native_kernels, recurrent_steps
from seqlab.engine.choice import Engine, choose_engine, compile_with_xla, engine_functions
from seqlab.engine.fused_layers import FusedGRU, FusedLSTM, FusedSimpleRNN
from tests.fake_compiler import ERROR_LINE, compile_calls, failing_compiler

STEPS, BATCH, UNITS = 4, 3, 70  # units: not a multiple of any vector width, so the loops' remainders run too
CELLS = ["lstm", "gru", "simple_rnn"]
LAYERS = {"lstm": FusedLSTM, "gru": FusedGRU, "simple_rnn": FusedSimpleRNN}


@pytest.fixture
def fresh_load(monkeypatch):
    """recurrent_step_ops() is cached per process: clear it around tests that change how it loads."""
    native_kernels.recurrent_step_ops.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    native_kernels.recurrent_step_ops.cache_clear()


def step_arguments(cell, dtype, t, steps=STEPS, batch=BATCH, units=UNITS):
    """(forward arguments, backward arguments) for step t of random sequences, as the loops pass them."""
    rng = np.random.default_rng(0)

    def normal(*shape, scale=2.0):
        return tf.cast(rng.normal(scale=scale, size=shape).astype("float32"), dtype)

    def unit_interval(*shape):
        return tf.cast(tf.sigmoid(tf.cast(normal(*shape), tf.float32)), dtype)

    t = tf.constant(t, tf.int32)
    sequence, state = normal(steps, batch, units), normal(batch, units)
    d_outputs, dh_next = normal(steps, batch, units), normal(batch, units)
    if cell == "lstm":
        gates = tf.concat([unit_interval(steps, batch, 2 * units), tf.tanh(normal(steps, batch, units)),
                           unit_interval(steps, batch, units)], axis=2)
        return ((normal(steps, batch, 4 * units), t, normal(batch, 4 * units), state),
                (gates, t, sequence, state, d_outputs, dh_next, normal(batch, units)))
    if cell == "gru":
        saved = tf.concat([unit_interval(steps, batch, 2 * units), tf.tanh(normal(steps, batch, units)),
                           normal(steps, batch, units)], axis=2)
        return ((normal(steps, batch, 3 * units), t, normal(batch, 3 * units), normal(3 * units), state),
                (saved, t, sequence, state, d_outputs, dh_next))
    return (normal(steps, batch, units), t, normal(batch, units)), (tf.tanh(sequence), t, d_outputs, dh_next)


def run_steps(functions, arguments):
    results = []
    for function, args in zip(functions, arguments, strict=True):
        result = function(*args)
        results += list(result) if isinstance(result, list | tuple) else [result]
    return results


def as_float(tensors):
    return [tf.cast(t, tf.float32) for t in tensors]


def test_the_kernels_build_and_load_on_this_machine():
    assert native_kernels.recurrent_step_ops() is not None, native_kernels.why_not()
    assert choose_engine("gru") == Engine.STEP_OPS


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("dtype,tolerance", [(tf.float32, 1e-5), (tf.bfloat16, 1.6e-2)], ids=["f32", "bf16"])
@pytest.mark.parametrize("t", [0, 1, STEPS - 1], ids=["first", "middle", "last"])
def test_steps_match_the_tensorflow_ops(cell, dtype, tolerance, t):
    """float32: the same numbers to a few ulp; bfloat16: within one bfloat16 rounding of a float32 computation
    from the same inputs (the kernel computes in float32 and rounds once; TF's ops round after every op).
    Step 0 reads the state before the sequence, later steps the previous step's."""
    arguments = step_arguments(cell, dtype, t)
    actual = run_steps(engine_functions(Engine.STEP_OPS, cell), arguments)
    as_float32 = [[tf.cast(a, tf.float32) if a.dtype == dtype else a for a in args] for args in arguments]
    expected = run_steps(recurrent_steps.PLAIN[cell], as_float32)
    assert all(tensor.dtype == dtype for tensor in actual) and len(actual) == len(expected)
    for got, wanted in zip(as_float(actual), expected, strict=True):
        np.testing.assert_allclose(got.numpy(), wanted.numpy(), rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("cell", CELLS)
def test_large_steps_split_over_threads_give_the_same_numbers(cell):
    """Above 65,536 elements a step is split over the intra-op threads: rows must not be lost or doubled."""
    arguments = step_arguments(cell, tf.float32, 1, steps=2, batch=40, units=2048)
    for got, wanted in zip(run_steps(engine_functions(Engine.STEP_OPS, cell), arguments),
                           run_steps(recurrent_steps.PLAIN[cell], arguments), strict=True):
        np.testing.assert_allclose(got.numpy(), wanted.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("step", [-1, STEPS])
def test_a_step_outside_the_sequence_is_refused(cell, step):
    forward, backward = engine_functions(Engine.STEP_OPS, cell)
    forward_arguments, backward_arguments = step_arguments(cell, tf.float32, step)
    for function, args in ((forward, forward_arguments), (backward, backward_arguments)):
        with pytest.raises(tf.errors.InvalidArgumentError, match="outside the sequence"):
            function(*args)


@pytest.mark.parametrize("cell", CELLS)
def test_mismatched_shapes_are_refused(cell):
    forward, backward = engine_functions(Engine.STEP_OPS, cell)
    forward_arguments, backward_arguments = step_arguments(cell, tf.float32, 0)
    for function, args in ((forward, forward_arguments), (backward, backward_arguments)):
        cut = [*args[:-1], args[-1][:, :5]]  # the last argument, a (B, U) state, too narrow
        with pytest.raises((tf.errors.InvalidArgumentError, ValueError)):
            function(*cut)


def layer_outputs_and_gradients(cell, precision):
    keras.mixed_precision.set_global_policy(precision)
    try:
        keras.utils.set_random_seed(5)
        layer = LAYERS[cell](16, return_sequences=True, return_state=True)
        inputs = tf.constant(np.random.default_rng(1).normal(size=(4, 9, 5)).astype("float32"))
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs = [tf.cast(t, tf.float32) for t in layer(inputs)]
            loss = sum(tf.reduce_sum(t * tf.cos(3 * t)) for t in outputs)
        gradients = tape.gradient(loss, [inputs, *layer.trainable_weights])
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return [t.numpy() for t in outputs + gradients]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("precision,tolerance", [("float32", 2e-5), ("mixed_bfloat16", 0.08)])
def test_the_layer_gives_the_same_with_and_without_the_kernels(cell, precision, tolerance, fresh_load):
    with_kernels = layer_outputs_and_gradients(cell, precision)
    fresh_load.setenv("SEQLAB_NATIVE", "0")
    native_kernels.recurrent_step_ops.cache_clear()
    assert choose_engine(cell, tf.float32, 64) == Engine.TF_OPS
    without_kernels = layer_outputs_and_gradients(cell, precision)
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
    assert choose_engine("lstm", tf.float32, 64) == Engine.TF_OPS


def test_a_failing_build_is_reported_not_raised_and_remembered(fresh_load, tmp_path, capsys):
    kernels = tmp_path / "kernels"
    fresh_load.setenv("SEQLAB_KERNEL_CACHE", str(kernels))
    script, calls = failing_compiler(tmp_path)
    fresh_load.setenv("CXX", str(script))
    announced = []
    native_kernels.announce_build(announced.append)
    try:
        assert native_kernels.recurrent_step_ops() is None
    finally:
        native_kernels.announce_build(None)
    reason = native_kernels.why_not()
    assert reason.startswith(f"the kernels could not be built with fake-g++: {ERROR_LINE}")
    assert announced == [True, False]  # the worker's "preparing fast kernels" on, then off
    assert ERROR_LINE in capsys.readouterr().err
    assert not list(kernels.glob("*.so"))  # no half-written library left to load next time
    [marker] = kernels.glob("recurrent_steps-*.failed")
    assert ERROR_LINE in json.loads(marker.read_text())["reason"] and str(marker) in reason
    tried = len(compile_calls(calls))
    assert tried == len(native_kernels.SOURCES)  # the compiles ran side by side, all failed: no link
    native_kernels.recurrent_step_ops.cache_clear()  # as a new worker process
    assert native_kernels.recurrent_step_ops() is None
    assert native_kernels.why_not() == reason and len(compile_calls(calls)) == tried  # not tried again
    marker.unlink()  # how to retry
    native_kernels.recurrent_step_ops.cache_clear()
    assert native_kernels.recurrent_step_ops() is None and len(compile_calls(calls)) == 2 * tried


def test_on_a_mac_without_the_tools_training_uses_plain_ops_and_runs_no_compiler(fresh_load, tmp_path):
    fresh_load.setenv("SEQLAB_KERNEL_CACHE", str(tmp_path / "kernels"))
    fresh_load.delenv("CXX", raising=False)
    fresh_load.setattr(compiler.platform, "system", lambda: "Darwin")
    fresh_load.setattr(compiler.shutil, "which", lambda name: f"/usr/bin/{name}")  # the installer shims
    ran = []
    real_run = compiler.subprocess.run
    fresh_load.setattr(compiler.subprocess, "run", lambda command, **kw: ran.append(command) or real_run(
        ["sh", "-c", "exit 2"], **kw))  # xcode-select -p: "no developer tools"
    assert choose_engine("lstm", tf.float32, 64) == Engine.TF_OPS
    assert "no C++ compiler found (the Xcode Command Line Tools are not installed" in native_kernels.why_not()
    assert ran and all(command[0] == "xcode-select" for command in ran)


def test_where_a_gpu_runs_the_layer_the_kernels_are_never_built(fresh_load, tmp_path):
    fresh_load.setenv("SEQLAB_KERNEL_CACHE", str(tmp_path / "kernels"))
    script, calls = failing_compiler(tmp_path)
    fresh_load.setenv("CXX", str(script))
    fresh_load.setattr(choice, "on_gpu", lambda: True)
    choice.forget_choices()
    assert all(choose_engine(cell, tf.float32, 64) == Engine.KERAS for cell in CELLS)
    assert not compile_with_xla("generate") and choice.engine_in_words() == ("GPU", "")
    layer_outputs_and_gradients("lstm", "float32")
    assert not calls.exists() and not (tmp_path / "kernels").exists()  # not even the compiler's --version


def test_a_build_into_an_empty_cache_is_kept_and_reused(monkeypatch, tmp_path):
    monkeypatch.setenv("SEQLAB_KERNEL_CACHE", str(tmp_path / "kernels"))
    library = native_kernels.library_file()
    assert library.parent == tmp_path / "kernels" and library.stat().st_size > 0
    built_at = library.stat().st_mtime_ns
    assert native_kernels.library_file() == library
    assert library.stat().st_mtime_ns == built_at
    assert not [p for p in library.parent.iterdir() if p.name not in (library.name, ".lock")]  # no scratch left


def test_xla_only_where_the_kernels_do_not_load(fresh_load):
    """XLA cannot compile the kernels (and they beat its fusion); without them float32 text models use XLA."""
    assert not compile_with_xla("generate")
    fresh_load.setenv("SEQLAB_NATIVE", "0")
    native_kernels.recurrent_step_ops.cache_clear()
    assert compile_with_xla("generate") and not compile_with_xla("classify")
