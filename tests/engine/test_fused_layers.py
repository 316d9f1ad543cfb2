"""The fused CPU loops give Keras' outputs and gradients, take over only where they apply, and save/load."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqlab.engine import choice, fused_layers
from seqlab.engine.fused_layers import FusedGRU, FusedLSTM, FusedSimpleRNN

PAIRS = [(keras.layers.LSTM, FusedLSTM), (keras.layers.GRU, FusedGRU), (keras.layers.SimpleRNN, FusedSimpleRNN)]
SETTINGS = [dict(return_sequences=True), dict(return_sequences=False),
            dict(return_sequences=True, go_backwards=True), dict(return_sequences=True, return_state=True)]


def twin_layers(base, fused, **settings):
    """The Keras layer and the fused one with the same (non-trivial) weights."""
    inputs = tf.constant(np.random.default_rng(0).normal(size=(3, 7, 5)).astype("float32"))
    keras_layer, fused_layer = base(6, **settings), fused(6, **settings)
    keras_layer.build(inputs.shape)
    fused_layer.build(inputs.shape)
    rng = np.random.default_rng(1)
    weights = [w + rng.normal(scale=0.3, size=w.shape).astype("float32") for w in keras_layer.get_weights()]
    keras_layer.set_weights(weights)
    fused_layer.set_weights(weights)
    return inputs, keras_layer, fused_layer


def outputs_and_gradients(layer, inputs, mask=None):
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        result = layer(inputs, mask=mask)
        results = list(result) if isinstance(result, list | tuple) else [result]
        loss = sum(tf.reduce_sum(r * tf.cos(3 * r)) for r in results)  # every output's gradient is non-trivial
    gradients = tape.gradient(loss, [inputs, *layer.trainable_weights])
    return [r.numpy() for r in results], [g.numpy() for g in gradients]


@pytest.mark.parametrize("base,fused", PAIRS, ids=["lstm", "gru", "simple_rnn"])
@pytest.mark.parametrize("settings", SETTINGS, ids=["sequences", "last", "backwards", "state"])
def test_fused_loop_matches_keras(base, fused, settings, monkeypatch):
    inputs, keras_layer, fused_layer = twin_layers(base, fused, **settings)
    calls = []
    for name in ("lstm_recurrence", "gru_recurrence", "simple_rnn_recurrence"):
        original = getattr(fused_layers, name)
        monkeypatch.setattr(fused_layers, name, lambda *a, _original=original: calls.append(1) or _original(*a))
    expected_outputs, expected_gradients = outputs_and_gradients(keras_layer, inputs)
    outputs, gradients = outputs_and_gradients(fused_layer, inputs)
    assert calls, "the fused loop was not used"
    for expected, actual in zip(expected_outputs + expected_gradients, outputs + gradients, strict=True):
        np.testing.assert_allclose(actual, expected, atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("base,fused", PAIRS, ids=["lstm", "gru", "simple_rnn"])
def test_masked_sequences_fall_back_to_keras(base, fused):
    """Padded reviews carry a mask; the fused loop does not implement it, Keras' loop does."""
    inputs, keras_layer, fused_layer = twin_layers(base, fused, return_sequences=False)
    mask = tf.constant([[True] * 7, [True] * 4 + [False] * 3, [True] * 2 + [False] * 5])
    expected_outputs, expected_gradients = outputs_and_gradients(keras_layer, inputs, mask)
    outputs, gradients = outputs_and_gradients(fused_layer, inputs, mask)
    for expected, actual in zip(expected_outputs + expected_gradients, outputs + gradients, strict=True):
        np.testing.assert_allclose(actual, expected, atol=1e-6)


@pytest.mark.parametrize("base,fused,entry", [(PAIRS[0][0], FusedLSTM, "lstm"), (PAIRS[1][0], FusedGRU, "gru")],
                         ids=["lstm", "gru"])
def test_on_a_gpu_the_call_goes_to_keras_cudnn_entry(base, fused, entry, monkeypatch):
    """With a GPU the fused loop steps aside and Keras' own inner loop asks its backend for the cuDNN kernel.
    No GPU here: the GPU is pretended, and the cuDNN entry point (which without a GPU raises NotImplementedError,
    so Keras then runs its generic loop) is watched. XLA stays off there too: cuDNN kernels do not compile."""
    from keras.src import backend

    inputs, keras_layer, fused_layer = twin_layers(base, fused, return_sequences=True)
    monkeypatch.setattr(choice, "on_gpu", lambda: True)
    fused_calls, cudnn_calls = [], []
    for name in ("lstm_recurrence", "gru_recurrence"):
        original = getattr(fused_layers, name)
        monkeypatch.setattr(fused_layers, name, lambda *a, _original=original: fused_calls.append(1) or _original(*a))
    original_entry = getattr(backend, entry)
    monkeypatch.setattr(backend, entry, lambda *a, **k: cudnn_calls.append(1) or original_entry(*a, **k))
    expected_outputs, _ = outputs_and_gradients(keras_layer, inputs)
    cudnn_calls.clear()
    outputs, _ = outputs_and_gradients(fused_layer, inputs)
    assert cudnn_calls and not fused_calls
    np.testing.assert_allclose(outputs[0], expected_outputs[0], atol=1e-6)
    assert not choice.compile_with_xla("generate")


def test_bfloat16_policy_runs_the_fused_loop_in_bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        layer = FusedLSTM(8, return_sequences=True)
        inputs = tf.random.normal([2, 5, 3])
        with tf.GradientTape() as tape:
            outputs = layer(inputs)
            loss = tf.reduce_sum(tf.cast(outputs, tf.float32))
        gradients = tape.gradient(loss, layer.trainable_weights)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert outputs.dtype == tf.bfloat16
    assert all(g.dtype == tf.float32 and np.isfinite(g.numpy()).all() for g in gradients)


def test_saved_model_reloads_as_the_fused_layer(tmp_path):
    model = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(10, 4),
                              FusedGRU(6, return_sequences=True), keras.layers.Dense(10)])
    ids = np.array([[1, 2, 3, 4]])
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    assert type(reloaded.layers[1]) is FusedGRU
    np.testing.assert_allclose(reloaded.predict(ids, verbose=0), model.predict(ids, verbose=0), atol=1e-6)


def fixed_mask_dropout(mask):
    """A stand-in for tf.nn.dropout that drops the given entries, so a Keras twin can use the same weights."""
    def dropout(x, rate, **_):
        return x * tf.cast(mask, x.dtype) / (1 - rate)
    return dropout


@pytest.mark.parametrize("base,fused", PAIRS, ids=["lstm", "gru", "simple_rnn"])
@pytest.mark.parametrize("masked", [False, True], ids=["fused_loop", "keras_loop"])
def test_weight_dropout_trains_on_the_masked_recurrent_kernel(base, fused, masked, monkeypatch):
    """In training the layer computes exactly what Keras computes with U·mask/(1−p), on the fused loop and on
    Keras' own (padded reviews, GPU); U's gradient is the twin's, masked and scaled the same way."""
    inputs, keras_layer, fused_layer = twin_layers(base, fused, return_sequences=True)
    fused_layer.weight_dropout = 0.5
    mask = tf.constant([[True] * 7, [True] * 4 + [False] * 3, [True] * 2 + [False] * 5]) if masked else None
    recurrent = fused_layer.cell.recurrent_kernel
    keep = np.random.default_rng(2).random(recurrent.shape) > 0.5
    keras_layer.cell.recurrent_kernel.assign(recurrent.numpy() * keep / 0.5)
    monkeypatch.setattr(tf.nn, "dropout", fixed_mask_dropout(keep))

    def train_outputs_and_gradients(layer):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs = layer(inputs, mask=mask, training=True)
            loss = tf.reduce_sum(outputs * tf.cos(3 * outputs))
        return outputs.numpy(), tape.gradient(loss, [inputs, layer.cell.recurrent_kernel])

    expected, (expected_input_gradient, expected_kernel_gradient) = train_outputs_and_gradients(keras_layer)
    actual, (input_gradient, kernel_gradient) = train_outputs_and_gradients(fused_layer)
    np.testing.assert_allclose(actual, expected, atol=2e-5, rtol=1e-4)
    np.testing.assert_allclose(input_gradient.numpy(), expected_input_gradient.numpy(), atol=2e-5, rtol=1e-4)
    np.testing.assert_allclose(kernel_gradient.numpy(), expected_kernel_gradient.numpy() * keep / 0.5,
                               atol=2e-5, rtol=1e-4)
    assert fused_layer.cell.recurrent_kernel is recurrent  # the variable is back in place after the call


@pytest.mark.parametrize("fused", [FusedLSTM, FusedGRU, FusedSimpleRNN], ids=["lstm", "gru", "simple_rnn"])
def test_weight_dropout_is_random_per_call_in_training_and_off_otherwise(fused):
    layer = fused(16, return_sequences=True, weight_dropout=0.4)
    inputs = tf.random.normal([4, 6, 5], seed=3)
    inference = [layer(inputs).numpy() for _ in range(2)]
    np.testing.assert_array_equal(inference[0], inference[1])  # no dropout outside training
    with tf.GradientTape() as tape:
        outputs = layer(inputs, training=True)
        loss = tf.reduce_sum(outputs * tf.cos(3 * outputs))
    kernel_gradient = tape.gradient(loss, layer.cell.recurrent_kernel).numpy()
    assert not np.allclose(outputs.numpy(), inference[0], atol=1e-4)
    assert 0.3 < np.mean(kernel_gradient == 0) < 0.5  # the dropped weights get no gradient: ~40% of U


def test_weight_dropout_is_saved_and_older_configs_load_without_it(tmp_path):
    model = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(10, 4),
                              FusedLSTM(6, return_sequences=True, weight_dropout=0.25), keras.layers.Dense(10)])
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    assert reloaded.layers[1].weight_dropout == 0.25
    older = FusedLSTM(6).get_config()
    del older["weight_dropout"]  # a layer saved before weight_dropout existed
    assert FusedLSTM.from_config(older).weight_dropout == 0.0
