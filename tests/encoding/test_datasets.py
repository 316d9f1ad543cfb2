import numpy as np

from seqlab.encoding.datasets import (
    LENGTH_BUCKET_WORDS,
    classification_data,
    generation_data,
    make_windows,
    reviews_dataset,
    split_by_position,
    stratified_split,
)
from seqlab.encoding.vocabulary import make_review_vectorizer


def test_windows_are_contiguous_and_not_overlapping():
    ids = np.arange(23, dtype=np.int32)
    windows = make_windows(ids, 5)
    assert windows.shape == (4, 6)
    assert windows[:, 0].tolist() == [0, 5, 10, 15]  # stride = sequence length, not 1
    assert windows[1].tolist() == [5, 6, 7, 8, 9, 10]


def test_split_by_position_holds_out_the_last_tenth():
    train, validation = split_by_position(np.arange(100))
    assert train.tolist() == list(range(90)) and validation.tolist() == list(range(90, 100))


def batches(dataset):
    return [(x.numpy(), y.numpy()) for x, y in dataset]


def epochs_of_starts(data, epochs):
    """The windows of each epoch, in order (batches run on across epoch ends; the text is arange, so a window's
    first input is where it starts)."""
    count = data.train_windows
    found = np.concatenate([x for x, _ in batches(data.train.take(epochs * count // data.batch_size + 1))])
    return [found[e * count:(e + 1) * count] for e in range(epochs)]


def test_generation_data_targets_shift_and_are_deterministic():
    ids = np.arange(2000, dtype=np.int32)
    data = generation_data(ids, sequence_length=10, batch_size=8, seed=3)
    assert (data.train_windows, data.validation_windows, data.batch_size) == (179, 19, 8)
    assert data.steps_per_epoch == 22
    x, y = batches(data.train.take(1))[0]
    assert x.shape == (8, 10) and y.shape == (8, 10)
    assert (x[:, 1:] == y[:, :-1]).all()  # target = next character
    assert (x - x[:, :1] == np.arange(10)).all()  # a contiguous piece of the text
    first, second = epochs_of_starts(data, 2)
    assert len(set(first[:, 0] % 10)) == 1 and len(set(second[:, 0] % 10)) == 1  # one grid per epoch
    assert first[0, 0] % 10 != second[0, 0] % 10  # cut at another offset (seed 3 draws two different ones)
    assert len(set(first[:, 0].tolist())) == len(first) == 179  # every window of the grid, once
    assert first[:, 0].max() + 11 <= 1800  # inside the training 90%
    again = generation_data(ids, sequence_length=10, batch_size=8, seed=3)
    assert all((a == b).all() for a, b in zip([first, second], epochs_of_starts(again, 2)))  # same seed
    other = generation_data(ids, sequence_length=10, batch_size=8, seed=4)
    assert not np.array_equal(first, epochs_of_starts(other, 1)[0])
    validation_inputs = np.concatenate([x for x, _ in batches(data.validation)])
    assert validation_inputs.min() >= 0 and len(validation_inputs) == 19
    assert (validation_inputs[:, 0] == 1800 + 10 * np.arange(19)).all()  # from the last 10%, fixed


def test_training_windows_move_between_epochs_and_stay_in_the_training_text():
    ids = np.arange(20000, dtype=np.int32)  # every position distinct
    data = generation_data(ids, sequence_length=10, batch_size=16, seed=1)
    found = [np.concatenate([x, y[:, -1:]], axis=1) for x, y in batches(data.train.take(12 * data.steps_per_epoch))]
    windows = np.concatenate(found)
    assert windows.max() < 18000  # never reaches into the held-out 10%
    offsets = {int(w[0] % 10) for w in windows[::data.steps_per_epoch * 16]}
    assert len(offsets) > 3  # 12 epochs cut the text at several different offsets


def test_generation_batch_shrinks_for_a_tiny_corpus():
    data = generation_data(np.zeros(300, np.int32), sequence_length=10, batch_size=64, seed=0)
    assert data.batch_size == data.train_windows == 26 and data.steps_per_epoch == 1


def test_stratified_split_keeps_class_shares():
    labels = np.array([1] * 80 + [0] * 20)
    train, validation = stratified_split(labels, 0.1, seed=0)
    assert len(validation) == 10 and labels[validation].sum() == 8
    assert sorted(np.concatenate([train, validation]).tolist()) == list(range(100))
    again, _ = stratified_split(labels, 0.1, seed=0)
    assert (train == again).all()


def test_reviews_are_padded_truncated_and_maskable():
    texts = ["good film", "a really very long and very bad film indeed", "bad"]
    vectorizer = make_review_vectorizer(texts, vocabulary_size=100, max_length=6)
    (ids, labels), = [(x.numpy(), y.numpy()) for x, y in reviews_dataset(texts, [1, 0, 0], 3, vectorizer)]
    assert ids.shape == (3, 6) and labels.tolist() == [1, 0, 0]
    assert (ids[0, 2:] == 0).all() and (ids[1] != 0).all()  # padding is 0 (masked), long text truncated


def test_review_batches_hold_reviews_of_similar_length():
    """Training batches group reviews by length (so the model can cut their shared padding), every review once per
    epoch, labels still paired, order reshuffled each epoch; reviews past max_words share the last bucket."""
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 200, size=300)
    texts = [" ".join(["word"] * count) + f" id{index}" for index, count in enumerate(counts)]
    dataset = reviews_dataset(texts, np.arange(300) % 2, 8, shuffle_seed=3, max_words=128)
    epochs = [batches(dataset), batches(dataset)]
    for epoch in epochs:
        seen = []
        for text_batch, label_batch in epoch:
            ids = [int(text.split()[-1][2:]) for text in text_batch.astype(str)]
            buckets = {min((counts[i] + 1) // LENGTH_BUCKET_WORDS, 128 // LENGTH_BUCKET_WORDS) for i in ids}
            assert len(buckets) == 1 and label_batch.tolist() == [i % 2 for i in ids]
            seen += ids
        assert sorted(seen) == list(range(300))
    assert [len(x) for x, _ in epochs[0]].count(8) >= 300 // 8 - 5  # at most one part-filled batch per bucket
    assert [x.tolist() for x, _ in epochs[0]] != [x.tolist() for x, _ in epochs[1]]


def test_classification_data_sizes():
    texts = [f"review {i}" for i in range(100)]
    labels = np.array([i % 2 for i in range(100)])
    train, validation, train_count, validation_count = classification_data(texts, labels, 16, seed=1)
    assert (train_count, validation_count) == (90, 10)
    assert sum(len(y) for _, y in validation) == 10
