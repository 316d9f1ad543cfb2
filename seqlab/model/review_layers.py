"""The layers a review model is made of besides Keras' own: reading only the real words, attention over them, and
a second reader.

Registered under the package name "seqlab", so .keras files name them as `seqlab>TrimPadding` whichever module
defines them (model files saved before the package was restructured load unchanged). model/builder.py puts
them together.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def mean_verdict(first, second):
    """P(positive) from two readers' logits: the sigmoid of their mean (AverageVerdicts, and training's logs)."""
    return tf.sigmoid((first + second) / 2)


@keras.saving.register_keras_serializable(package="seqlab")
class MaskedMaxPooling(keras.layers.Layer):
    """Max over time of a reader's outputs, padding left out. Keras' GlobalMaxPooling1D ignores the mask; padded
    steps are set to `floor`, by default -1, the floor of every recurrent cell's output (tanh, or sigmoid × tanh),
    so they never win. `floor=None` (a Transformer's outputs have no floor): padding is set to the lowest number
    there is, and a review without a single real word gets 0."""

    def __init__(self, floor: float | None = -1.0, **kwargs):
        super().__init__(**kwargs)
        self.floor = floor
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return tf.reduce_max(inputs, axis=1)
        floor = inputs.dtype.min if self.floor is None else self.floor
        largest = tf.reduce_max(tf.where(mask[..., tf.newaxis], inputs, tf.cast(floor, inputs.dtype)), axis=1)
        if self.floor is None:
            largest = tf.where(tf.reduce_any(mask, axis=1)[:, tf.newaxis], largest, tf.zeros_like(largest))
        return largest

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        config = super().get_config()
        if self.floor != -1.0:  # files saved before the floor was a setting load with the default
            config["floor"] = self.floor
        return config


@keras.saving.register_keras_serializable(package="seqlab")
class LastRealWord(keras.layers.Layer):
    """A reader's outputs (batch, words, features) -> the output at each review's last real word (batch, features).

    For a Transformer reading a review (pooling "last"): there every word sees the whole review, so the last
    word's output is a summary as good as any one position's; padding follows the words (TextVectorization pads at
    the end), so the last real word is at the number of real words minus one. A review without words gives its
    first position's."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return inputs[:, -1]
        last = tf.maximum(tf.reduce_sum(tf.cast(mask, tf.int32), axis=1) - 1, 0)
        return tf.gather(inputs, last, axis=1, batch_dims=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


@keras.saving.register_keras_serializable(package="seqlab")
class AttentionPooling(keras.layers.Layer):
    """Recurrent outputs h (batch, words, features) -> their weighted sum over the real words (batch, features):
    additive attention (Bahdanau et al. 2015; as attention pooling in Yang et al. 2016). Each word gets a score
    v · tanh(W h + b), and the weights are the softmax of the scores over the real words: they sum to 1 over
    them, and padding (masked by the Embedding's mask_zero, carried through the recurrent layers) gets exactly
    0. `weights_for` gives the weights themselves: where the model looked (the Score page shows them). W, b and
    v are stored as two Dense layers' kernels and bias would be, so an export can hand them to stock Dense layers.
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.supports_masking = True

    def build(self, input_shape):
        features = input_shape[-1]
        self.kernel = self.add_weight(shape=(features, self.units), name="kernel", initializer="glorot_uniform")
        self.bias = self.add_weight(shape=(self.units,), name="bias", initializer="zeros")
        self.score = self.add_weight(shape=(self.units, 1), name="score", initializer="glorot_uniform")

    def weights_for(self, inputs, mask=None):
        """The attention weights (batch, words), float32: a softmax over the real words, 0 on padding."""
        hidden = tf.tanh(tf.matmul(inputs, tf.cast(self.kernel, inputs.dtype)) + tf.cast(self.bias, inputs.dtype))
        scores = tf.cast(tf.matmul(hidden, tf.cast(self.score, inputs.dtype))[..., 0], tf.float32)
        if mask is None:
            return tf.nn.softmax(scores, axis=1)
        mask = tf.cast(mask, tf.bool)
        weights = tf.nn.softmax(tf.where(mask, scores, -1e9), axis=1)  # exp(-1e9 - max) is exactly 0
        return tf.where(mask, weights, 0.0)  # and a review of no word at all weighs nothing

    def call(self, inputs, mask=None):
        weights = tf.cast(self.weights_for(inputs, mask), inputs.dtype)
        return tf.reduce_sum(inputs * weights[..., tf.newaxis], axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="seqlab")
class TrimPadding(keras.layers.Layer):
    """Word ids (batch, vectorizer width) -> (batch, longest review in the batch): the columns that are padding in
    every row go. Batches of similar lengths (datasets.reviews_dataset) then cost what their words cost — Keras'
    masked loop would step through the padding too. The outputs are unchanged: those steps are masked anyway."""

    def call(self, ids):
        longest = tf.reduce_max(tf.reduce_sum(tf.cast(tf.not_equal(ids, 0), tf.int32), axis=1))
        return ids[:, :tf.maximum(longest, 1)]  # padding is at the end of each row


@keras.saving.register_keras_serializable(package="seqlab")
class WordPairBag(keras.layers.Layer):
    """Word ids (batch, words) -> the mean learned vector of the review's adjacent word pairs, and of its words
    when `words` (the vocabulary size) is set (batch, dim): fastText's bag of words and bigrams.

    Each pair is hashed into one of `buckets` vectors (no pair vocabulary to build or save); rows
    1..buckets hold the pairs, row buckets + id the word id. Padding counts for nothing, and an empty review
    gets zeros. Each vector is updated only in the few batches that hold its word or pair, so a bag learns
    slowly at the recurrent layers' learning rate (alone it needs several times that rate): its output is the
    mean times `gain`, with the vectors stored `gain` times smaller, so each Adam step moves it `gain` times
    further. The defaults (pairs only, gain 4) are those of models saved before words and gain were options.
    """

    def __init__(self, buckets: int, dim: int, words: int = 0, gain: float = 4.0, **kwargs):
        super().__init__(**kwargs)
        self.buckets, self.dim, self.words, self.gain = int(buckets), int(dim), int(words), float(gain)

    def build(self, input_shape):
        self.table = self.add_weight(shape=(1 + self.buckets + self.words, self.dim), name="pair_vectors",
                                     initializer=keras.initializers.RandomUniform(-0.05 / self.gain, 0.05 / self.gain))

    def call(self, ids):
        ids = tf.cast(ids, tf.int64)
        left, right = ids[:, :-1], ids[:, 1:]
        real = tf.logical_and(left > 0, right > 0)
        pairs = tf.where(real, (left * 1_000_003 + right) % self.buckets + 1, tf.zeros_like(left))
        if self.words:  # single words too, after the pair buckets
            real = tf.concat([real, ids > 0], axis=1)
            pairs = tf.concat([pairs, tf.where(ids > 0, ids + self.buckets, tf.zeros_like(ids))], axis=1)
        vectors = tf.gather(tf.cast(self.table, self.compute_dtype), pairs)  # (batch, pairs, dim)
        weights = tf.cast(real, self.compute_dtype)[..., tf.newaxis]
        total = tf.reduce_sum(vectors * weights, axis=1)
        return self.gain * total / tf.maximum(tf.reduce_sum(weights, axis=1), 1.0)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {**super().get_config(), "buckets": self.buckets, "dim": self.dim, "words": self.words,
                "gain": self.gain}


@keras.saving.register_keras_serializable(package="seqlab")
class AverageVerdicts(keras.layers.Layer):
    """Two readers' logits (batch, 1) each -> P(positive) from their mean: an ensemble of two in one model.
    Each reader is trained on its own verdict (SeqlabModel.train_step), not on this mean."""

    def call(self, logits):
        return mean_verdict(*logits)

    def compute_output_shape(self, input_shape):
        return input_shape[0]
