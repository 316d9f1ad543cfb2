import keras
import numpy as np
import pytest
import tensorflow as tf

from seqlab.config import ModelConfig, TrainConfig
from seqlab.encoding.vocabulary import make_review_vectorizer
from seqlab.model.builder import build_model, compile_model
from seqlab.model.review_layers import AverageVerdicts, TrimPadding, WordPairBag
from seqlab.model.size import parameter_count
from seqlab.train.trainer import clipping_options, optimizer_for


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_each_cell_builds_with_the_same_arguments_and_trains(cell):
    import keras

    keras.utils.set_random_seed(0)
    config = ModelConfig(cell=cell, num_layers=2, units=16, embedding_dim=8, dropout=0.1, weight_dropout=0.2)
    model = build_model(config, vocabulary_size=12)
    assert [layer.weight_dropout for layer in model.layers if hasattr(layer, "weight_dropout")] == [0.2, 0.2]
    assert model.count_params() == parameter_count(config, 12)
    compile_model(model, "generate", optimizer_for(TrainConfig(learning_rate=1e-2, clip="norm")))
    ids = np.random.default_rng(0).integers(0, 12, size=(16, 10)).astype("int32")
    history = model.fit(ids, np.roll(ids, -1, axis=1), epochs=5, batch_size=8, verbose=0)
    assert model(ids[:2]).shape == (2, 10, 12)
    assert set(history.history) >= {"loss", "accuracy", "grad_norm"}
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("clip", ["none", "norm", "value"])
def test_clipping_in_the_training_step(clip):
    """With plain SGD (lr 1) the weight change *is* the applied gradient, so clipping is visible exactly. The
    clipping options are the ones the trainer's optimizer gets from TrainConfig."""
    import keras

    model = build_model(ModelConfig(cell="simple_rnn", units=8, embedding_dim=4), vocabulary_size=5)
    options = clipping_options(TrainConfig(clip=clip, clip_threshold=1e-3))
    model.compile(optimizer=keras.optimizers.SGD(1.0, **options),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = [w.numpy().copy() for w in model.trainable_weights]
    ids = np.random.default_rng(1).integers(0, 5, size=(4, 6)).astype("int32")
    logs = model.train_step((tf.constant(ids), tf.constant(np.roll(ids, 1, axis=1))))
    changes = [w.numpy() - b for w, b in zip(model.trainable_weights, before)]
    change_norm = np.sqrt(sum((c**2).sum() for c in changes))
    reported = float(logs["grad_norm"])
    assert reported > 1e-2  # the norm is reported before clipping
    if clip == "none":
        assert change_norm == pytest.approx(reported, rel=1e-4)
    elif clip == "norm":  # all gradients rescaled together to the threshold: global, not per variable
        assert change_norm == pytest.approx(1e-3, rel=1e-3)
    else:
        assert max(np.abs(c).max() for c in changes) == pytest.approx(1e-3, rel=1e-4)  # each element capped


def test_classifier_takes_raw_strings_and_masks_padding():
    texts = ["good film", "bad film", "great film", "awful film"] * 4
    vectorizer = make_review_vectorizer(texts, vocabulary_size=100, max_length=12)
    config = ModelConfig(task="classify", cell="gru", units=8, embedding_dim=4, bidirectional=True,
                         vocabulary_size=100)
    model = build_model(config, vectorizer=vectorizer)
    assert model.count_params() == parameter_count(config, vectorizer.vocabulary_size())
    compile_model(model, "classify", optimizer_for(TrainConfig(learning_rate=1e-2, clip="value", clip_threshold=0.5)))
    dataset = tf.data.Dataset.from_tensor_slices((tf.constant(texts), np.array([1, 0, 1, 0] * 4, "float32")))
    model.fit(dataset.batch(4), epochs=2, verbose=0)
    probabilities = model(tf.constant(["good film", "good film"])).numpy()
    assert probabilities.shape == (2, 1) and 0 < probabilities[0, 0] < 1
    embedding = model.get_layer("embedding")
    assert embedding.mask_zero  # padding (id 0) never reaches the recurrent layer


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_max_mean_pooling_reads_only_the_real_words(cell):
    """The verdict must not depend on padding: whatever the padding id's embedding holds, outputs are unchanged."""
    texts = ["good film", "a bad and very long film indeed", "great"]
    vectorizer = make_review_vectorizer(texts, vocabulary_size=100, max_length=10)
    config = ModelConfig(task="classify", cell=cell, units=6, embedding_dim=4, bidirectional=True,
                         vocabulary_size=100, pooling="max_mean")
    model = build_model(config, vectorizer=vectorizer)
    assert model.count_params() == parameter_count(config, vectorizer.vocabulary_size())
    before = model(tf.constant(texts)).numpy()
    embedding = model.get_layer("embedding")
    table = embedding.get_weights()[0]
    table[0] = 50.0  # the padding row: would saturate every max and shift every mean if it were read
    embedding.set_weights([table])
    np.testing.assert_allclose(model(tf.constant(texts)).numpy(), before, atol=1e-6)
    table[1:] += 1.0  # while the words themselves do count
    embedding.set_weights([table])
    assert np.abs(model(tf.constant(texts)).numpy() - before).max() > 1e-4


def test_trim_padding_cuts_only_the_columns_padded_in_every_review():
    trim = TrimPadding()
    ids = tf.constant([[5, 6, 0, 0, 0], [7, 0, 0, 0, 0]])
    assert trim(ids).numpy().tolist() == [[5, 6], [7, 0]]
    assert trim(tf.zeros([2, 5], tf.int64)).shape == (2, 1)  # empty reviews keep one (masked) column


@pytest.mark.parametrize("word_pairs", [0, 1000])
def test_a_verdict_does_not_depend_on_the_other_reviews_in_its_batch(word_pairs):
    """With the padding trimmed per batch (TrimPadding), a short review beside a long one and alone must score alike."""
    texts = ["good film", "a bad and very long film indeed, long and bad and long", "great"]
    vectorizer = make_review_vectorizer(texts, vocabulary_size=100, max_length=20)
    config = ModelConfig(task="classify", cell="gru", units=6, embedding_dim=4, bidirectional=True,
                         vocabulary_size=100, pooling="max_mean", word_pairs=word_pairs)
    model = build_model(config, vectorizer=vectorizer)
    assert model.count_params() == parameter_count(config, vectorizer.vocabulary_size())
    assert model.get_layer("trim_padding") is not None
    together = model(tf.constant(texts)).numpy()
    alone = np.concatenate([model(tf.constant([text])).numpy() for text in texts])
    np.testing.assert_allclose(together, alone, atol=1e-6)


def test_word_pair_bag_averages_the_real_pairs_only():
    bag = WordPairBag(buckets=1000, dim=3)
    ids = tf.constant([[5, 6, 7, 0, 0], [9, 0, 0, 0, 0], [5, 6, 0, 0, 0]])
    vectors = bag(ids).numpy()
    table = bag.table.numpy()
    pair = lambda left, right: (left * 1_000_003 + right) % 1000 + 1  # noqa: E731
    gain = bag.gain  # 4: the default of models saved before gain was an option
    np.testing.assert_allclose(vectors[0], gain * (table[pair(5, 6)] + table[pair(6, 7)]) / 2, atol=1e-6)
    np.testing.assert_allclose(vectors[1], 0.0)  # one word: no pair, no padding pairs either
    np.testing.assert_allclose(vectors[2], gain * table[pair(5, 6)], atol=1e-6)
    table[0] = 100.0
    bag.table.assign(table)
    np.testing.assert_allclose(bag(ids).numpy()[1], 0.0)


def test_word_pair_bag_with_words_averages_words_and_pairs_together():
    bag = WordPairBag(buckets=1000, dim=3, words=50, gain=16.0)
    ids = tf.constant([[5, 6, 0], [0, 0, 0]])
    vectors = bag(ids).numpy()
    table = bag.table.numpy()
    assert table.shape == (1 + 1000 + 50, 3)
    pair = (5 * 1_000_003 + 6) % 1000 + 1
    expected = 16.0 * (table[pair] + table[1000 + 5] + table[1000 + 6]) / 3
    np.testing.assert_allclose(vectors[0], expected, atol=1e-6)
    np.testing.assert_allclose(vectors[1], 0.0)  # an empty review: nothing to average
    assert WordPairBag.from_config(bag.get_config()).gain == 16.0


def test_average_verdicts_judges_by_the_mean_logit():
    verdict = AverageVerdicts()([tf.constant([[2.0], [-3.0]]), tf.constant([[-1.0], [-1.0]])]).numpy()
    np.testing.assert_allclose(verdict[:, 0], 1 / (1 + np.exp([-0.5, 2.0])), atol=1e-6)


def test_each_reader_learns_from_its_own_verdict():
    """A recurrent reader already sure and right leaves the averaged verdict nothing to learn; the bag of words
    must still learn (in an ensemble's shadow it would not)."""
    texts = ["good film", "great fun film", "a good one"]
    vectorizer = make_review_vectorizer(texts, vocabulary_size=100, max_length=8)
    config = ModelConfig(task="classify", cell="gru", units=4, embedding_dim=4, vocabulary_size=100,
                         word_pairs=1000)
    model = build_model(config, vectorizer=vectorizer)
    assert model.readers() is not None
    assert build_model(ModelConfig(task="classify", cell="gru", units=4, embedding_dim=4, vocabulary_size=100),
                       vectorizer=vectorizer).readers() is None
    model.get_layer("reader_logit").bias.assign([100.0])  # every review is positive, and the reader knows it
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss=keras.losses.BinaryCrossentropy())
    table = model.get_layer("word_pairs").table.numpy().copy()
    logs = model.train_on_batch(tf.constant(texts), tf.ones([3]), return_dict=True)
    assert np.abs(model.get_layer("word_pairs").table.numpy() - table).max() > 1e-3
    assert logs["loss"] < 0.7  # the logged loss is the averaged verdict's
