"""WeightAverager: the moving average it keeps, where it is swapped in, and a real run that keeps it."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from seqlab.train.weight_averaging import WeightAverager


def tiny_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


def attached(model, steps):
    averager = WeightAverager(steps)
    averager.set_model(model)
    averager.on_train_begin()
    return averager


def test_the_average_follows_the_ramped_decay():
    model = tiny_model()
    averager = attached(model, steps=4)
    kernel = model.trainable_variables[0]
    expected = kernel.numpy().copy()
    for update in range(1, 8):
        kernel.assign(kernel.numpy() + update)  # a training step moved the weights
        decay = min(1 - 1 / 4, (1 + update) / (10 + update))
        expected = decay * expected + (1 - decay) * kernel.numpy()
        averager.on_train_batch_end(update)
        np.testing.assert_allclose(averager.averages[0].numpy(), expected, rtol=1e-6)


def test_applied_swaps_the_average_in_and_the_training_weights_back():
    model = tiny_model()
    averager = attached(model, steps=10)
    kernel = model.trainable_variables[0]
    start = kernel.numpy().copy()
    kernel.assign(start + 1.0)
    averager.on_train_batch_end(0)  # decay 2/11: the average moves 9/11 of the way
    trained = kernel.numpy().copy()
    with averager.applied():
        np.testing.assert_allclose(kernel.numpy(), start + 9 / 11, rtol=1e-6)
        with averager.applied():  # nested (validation inside a save): still the average, swapped back once
            np.testing.assert_allclose(kernel.numpy(), start + 9 / 11, rtol=1e-6)
        np.testing.assert_allclose(kernel.numpy(), start + 9 / 11, rtol=1e-6)
    np.testing.assert_array_equal(kernel.numpy(), trained)


def test_validation_inside_fit_sees_the_average_and_training_goes_on_from_its_own_weights():
    model = tiny_model()
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    y = x[:, :2] * 3.0
    averager = WeightAverager(steps=1000)  # so slow that the average stays near the start
    start = [variable.numpy().copy() for variable in model.trainable_variables]
    history = model.fit(x, y, validation_data=(x, y), epochs=3, batch_size=8, callbacks=[averager], verbose=0)
    trained = [variable.numpy().copy() for variable in model.trainable_variables]
    assert not np.allclose(trained[0], start[0])  # the model holds the training weights after fit
    with averager.applied():
        averaged_loss = model.evaluate(x, y, verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(averaged_loss, rel=1e-5)
    assert model.evaluate(x, y, verbose=0) < averaged_loss  # ...which learned more than their average


def test_steps_must_be_positive():
    with pytest.raises(ValueError, match="steps is 0"):
        WeightAverager(0)
