"""The two usual ways to generate that `bench generation` times seqlab's sampler against, and their greedy texts.

- keras_naive: the tutorials' loop — every new character re-runs the last NAIVE_WINDOW characters through `model(x)`;
- numpy_reference: the simplest readable stateful NumPy loop (Keras' weights as they are, one step per character).
"""

from __future__ import annotations

import numpy as np

NAIVE_WINDOW = 100  # characters the naive loop re-runs per new character (and the seed's length)


def keras_naive(model, seed_ids: np.ndarray, length: int, num: int, greedy: bool = False) -> np.ndarray:
    """The tutorials' way: per new character, the last NAIVE_WINDOW characters through model(x), then a draw."""
    import tensorflow as tf

    text = np.tile(seed_ids, (num, 1))  # (num, time)
    for _ in range(length):
        logits = model(text[:, -NAIVE_WINDOW:], training=False)[:, -1, :]  # (num, vocabulary)
        chosen = tf.argmax(logits, axis=-1) if greedy else tf.random.categorical(logits, num_samples=1)[:, 0]
        text = np.concatenate([text, np.asarray(chosen)[:, None]], axis=1)
    return text[:, len(seed_ids):]


def numpy_reference(model, seed_ids: np.ndarray, length: int, num: int, rng: np.random.Generator,
                    greedy: bool = False) -> np.ndarray:
    """The simplest readable stateful NumPy loop: Keras' weights unchanged, one step per character, no tricks."""
    import keras

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    recurrent = [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)]
    embedding = model.get_layer("embedding").get_weights()[0]  # (vocabulary, embedding_dim)
    dense_kernel, dense_bias = model.get_layer("logits").get_weights()
    weights = [layer.get_weights() for layer in recurrent]
    h = [np.zeros((num, layer.units), np.float32) for layer in recurrent]
    c = [np.zeros((num, layer.units), np.float32) for layer in recurrent]
    ids, new = np.full(num, seed_ids[0]), []
    for t in range(1, len(seed_ids) + length):
        x = embedding[ids]  # (num, embedding_dim)
        for index, layer in enumerate(recurrent):
            kernel, recurrent_kernel, bias = weights[index]
            if isinstance(layer, keras.layers.LSTM):
                i, f, g, o = np.split(x @ kernel + h[index] @ recurrent_kernel + bias, 4, axis=1)
                c[index] = sigmoid(f) * c[index] + sigmoid(i) * np.tanh(g)
                h[index] = sigmoid(o) * np.tanh(c[index])
            elif isinstance(layer, keras.layers.GRU):  # reset_after=True: two biases
                xz, xr, xh = np.split(x @ kernel + bias[0], 3, axis=1)
                hz, hr, hh = np.split(h[index] @ recurrent_kernel + bias[1], 3, axis=1)
                z, r = sigmoid(xz + hz), sigmoid(xr + hr)
                h[index] = z * h[index] + (1 - z) * np.tanh(xh + r * hh)
            else:
                h[index] = np.tanh(x @ kernel + h[index] @ recurrent_kernel + bias)
            x = h[index]
        if t < len(seed_ids):
            ids = np.full(num, seed_ids[t])
            continue
        logits = x @ dense_kernel + dense_bias
        probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        ids = probabilities.argmax(axis=1) if greedy else np.array([rng.choice(len(p), p=p) for p in probabilities])
        new.append(ids)
    return np.stack(new, axis=1)  # (num, length)


def greedy_texts(model, vocabulary, seed: str, length: int) -> dict[str, str]:
    """Greedy continuations by the three paths; equal while seed + text fit in the naive window."""
    from seqlab.infer.sampling import CharSampler, NumpyCharModel

    ids = vocabulary.encode(seed)
    return {"keras_naive": vocabulary.decode(keras_naive(model, ids, length, 1, greedy=True)[0]),
            "numpy_reference": vocabulary.decode(numpy_reference(model, ids, length, 1, None, greedy=True)[0]),
            "seqlab": CharSampler(NumpyCharModel.from_keras(model), vocabulary).generate(seed, length,
                                                                                      greedy=True)[0][len(seed):]}
