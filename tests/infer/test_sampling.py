import numpy as np
import pytest

from seqlab.config import ModelConfig
from seqlab.encoding.vocabulary import CharVocabulary
from seqlab.errors import SeqlabError
from seqlab.infer.sampling import CharSampler, NumpyCharModel, check_sampling_options, sample_next

TEXT = "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n"
VOCABULARY = CharVocabulary.from_text(TEXT)


def keras_model(cell: str, dropout: float = 0.0, seed: int = 0):
    """A tiny generation model with random weights everywhere (biases too), so every term of the cell matters."""
    from seqlab.model.builder import build_model

    model = build_model(ModelConfig(cell=cell, num_layers=2, units=16, embedding_dim=8, dropout=dropout),
                        VOCABULARY.size)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


@pytest.fixture(scope="module")
def models():
    return {cell: keras_model(cell, dropout=0.25 if cell == "gru" else 0.0) for cell in ("simple_rnn", "lstm", "gru")}


@pytest.fixture(scope="module")
def sampler(models):
    return CharSampler(NumpyCharModel.from_keras(models["lstm"]), VOCABULARY)


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_numpy_model_matches_keras_at_every_position(models, cell):
    ids = np.random.default_rng(1).integers(0, VOCABULARY.size, size=(3, 40)).astype(np.int32)
    expected = np.asarray(models[cell](ids, training=False))  # (batch, time, vocabulary)
    numpy_model = NumpyCharModel.from_keras(models[cell])
    assert numpy_model.vocabulary_size == VOCABULARY.size
    for prefix in (1, 7, 300):
        prefix = min(prefix, ids.shape[1])
        logits, state = numpy_model.warm(ids[:, :prefix], numpy_model.initial_state(3))
        np.testing.assert_allclose(logits, expected[:, prefix - 1], atol=1e-4)
        for t in range(prefix, ids.shape[1]):
            logits, state = numpy_model.step(ids[:, t], state)
            np.testing.assert_allclose(logits, expected[:, t], atol=1e-4)
    assert len(state) == (4 if cell == "lstm" else 2) and state[0].shape == (3, 16)


def test_long_seed_warms_in_blocks(models):
    """A seed longer than one warm block equals feeding it step by step."""
    numpy_model = NumpyCharModel.from_keras(models["lstm"])
    ids = np.random.default_rng(2).integers(0, VOCABULARY.size, size=(2, 600)).astype(np.int32)
    warm_logits, warm_state = numpy_model.warm(ids, numpy_model.initial_state(2))
    state = numpy_model.initial_state(2)
    for t in range(ids.shape[1]):
        logits, state = numpy_model.step(ids[:, t], state)
    np.testing.assert_allclose(warm_logits, logits, atol=1e-5)
    for a, b in zip(warm_state, state):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_unsupported_layers_are_refused():
    import keras

    def model(recurrent, mask_zero=False):
        inputs = keras.Input(shape=(None,), dtype="int32")
        x = recurrent(keras.layers.Embedding(10, 4, mask_zero=mask_zero)(inputs))
        return keras.Model(inputs, keras.layers.Dense(10)(x))

    with pytest.raises(SeqlabError, match="Bidirectional.*cannot be sampled"):
        NumpyCharModel.from_keras(model(keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True))))
    with pytest.raises(SeqlabError, match="does not implement"):
        NumpyCharModel.from_keras(model(keras.layers.LSTM(4, activation="relu", return_sequences=True)))
    with pytest.raises(SeqlabError, match="Embedding.*cannot be sampled"):
        NumpyCharModel.from_keras(model(keras.layers.GRU(4, return_sequences=True), mask_zero=True))


LOGITS = np.array([[1.0, 3.0, 0.5, 2.5, -1.0, 2.9], [0.0, -2.0, 4.0, 1.0, 3.9, 0.1]], np.float32)


def draws(n: int = 4000, **options) -> np.ndarray:
    rng = np.random.default_rng(3)
    return np.stack([sample_next(LOGITS, rng, **options) for _ in range(n)])  # (n, batch)


def test_greedy_and_top_k_1_are_argmax():
    rng = np.random.default_rng(0)
    assert sample_next(LOGITS, rng, greedy=True).tolist() == [1, 2]
    assert (draws(200, top_k=1) == [1, 2]).all()
    assert (draws(200, temperature=1e-4) == [1, 2]).all()
    assert (draws(200, top_p=0.05) == [1, 2]).all()
    ties = np.zeros((1, 6), np.float32)
    assert sample_next(ties, rng, top_k=1).tolist() == sample_next(ties, rng, greedy=True).tolist() == [0]


def test_top_k_and_top_p_keep_only_the_most_likely():
    assert set(draws(top_k=2)[:, 0]) == {1, 5}  # the two largest logits of row 0
    assert set(draws(top_k=3)[:, 1]) == {2, 4, 3}
    probabilities = np.exp(LOGITS[0]) / np.exp(LOGITS[0]).sum()  # ranked: 1 .33, 5 .30, 3 .20, 0 .05 ...
    assert probabilities[[1, 5]].sum() < 0.7 < probabilities[[1, 5, 3]].sum()
    assert set(draws(top_p=0.7)[:, 0]) == {1, 5, 3}


def test_temperature_1_matches_softmax():
    samples = draws(20000)
    for row in range(2):
        expected = np.exp(LOGITS[row]) / np.exp(LOGITS[row]).sum()
        observed = np.bincount(samples[:, row], minlength=6) / len(samples)
        np.testing.assert_allclose(observed, expected, atol=0.015)
    hot = np.bincount(draws(20000, temperature=2.0)[:, 0], minlength=6) / 20000
    expected = np.exp(LOGITS[0] / 2) / np.exp(LOGITS[0] / 2).sum()
    np.testing.assert_allclose(hot, expected, atol=0.015)
    nucleus = np.bincount(draws(20000, top_k=3)[:, 0], minlength=6) / 20000
    kept = np.exp(LOGITS[0, [1, 5, 3]])
    np.testing.assert_allclose(nucleus[[1, 5, 3]], kept / kept.sum(), atol=0.015)


def test_generate_lengths_seeds_and_randomness(sampler):
    texts = sampler.generate("To be", 50, num=3, random_seed=7)
    assert len(texts) == 3 and all(t.startswith("To be") and len(t) == 55 for t in texts)
    assert len(set(texts)) == 3  # each variation has its own randomness
    assert sampler.generate("To be", 50, num=3, random_seed=7) == texts
    assert sampler.generate("To be", 50, num=3, random_seed=8) != texts
    greedy = sampler.generate("To be", 40, greedy=True, num=2)
    assert greedy[0] == greedy[1] == sampler.generate("To be", 40, top_k=1, random_seed=1)[0]
    assert len(sampler.generate("", 20, random_seed=1)[0]) == 20
    assert sampler.generate("", 30, greedy=True)[0] == sampler.generate("\n", 30, greedy=True)[0][1:]  # primer
    assert set("".join(sampler.generate("q", 200, random_seed=2))) <= set(TEXT)


def test_generation_continues_the_warmed_state(sampler):
    """Greedy text equals argmax decoding with the seed re-run each time (the slow way)."""
    model, ids = sampler.model, list(VOCABULARY.encode("the "))
    for _ in range(12):
        logits, _ = model.warm(np.array([ids]), model.initial_state(1))
        ids.append(int(np.argmax(logits[0])))
    assert sampler.generate("the ", 12, greedy=True)[0] == VOCABULARY.decode(ids)


def test_stream_chunks(sampler):
    options = dict(temperature=0.8, top_k=10, num=2, random_seed=5)
    chunks = list(sampler.stream("To", 70, chunk_size=32, **options))
    assert [len(c.texts[0]) for c in chunks] == [32, 32, 6]
    for row, text in enumerate(sampler.generate("To", 70, **options)):
        assert "To" + "".join(c.texts[row] for c in chunks) == text
    for chunk in chunks:
        for text, probabilities, alternatives in zip(chunk.texts, chunk.probabilities, chunk.alternatives):
            assert len(probabilities) == len(alternatives) == len(text)
            for character, p, top in zip(text, probabilities, alternatives):
                assert 0 < p <= 1
                values = [value for _, value in top]
                assert len(top) == 5 and values == sorted(values, reverse=True)
                assert p <= values[0] + 1e-12 and dict(top).get(character, p) == p  # listed with the same number
                assert sum(values) <= 1 + 1e-9


def test_bad_options_and_seeds(sampler):
    cases = [(dict(length=0), "length is 0"), (dict(length=100_001), "from 1 to 100000"),
             (dict(temperature=0.0), "use greedy"), (dict(temperature=float("nan")), "temperature is nan"),
             (dict(top_k=-1), "top_k is -1"), (dict(top_k=VOCABULARY.size + 1), f"to {VOCABULARY.size}"),
             (dict(top_p=0.0), "top_p is 0.0"), (dict(top_p=1.5), "at most 1"), (dict(num=0), "num is 0"),
             (dict(num=65), "from 1 to 64")]
    for options, message in cases:
        arguments = dict(length=10, temperature=1.0, top_k=0, top_p=1.0, num=1) | options
        with pytest.raises(SeqlabError, match=message):
            check_sampling_options(vocabulary_size=VOCABULARY.size, **arguments)
        with pytest.raises(SeqlabError, match=message):
            sampler.stream("To", **arguments)  # raises at the call, before the first chunk
    with pytest.raises(SeqlabError, match="never saw: 'Z'"):
        sampler.stream("Zebra", 10)
    with pytest.raises(SeqlabError, match="chunk_size is 0"):
        sampler.stream("To", 10, chunk_size=0)
    with pytest.raises(SeqlabError, match="vocabulary has"):
        CharSampler(sampler.model, CharVocabulary.from_text("abc"))


def test_a_seed_longer_than_the_cap_is_refused_before_any_step(sampler):
    from seqlab.infer.sampling import MAX_SEED_CHARACTERS

    with pytest.raises(SeqlabError, match=f"at most {MAX_SEED_CHARACTERS:,} characters"):
        sampler.generate("To be " * MAX_SEED_CHARACTERS, 5)
