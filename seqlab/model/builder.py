"""Model builder: one function, four interchangeable cells (three recurrent, one tiny Transformer), two tasks.

The recurrent layers keep Keras' cuDNN-eligible defaults (tanh/sigmoid, no recurrent dropout, no unrolling, GRU
reset_after=True), so on a GPU Keras picks the fused cuDNN kernel; on a CPU they are Keras' layers with a fused
training loop (seqlab/engine/fused_layers.py), same weights.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from seqlab.config import ModelConfig
from seqlab.engine.choice import compile_with_xla
from seqlab.engine.fused_layers import FusedGRU, FusedLSTM, FusedSimpleRNN
from seqlab.errors import require
from seqlab.model import review_layers
from seqlab.model.review_layers import AverageVerdicts, MaskedMaxPooling, TrimPadding, WordPairBag, mean_verdict
from seqlab.model.size import WORD_PAIR_DIM, attention_units
from seqlab.model.transformer import POSITION_STDDEV, transformer_stack

# Keras' layers with a faster CPU training loop (seqlab/engine/fused_layers.py); same weights, cuDNN on a GPU.
RECURRENT_LAYERS = {"simple_rnn": FusedSimpleRNN, "lstm": FusedLSTM, "gru": FusedGRU}
# The bag's step size relative to the recurrent reader's (WordPairBag), by measurement on IMDb (best review
# preset): the bag alone reached 88.1% of the test reviews with gain 4, 89.2% with 10, 89.4% with 16 — as much
# as a bag trained on its own at its best learning rate
BAG_GAIN = 16.0
ATTENTION_LAYER = "attention"  # the AttentionPooling layer's name in a review model (the scorer finds it by it)


@keras.saving.register_keras_serializable(package="seqlab")
class SeqlabModel(keras.Model):
    """A functional model whose training step also reports the global gradient norm (before any clipping).

    Clipping is the optimizer's (seqlab/train/trainer.py builds it from TrainConfig); the norm is measured here
    so that the charts can show it. A model whose verdict averages two readers trains each on its own verdict.
    """

    reports_accuracy = True  # a forecast is near or far, never right: ForecastModel has no accuracy

    def train_step(self, data):
        inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            readers = self.readers()
            if readers is None:
                predictions = self(inputs, training=True)
                loss = self.compute_loss(x=inputs, y=targets, y_pred=predictions, training=True)
            else:  # two readers (AverageVerdicts): each learns from its own verdict; the logs show their mean's
                logits = readers(inputs, training=True)
                predictions = mean_verdict(*logits)
                loss = self.compute_loss(x=inputs, y=targets, y_pred=predictions, training=True)
                labels = tf.reshape(tf.cast(targets, logits[0].dtype), tf.shape(logits[0]))  # (batch, 1)
                own = [keras.losses.binary_crossentropy(labels, logit, from_logits=True) for logit in logits]
                objective = tf.reduce_mean(own[0] + own[1])
        variables = self.trainable_variables
        # Embedding gradients arrive as IndexedSlices with one row per *occurrence*; summing the duplicates
        # first makes the global norm the true one (and the clipping threshold mean what it says).
        gradients = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g
                     for g in tape.gradient(loss if readers is None else objective, variables)]
        gradient_norm = tf.linalg.global_norm(gradients)
        self.optimizer.apply(gradients, variables)  # clips them as configured
        logs = {"loss": loss, "grad_norm": gradient_norm}
        if self.reports_accuracy:
            logs["accuracy"] = batch_accuracy(targets, predictions)
        for metric in self.metrics:  # keep Keras' running means too (epoch averages, validation)
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(targets, predictions)
        return logs  # per-batch values: the run's metrics.jsonl records each step, not a running mean

    def readers(self):
        """For a model whose verdict averages two readers (AverageVerdicts): a model of the same layers that
        returns both readers' logits, so each can be trained on its own verdict; else None.

        Trained on the averaged verdict, the second reader would only learn what the first gets wrong, and
        both overfit together; trained apart, they err on different reviews, and their mean is right more
        often than either (IMDb: 88.7% and 89.4% alone, 90.x% together)."""
        if not hasattr(self, "_readers"):
            names = [layer.name for layer in self.layers]
            self._readers = None
            if "reader_logit" in names and "bag_logit" in names:
                self._readers = keras.Model(self.inputs, [self.get_layer("reader_logit").output,
                                                          self.get_layer("bag_logit").output])
        return self._readers


@keras.saving.register_keras_serializable(package="seqlab")
class ForecastModel(SeqlabModel):
    """A forecaster: float values (batch, time, 1) -> the next `horizon` values after each position
    (batch, time, horizon), trained on mean squared error; its steps log loss and gradient norm, no accuracy."""

    reports_accuracy = False


def batch_accuracy(targets, predictions):
    """Share of correct next characters (generate) or correct verdicts (classify) in this batch."""
    if predictions.shape[-1] == 1:  # classify: probability of "positive"
        guesses = tf.cast(predictions[..., 0] > 0.5, targets.dtype)
    else:
        guesses = tf.cast(tf.argmax(predictions, axis=-1), targets.dtype)
    return tf.reduce_mean(tf.cast(tf.equal(guesses, tf.reshape(targets, tf.shape(guesses))), tf.float32))


def forecast_graph(config: ModelConfig, horizon: int, sequence_length: int | None = None):
    """(inputs, outputs) of a forecaster: each value projected to `units` numbers (the width the stack reads),
    the stack, then the next `horizon` values (scaled) after every position."""
    inputs = keras.Input(shape=(None, 1), dtype="float32", name="values")
    x = keras.layers.Dense(config.units, name="projection")(inputs)  # (batch, time, units)
    x = sequence_stack(config, x, False, sequence_length)  # (batch, time, units); a Transformer's is causal
    if config.dropout and config.cell != "transformer":
        x = keras.layers.Dropout(config.dropout, name="dropout_out")(x)
    outputs = keras.layers.Dense(horizon, name="forecast", dtype="float32")(x)  # (batch, time, horizon)
    return inputs, outputs


def recurrent_stack(config: ModelConfig, x, return_last: bool):
    """num_layers recurrent layers of one cell type; the API is identical for all three cells."""
    layer_class = RECURRENT_LAYERS[config.cell]
    for index in range(config.num_layers):
        last = index == config.num_layers - 1
        layer = layer_class(config.units, return_sequences=not (last and return_last), name=f"{config.cell}_{index}",
                            weight_dropout=config.weight_dropout)
        if config.bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{index}")
        x = layer(x)
        if config.dropout and not last:
            x = keras.layers.Dropout(config.dropout, name=f"dropout_{index}")(x)
    return x


def sequence_stack(config: ModelConfig, x, return_last: bool, sequence_length: int | None = None):
    """The layers that read the sequence, whichever the cell: `recurrent_stack`, or for "transformer" the
    Transformer's blocks (causal for text; for reviews every real word sees every other, padding masked), whose
    context is `sequence_length` (the training windows, or a review's word limit). With `return_last`, the
    output at the last (real) position only."""
    if config.cell != "transformer":
        return recurrent_stack(config, x, return_last)
    x = transformer_stack(config, sequence_length, x, causal=config.task != "classify")  # nothing reads ahead
    return review_layers.LastRealWord(name="last_word")(x) if return_last else x


def token_embedding(config: ModelConfig, vocabulary_size: int, mask_zero: bool = False) -> keras.layers.Embedding:
    """The character (or word) vectors: `embedding_dim` wide for a recurrent cell, `units` wide for a Transformer
    (its blocks add to them). Text's start as N(0, 1), as PyTorch's: Keras' default (uniform ±0.05) feeds the
    first recurrent layer inputs ~30× smaller than its weights expect, and 200 steps then reach 2.12 nats/char
    instead of 1.74. A Transformer's start as GPT-2's, N(0, 0.02²); reviews' at Keras' default."""
    if config.cell == "transformer":
        return keras.layers.Embedding(vocabulary_size, config.units, mask_zero=mask_zero, name="embedding",
                                      embeddings_initializer=keras.initializers.RandomNormal(stddev=POSITION_STDDEV))
    initializer = keras.initializers.RandomNormal(stddev=1.0) if config.task == "generate" else "uniform"
    return keras.layers.Embedding(vocabulary_size, config.embedding_dim, mask_zero=mask_zero, name="embedding",
                                  embeddings_initializer=initializer)


def build_model(config: ModelConfig, vocabulary_size: int | None = None, vectorizer=None,
                sequence_length: int | None = None, horizon: int = 1) -> SeqlabModel:
    """Generate: int ids (batch, time) -> logits (batch, time, vocabulary).
    Classify: raw strings (batch,) -> vectorizer -> P(positive) (batch, 1).
    Forecast: scaled values (batch, time, 1) -> the next `horizon` values after each position (batch, time, h).
    `sequence_length` (TrainConfig's) is a Transformer's context; recurrent cells need none."""
    require(config.cell != "transformer" or bool(sequence_length), "A Transformer needs its context length",
            "the training sequence_length", "pass sequence_length to build_model")
    if config.task == "forecast":
        inputs, outputs = forecast_graph(config, horizon, sequence_length)
        return ForecastModel(inputs=inputs, outputs=outputs, name=f"forecast_{config.cell}")
    if config.task == "generate":
        inputs = keras.Input(shape=(None,), dtype="int32", name="characters")
        x = token_embedding(config, vocabulary_size)(inputs)
        x = sequence_stack(config, x, False, sequence_length)  # (batch, time, units)
        if config.dropout and config.cell != "transformer":
            x = keras.layers.Dropout(config.dropout, name="dropout_out")(x)
        # float32 logits under a bfloat16 policy too: the softmax and its loss need the range
        outputs = keras.layers.Dense(vocabulary_size, name="logits", dtype="float32")(x)  # (batch, time, vocabulary)
    else:
        inputs = keras.Input(shape=(), dtype="string", name="review")
        ids = TrimPadding(name="trim_padding")(vectorizer(inputs))  # (batch, longest review ≤ length), 0 = padding
        x = token_embedding(config, vectorizer.vocabulary_size(), mask_zero=True)(ids)
        if config.pooling == "max_mean":  # over the real words only: the mask travels with the outputs
            x = sequence_stack(config, x, False, sequence_length)  # (batch, words, units * directions)
            x = keras.layers.Concatenate(name="max_mean")([MaskedMaxPooling(floor=_floor(config),
                                                                            name="max_over_words")(x),
                                                           keras.layers.GlobalAveragePooling1D(name="mean")(x)])
        elif config.pooling == "attention":  # a learned weighted average over the real words
            x = sequence_stack(config, x, False, sequence_length)  # (batch, words, features)
            x = review_layers.AttentionPooling(attention_units(config), name=ATTENTION_LAYER)(x)  # (batch, features)
        else:
            x = sequence_stack(config, x, True, sequence_length)  # (batch, units * directions)
        if config.dropout:
            x = keras.layers.Dropout(config.dropout, name="dropout_out")(x)
        if config.word_pairs:  # a second reader: a bag of words and word pairs, judging on its own
            bag = WordPairBag(config.word_pairs, WORD_PAIR_DIM, words=vectorizer.vocabulary_size(), gain=BAG_GAIN,
                              name="word_pairs")(ids)  # (batch, WORD_PAIR_DIM)
            reader = keras.layers.Dense(1, name="reader_logit", dtype="float32")(x)
            bag = keras.layers.Dense(1, name="bag_logit", dtype="float32")(bag)
            outputs = AverageVerdicts(name="positive", dtype="float32")([reader, bag])
        else:
            outputs = keras.layers.Dense(1, activation="sigmoid", name="positive", dtype="float32")(x)  # (batch, 1)
    return SeqlabModel(inputs=inputs, outputs=outputs, name=f"{config.task}_{config.cell}")


def _floor(config: ModelConfig) -> float | None:
    """The lowest output a reader can give, for MaskedMaxPooling's padding: -1 for a recurrent cell (tanh);
    a Transformer's normalised outputs have none (None: padding is left out however low the real words go)."""
    return None if config.cell == "transformer" else -1.0


def apply_after_vectorizer(model: SeqlabModel, ids):
    """A classifier's layers after its vectorizer, applied to word ids of any width (the scorer batches reviews
    by length): the graph build_model made from the trimmed ids on. Models saved before TrimPadding existed were
    a chain from the Embedding on (max and mean both read the recurrent output), replayed layer by layer."""
    names = [layer.name for layer in model.layers]
    if "trim_padding" in names:
        return keras.Model(model.get_layer("trim_padding").output, model.output)(ids)
    x, pooled = ids, []
    for layer in model.layers[names.index("embedding"):]:
        if layer.name in ("max_over_words", "mean"):
            pooled.append(layer(x))
        elif layer.name == "max_mean":
            x = layer(pooled)
        else:
            x = layer(x)
    return x


def compile_model(model: SeqlabModel, task: str, optimizer: keras.optimizers.Optimizer) -> None:
    """The task's loss and accuracy; the optimizer (and its clipping) comes from the trainer."""
    if task == "forecast":  # scaled values: the MSE of a forecast that always says "the mean" is about 1
        loss, metrics = keras.losses.MeanSquaredError(), []
    elif task == "generate":
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    else:
        loss = keras.losses.BinaryCrossentropy()
        metrics = [keras.metrics.BinaryAccuracy(name="accuracy")]
    recurrent = not any(layer.name == "positions" for layer in model.layers)  # XLA's choice is for recurrent loops
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics,
                  jit_compile=recurrent and compile_with_xla(task))
