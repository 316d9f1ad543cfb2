"""tf.data pipelines: windows of characters for generation, batches of reviews for classification.

Generation uses contiguous, non-overlapping windows (stride = sequence length),
so each character is a target exactly once per epoch. The tutorials' stride-1
windows copy the corpus `sequence_length` times into memory and make an
"epoch" 100x longer without adding information. Training windows start at a
new random offset every epoch: a model that sees the same 10,000 windows five
times starts to memorise them, one that sees them cut differently each time
cannot (measured: docs/performance-history.md). Validation windows stay fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from seqlab.corpus.statistics import VALIDATION_FRACTION


@dataclass(frozen=True)
class GenerationData:
    train: tf.data.Dataset  # yields (inputs, targets): int32 (batch, time), (batch, time)
    validation: tf.data.Dataset
    train_windows: int
    validation_windows: int
    batch_size: int  # may be smaller than asked for a tiny corpus
    steps_per_epoch: int


def split_by_position(ids: np.ndarray, validation_fraction: float = VALIDATION_FRACTION):
    """First 90% trains, last 10% validates: no window straddles the two."""
    cut = int(len(ids) * (1 - validation_fraction))
    return ids[:cut], ids[cut:]


def make_windows(ids: np.ndarray, sequence_length: int) -> np.ndarray:
    """(num_windows, sequence_length + 1): window i starts at i * sequence_length."""
    count = (len(ids) - 1) // sequence_length
    starts = np.arange(count) * sequence_length
    return ids[starts[:, None] + np.arange(sequence_length + 1)[None, :]]


def _inputs_and_targets(window):
    return window[:, :-1], window[:, 1:]  # targets are the inputs shifted by one character


def shifting_window_count(characters: int, sequence_length: int) -> int:
    """Windows per epoch of shifting_windows: the same for every offset."""
    return (characters - sequence_length) // sequence_length


def shifting_windows(ids: np.ndarray, sequence_length: int, batch_size: int, seed: int) -> tf.data.Dataset:
    """Endless batches of (sequence_length + 1)-character windows; epoch e cuts the text at offset + i × length,
    the offset drawn from [0, length) and the window order shuffled, both from (seed, e): reproducible, and
    `fit` can be called again on it and start at epoch 0."""
    count = shifting_window_count(len(ids), sequence_length)
    text = tf.constant(ids, dtype=tf.int32)
    span = tf.range(sequence_length + 1, dtype=tf.int64)

    def epoch_starts(epoch):
        offset = tf.random.stateless_uniform([], seed=[seed, epoch], maxval=sequence_length, dtype=tf.int64)
        starts = offset + tf.range(count, dtype=tf.int64) * sequence_length
        return tf.data.Dataset.from_tensor_slices(tf.random.experimental.stateless_shuffle(starts, [seed, epoch]))

    dataset = (
        tf.data.Dataset.range(2**62).flat_map(epoch_starts)
        .batch(batch_size, drop_remainder=True)  # fixed shapes: one trace, cuDNN-friendly
        .map(lambda starts: _inputs_and_targets(tf.gather(text, starts[:, None] + span[None, :])),
             num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    return dataset


def generation_data(ids: np.ndarray, sequence_length: int, batch_size: int, seed: int,
                    validation_fraction: float = VALIDATION_FRACTION) -> GenerationData:
    """Training: endless shifting windows (one epoch = train_windows); validation: fixed windows, cached."""
    train_ids, validation_ids = split_by_position(np.asarray(ids, dtype=np.int32), validation_fraction)
    validation_windows = make_windows(validation_ids, sequence_length)
    train_count = shifting_window_count(len(train_ids), sequence_length)
    batch_size = max(1, min(batch_size, train_count))
    train = shifting_windows(train_ids, sequence_length, batch_size, seed)
    validation = (
        tf.data.Dataset.from_tensor_slices(validation_windows)
        .batch(batch_size)
        .map(_inputs_and_targets)
        .cache()
        .prefetch(tf.data.AUTOTUNE)
    )
    return GenerationData(train, validation, train_count, len(validation_windows), batch_size,
                          train_count // batch_size)


def forecast_windows(scaled: np.ndarray, sequence_length: int, horizon: int, batch_size: int,
                     seed: int) -> tf.data.Dataset:
    """Batches of every window of a scaled series (one per start, reshuffled each epoch): inputs (batch, length, 1)
    and, after each position, the next `horizon` values (batch, length, horizon). Cut from the series as they are
    needed: all windows at once would hold length × horizon copies of it."""
    values = tf.constant(np.asarray(scaled, dtype=np.float32))
    count = len(scaled) - sequence_length - horizon + 1
    positions = tf.range(sequence_length, dtype=tf.int64)[None, :]
    ahead = tf.range(1, horizon + 1, dtype=tf.int64)[None, None, :]

    def windows(starts):
        index = starts[:, None] + positions  # (batch, length)
        return tf.gather(values, index)[..., None], tf.gather(values, index[..., None] + ahead)

    return (tf.data.Dataset.range(count).shuffle(count, seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size, drop_remainder=True).map(windows, num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))


def stratified_split(labels: np.ndarray, validation_fraction: float, seed: int):
    """Indices (train, validation) keeping each class's share the same in both parts."""
    rng = np.random.default_rng(seed)
    train_parts, validation_parts = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        held_out = max(1, int(round(len(members) * validation_fraction)))
        validation_parts.append(members[:held_out])
        train_parts.append(members[held_out:])
    return rng.permutation(np.concatenate(train_parts)), np.sort(np.concatenate(validation_parts))


LENGTH_BUCKET_WORDS = 32  # a training batch holds reviews within this many words of each other


def _length_bucket(max_words: int):
    """Review -> bucket of its word count; every review longer than max_words (cut there) shares the last one."""
    last = max(max_words // LENGTH_BUCKET_WORDS, 0)

    def bucket(text, label):
        words = tf.size(tf.strings.split(text), out_type=tf.int64)
        return tf.minimum(words // LENGTH_BUCKET_WORDS, last)
    return bucket


def reviews_dataset(texts, labels, batch_size: int, vectorizer=None, shuffle_seed: int | None = None,
                    max_words: int | None = None):
    """(text or ids, label) batches. With a vectorizer: int ids padded with 0 / truncated to its length.

    Padding is 0 at the end; the model's Embedding(mask_zero=True) masks it, so
    the recurrent layer never reads padding (the tutorials' unmasked LSTM does).
    With max_words, each batch holds reviews of similar length (buckets of
    LENGTH_BUCKET_WORDS words; longer than max_words counts as max_words): the
    model cuts the padding every review of a batch shares (models.TrimPadding),
    and Keras' masked loop steps through padding too, so random batches, all as
    wide as their longest review, cost ~1.7× more on IMDb.
    """
    dataset = tf.data.Dataset.from_tensor_slices((tf.constant(list(texts)), np.asarray(labels, np.float32)))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(texts), seed=shuffle_seed, reshuffle_each_iteration=True)
    if max_words:
        dataset = dataset.group_by_window(_length_bucket(max_words), lambda _, window: window.batch(batch_size),
                                          window_size=batch_size)
    else:
        dataset = dataset.batch(batch_size)
    if vectorizer is not None:
        dataset = dataset.map(lambda x, y: (vectorizer(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def classification_data(texts, labels, batch_size: int, seed: int, vectorizer=None,
                        validation_fraction: float = VALIDATION_FRACTION, max_words: int | None = None):
    """Stratified train/validation datasets; the training one is reshuffled each epoch (batched by length with
    max_words, see reviews_dataset)."""
    labels = np.asarray(labels)
    train_index, validation_index = stratified_split(labels, validation_fraction, seed)
    texts = list(texts)
    train = reviews_dataset([texts[i] for i in train_index], labels[train_index], batch_size, vectorizer, seed,
                            max_words)
    validation = reviews_dataset([texts[i] for i in validation_index], labels[validation_index], batch_size,
                                 vectorizer, max_words=max_words)
    return train, validation, len(train_index), len(validation_index)
