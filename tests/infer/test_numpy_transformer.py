"""The Transformer's cached NumPy generation against the Keras model it reads (the issue's must-show: cached
generation equals the uncached model), its window past the context, the cost of a step, and the CLI's path."""

from __future__ import annotations

import numpy as np
import pytest

from seqlab.config import ModelConfig
from seqlab.errors import SeqlabError
from seqlab.infer.numpy_transformer import NumpyTransformer
from seqlab.infer.sampling import numpy_model
from tests.tiny_runs import train_tiny, write_generation_text

VOCABULARY, CONTEXT, HALF = 12, 16, 8
TOLERANCE = 2e-4  # float32, relative to the logits' scale


def keras_transformer(positions: str, seed: int = 0):
    """A tiny Transformer with random weights everywhere (biases and norms too), so every term matters."""
    from seqlab.model.builder import build_model

    config = ModelConfig(cell="transformer", units=16, heads=2, num_layers=2, positions=positions)
    model = build_model(config, VOCABULARY, sequence_length=CONTEXT)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


@pytest.fixture(scope="module")
def models() -> dict:
    return {kind: keras_transformer(kind) for kind in ("learned", "sinusoidal")}


def ids(batch: int, length: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, VOCABULARY, (batch, length)).astype(np.int32)


def assert_close(actual, expected) -> None:
    expected = np.asarray(expected)
    assert np.max(np.abs(actual - expected)) <= TOLERANCE * max(1.0, float(np.max(np.abs(expected))))


@pytest.mark.parametrize("positions", ["learned", "sinusoidal"])
def test_cached_steps_equal_the_uncached_model_at_every_position(models, positions):
    model, text = models[positions], ids(2, CONTEXT)
    generator = numpy_model(model)
    assert isinstance(generator, NumpyTransformer)
    expected = np.asarray(model(text))  # (batch, time, vocabulary): the whole context read at once
    state = generator.initial_state(2)
    for t in range(CONTEXT):
        logits, state = generator.step(text[:, t], state)
        assert_close(logits, expected[:, t])
    warmed = generator.warm(text[:, :5], generator.initial_state(2))[0]  # the seed's path: a block at once
    assert_close(warmed, expected[:, 4])


def test_past_the_context_the_logits_are_the_models_on_the_window_re_read(models):
    model, text = models["learned"], ids(2, 3 * CONTEXT, seed=2)
    generator = NumpyTransformer.from_keras(model)
    state, re_reads = generator.initial_state(2), 0
    for t in range(text.shape[1]):
        logits, state = generator.step(text[:, t], state)
        window = int(state[1][0])
        if t >= CONTEXT and window in (HALF, CONTEXT):  # just re-read, and the window full again
            re_reads += window == HALF
            assert_close(logits, np.asarray(model(text[:, t + 1 - window:t + 1]))[:, -1])
    assert re_reads == 4  # at characters 16, 25, 34 and 43: every CONTEXT - HALF + 1
    long_seed = generator.warm(text, generator.initial_state(2))[0]  # a long seed encodes only the last window
    assert_close(long_seed, logits)


def test_each_step_computes_one_position_and_grows_the_cache_by_one(models):
    generator = NumpyTransformer.from_keras(models["sinusoidal"])
    state = generator.initial_state(1)
    keys = state[2]
    lengths, costs = [], []
    for t in range(CONTEXT + HALF + 3):
        before = generator.positions_computed
        generator.step(np.array([t % VOCABULARY]), state)
        lengths.append(int(state[1][0]))
        costs.append(generator.positions_computed - before)
    full = CONTEXT - HALF + 1  # characters from one re-read to the next
    assert lengths == [*range(1, CONTEXT + 1), *range(HALF, CONTEXT + 1), *range(HALF, HALF + 2)]
    assert costs == [1] * CONTEXT + [HALF] + [1] * (full - 1) + [HALF, 1]
    assert state[2] is keys and keys.shape[2] == CONTEXT  # one buffer of the context's size, written in place


def test_a_model_without_the_named_layers_is_refused():
    import keras

    inputs = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(VOCABULARY, 8, name="embedding")(inputs)
    x = keras.layers.MultiHeadAttention(2, 4, name="block_0_attention")(x, x, use_causal_mask=True)
    model = keras.Model(inputs, keras.layers.Dense(VOCABULARY, name="logits")(x))
    with pytest.raises(SeqlabError, match="no layer 'positions'"):
        numpy_model(model)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A tiny Transformer run trained by the real worker (its progress samples go through the same sampler)."""
    folder = tmp_path_factory.mktemp("transformer")
    root = folder / "runs"
    root.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEQLAB_RUNS", str(root))
        return train_tiny(root, "20260101-000000-generate-transformer", "generate", write_generation_text(folder),
                          cell="transformer", units=16, heads=2, num_layers=1, sequence_length=CONTEXT, batch_size=8,
                          max_steps=6)


def test_a_trained_transformer_run_generates_through_the_cli(trained_run, monkeypatch, capsys):
    """`seqlab generate --greedy` writes what the Keras model picks when it re-reads each window from scratch."""
    from seqlab.cli.main import main
    from seqlab.infer.loading import load_run, load_sampler

    monkeypatch.setenv("SEQLAB_RUNS", str(trained_run.parent))
    assert main(["generate", str(trained_run), "--seed", "HAMLET", "--length", "30", "--greedy"]) == 0
    printed = capsys.readouterr().out[:-1]  # the command ends the text with a newline
    assert printed.startswith("HAMLET") and len(printed) == len("HAMLET") + 30
    assert isinstance(load_sampler(trained_run).model, NumpyTransformer)
    loaded = load_run(trained_run)
    text = list(loaded.vocabulary.encode("HAMLET"))
    for _ in range(30):  # uncached: the window NumPy ends on, re-read by Keras for every character
        total = len(text)
        window = total if total <= CONTEXT else HALF + (total - CONTEXT - 1) % (CONTEXT - HALF + 1)
        logits = np.asarray(loaded.model(np.array([text[-window:]], np.int32)))[0, -1]
        text.append(int(np.argmax(logits)))
    assert printed == "".join(loaded.vocabulary.characters[i] for i in text)


def test_the_generate_page_writes_with_a_transformer_run(trained_run, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO

    monkeypatch.setenv("SEQLAB_RUNS", str(trained_run.parent))
    app = AppTest.from_file(str(REPO / "pages" / "generate.py"), default_timeout=60).run()
    assert any("Tiny Transformer" in markdown.value for markdown in app.markdown)
    next(area for area in app.text_area if area.label == "Seed text").input("The ")
    next(number for number in app.number_input if number.label == "Characters to write").set_value(40)
    app.toggle[0].set_value(False)  # plain text, as code blocks
    app = next(button for button in app.button if button.label == "Generate").click().run()
    assert not app.exception and not app.error
    assert [len(code.value) for code in app.code] == [len("The ") + 40] and app.code[0].value.startswith("The ")
