"""How much each earlier character mattered to a prediction: gradients with respect to the character vectors.

Why gradients: "which input, nudged, would change this prediction most" is the simplest question one can ask of
a network about what it used, and it needs one backward pass. The prediction at position t is the log-probability
the model gives, after reading ids[:t + 1], to the character that actually follows (ids[t + 1]); at the last
position of a text there is none, so it is the model's own top guess. The influence of character j is the L2 norm
of that log-probability's gradient with respect to j's embedding vector. A causal model cannot look ahead, so every
j > t gets exactly 0 — the tests hold the model to that.

The model is applied layer by layer from the embedding's output, which the tape watches (Dropout is inert with
training=False), inside one tf.function per model (traced once, any batch and length) so that the recurrent loops run
as a graph. Measured on two shared CPU cores, 64 windows x 100 characters: a 256-unit LSTM takes 0.3-0.5 s (1.1 s
with two layers; the first call adds ~1.3 s of tracing), a 256-unit GRU 0.15 s. TensorFlow is imported inside the
functions, so importing this module costs nothing.
"""

from __future__ import annotations

import weakref

import numpy as np

from seqlab.errors import SeqlabError

_FUNCTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> its traced gradient function


def _chain(model) -> tuple[object, list]:
    """The generation model's embedding layer and the layers after it, in order (a chain: one input, one output)."""
    import keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if not layers or not isinstance(layers[0], keras.layers.Embedding) or len(model.inputs) != 1:
        raise SeqlabError("This model does not start with a character embedding",
                          "a generation model (characters -> embedding -> recurrent layers -> logits)",
                          "look inside a generate run")
    return layers[0], layers[1:]


def _gradient_function(model):
    """A traced (ids (batch, time), positions (batch,), targets (batch,)) -> influence (batch, time) for the model:
    the gradient norms of sum_b log p(targets[b] | ids[b, :positions[b] + 1]); each row's term depends on its own
    inputs only, so one backward pass gives every row's influence."""
    if model in _FUNCTIONS:
        return _FUNCTIONS[model]
    import tensorflow as tf

    embedding, rest = _chain(model)

    signature = [tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32),
                 tf.TensorSpec([None], tf.int32)]

    @tf.function(input_signature=signature)  # traced once per model, whatever the batch and length
    def gradient_norms(ids, positions, targets):
        with tf.GradientTape() as tape:
            vectors = embedding(ids)  # (batch, time, embedding)
            tape.watch(vectors)
            outputs = vectors
            for layer in rest:
                outputs = layer(outputs, training=False)
            logits = tf.gather(outputs, positions, axis=1, batch_dims=1)  # (batch, vocabulary)
            log_probabilities = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
            chosen = tf.gather(log_probabilities, targets, axis=1, batch_dims=1)  # (batch,)
            total = tf.reduce_sum(chosen)
        gradients = tape.gradient(total, vectors)
        return tf.norm(tf.cast(gradients, tf.float32), axis=-1)  # (batch, time)

    _FUNCTIONS[model] = gradient_norms
    return gradient_norms


def _logits(model, ids: np.ndarray) -> np.ndarray:
    return np.asarray(model(ids[None, :], training=False))[0]  # (time, vocabulary)


def prediction_target(model, ids: np.ndarray, position: int) -> int:
    """The character whose log-probability influence() differentiates: ids[position + 1], or at the end of the text
    the model's top guess there."""
    if position + 1 < len(ids):
        return int(ids[position + 1])
    return int(np.argmax(_logits(model, ids[:position + 1])[position]))


def influence(model, ids: np.ndarray, position: int | None = None) -> np.ndarray:
    """How much each character of `ids` mattered to the prediction made after reading ids[position] (default: the
    last): float (len(ids),), the gradient norm per character (see the module docstring); 0 after `position`."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or not len(ids):
        raise SeqlabError(f"The ids have shape {ids.shape}", "one non-empty sequence of character ids",
                          "pass one encoded text")
    position = len(ids) - 1 if position is None else position
    if not isinstance(position, int | np.integer) or not 0 <= position < len(ids):
        raise SeqlabError(f"The position is {position!r}", f"a character position from 0 to {len(ids) - 1}",
                          "pick a position inside the text")
    target = prediction_target(model, ids, int(position))
    norms = _gradient_function(model)(ids[None, :].astype(np.int32), np.array([position], np.int32),
                                      np.array([target], np.int32))
    return np.asarray(norms, np.float64)[0]


def influence_by_distance(model, windows: np.ndarray, batch_size: int = 64) -> dict:
    """How far back the model looks, on average: windows (count, length + 1) of character ids, each one prediction —
    of its last character from the `length` before it. One backward pass per batch of windows.

    Returns {"distances": [0 .. length - 1], "share": [...], "reach": int, "windows": count, "length": length}:
    share[d] is the mean influence of the character d steps before the predicted one's predecessor (d = 0: the
    character just read), normalised so the shares sum to 1 — "the share of the influence at distance d";
    reach is reach(share), the distance within which half of it lies.
    """
    windows = np.asarray(windows)
    if windows.ndim != 2 or windows.shape[0] < 1 or windows.shape[1] < 2:
        raise SeqlabError(f"The windows have shape {windows.shape}",
                          "(count, length + 1) character ids: at least one window of two characters or more",
                          "pick windows with pick_windows")
    gradient_norms, length = _gradient_function(model), windows.shape[1] - 1
    total = np.zeros(length)
    for start in range(0, len(windows), batch_size):
        batch = windows[start:start + batch_size].astype(np.int32)
        positions = np.full(len(batch), length - 1, np.int32)
        total += np.asarray(gradient_norms(batch[:, :-1], positions, batch[:, -1]), np.float64).sum(axis=0)
    by_distance = total[::-1]  # index d: the character d steps before the last one read
    share = by_distance / by_distance.sum() if by_distance.sum() > 0 else np.full(length, 1 / length)
    return {"distances": list(range(length)), "share": [round(float(value), 6) for value in share],
            "reach": reach(share), "windows": len(windows), "length": length}


def reach(share, portion: float = 0.5) -> int:
    """The number of most recent characters that hold `portion` of the influence: "half of what the model uses comes
    from the last N characters". share[d] is the influence at distance d (any scale; it is normalised here)."""
    share = np.asarray(share, np.float64)
    if not len(share) or share.sum() <= 0:
        return 0
    cumulative = np.cumsum(share) / share.sum()
    return int(np.searchsorted(cumulative, portion - 1e-12) + 1)


def strongest_characters(ids: np.ndarray, vocabulary, values: np.ndarray, count: int = 5) -> list[dict]:
    """The `count` characters with the largest influence, largest first: {position, character, influence}."""
    order = np.argsort(-np.asarray(values), kind="stable")[:count]
    return [{"position": int(j), "character": vocabulary.characters[int(ids[j])], "influence": float(values[j])}
            for j in order if values[j] > 0]
