"""The tiny Transformer for text: causal, trainable through the trainer's loop, saved and loaded as .keras."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqlab.config import ModelConfig, TrainConfig
from seqlab.errors import SeqlabError
from seqlab.model.builder import SeqlabModel, build_model, compile_model
from seqlab.model.size import flops_per_token, parameter_count
from seqlab.model.transformer import PositionSignal, layer_names, sinusoidal_table
from seqlab.train.callbacks import TrainingClock
from seqlab.train.trainer import fit_in_rounds, optimizer_for

VOCABULARY, CONTEXT = 11, 12


def tiny(**overrides) -> ModelConfig:
    return ModelConfig(**{"cell": "transformer", "num_layers": 2, "units": 16, "heads": 4, **overrides})


def test_it_looks_only_back_and_names_its_layers():
    keras.utils.set_random_seed(0)
    model = build_model(tiny(), VOCABULARY, sequence_length=CONTEXT)
    ids = np.random.default_rng(0).integers(0, VOCABULARY, size=(2, CONTEXT)).astype("int32")
    changed = ids.copy()
    changed[:, 7] = (changed[:, 7] + 1) % VOCABULARY
    before, after = model(ids).numpy(), model(changed).numpy()
    assert before.shape == (2, CONTEXT, VOCABULARY)
    np.testing.assert_allclose(before[:, :7], after[:, :7], atol=1e-6)  # the earlier positions never saw it
    assert np.abs(before[:, 7:] - after[:, 7:]).max() > 1e-4
    names = {layer.name for layer in model.layers}
    for name in layer_names(2).values():
        assert set([name] if isinstance(name, str) else name) <= names
    assert model(ids[:, :5]).shape == (2, 5, VOCABULARY)  # shorter than the context: the first rows of the table


def test_learned_positions_are_a_table_of_context_rows_and_sinusoidal_ones_are_fixed():
    learned = build_model(tiny(positions="learned"), VOCABULARY, sequence_length=CONTEXT)
    fixed = build_model(tiny(positions="sinusoidal"), VOCABULARY, sequence_length=CONTEXT)
    assert learned.count_params() - fixed.count_params() == CONTEXT * 16
    assert learned.count_params() == parameter_count(tiny(positions="learned"), VOCABULARY, CONTEXT)
    assert fixed.count_params() == parameter_count(tiny(positions="sinusoidal"), VOCABULARY, CONTEXT)
    assert learned.get_layer("positions").get_weights()[0].shape == (CONTEXT, 16)
    assert fixed.get_layer("positions").get_weights() == []
    table = sinusoidal_table(CONTEXT, 16)
    assert table[0, 0::2].tolist() == [0.0] * 8 and table[0, 1::2].tolist() == [1.0] * 8
    assert table[3, 0] == pytest.approx(np.sin(3.0)) and table[3, 3] == pytest.approx(np.cos(3.0 / 10000 ** (2 / 16)))
    with pytest.raises(SeqlabError, match="context"):
        learned(np.zeros((1, CONTEXT + 1), dtype="int32"))
    with pytest.raises(SeqlabError, match="context length"):
        build_model(tiny(), VOCABULARY)


def test_it_trains_through_the_trainers_loop_and_survives_a_save(tmp_path):
    keras.utils.set_random_seed(1)
    model = build_model(tiny(positions="sinusoidal", dropout=0.1, num_layers=1), VOCABULARY, sequence_length=CONTEXT)
    compile_model(model, "generate", optimizer_for(TrainConfig(learning_rate=1e-2)))
    ids = np.tile(np.arange(CONTEXT + 1) % VOCABULARY, (16, 1)).astype("int32")  # a pattern easy to learn
    data = tf.data.Dataset.from_tensor_slices((ids[:, :-1], ids[:, 1:])).batch(8)
    clock = TrainingClock(total_steps=12, start_step=0, elapsed_before=0.0, time_budget_seconds=0.0)
    losses = []
    logger = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: losses.append(logs["loss"]))
    fit_in_rounds(model, data, data, clock, lambda speed: 12, [clock, logger])  # one round: one fit to trace
    assert clock.step == 12 and losses[-1] < losses[0] / 2
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, custom_objects={"SeqlabModel": SeqlabModel})
    assert isinstance(loaded.get_layer("positions"), PositionSignal)
    assert loaded.get_layer("positions").get_config()["kind"] == "sinusoidal"
    np.testing.assert_allclose(loaded(ids[:2, :-1]).numpy(), model(ids[:2, :-1]).numpy(), atol=1e-5)


@pytest.mark.parametrize(("pooling", "word_pairs"), [("last", 0), ("max_mean", 0), ("attention", 64)])
def test_a_review_encoder_reads_only_the_real_words(pooling, word_pairs):
    """Padding gets no attention: neither what the padding id's vector holds nor how much padding follows (a
    short review beside a long one, or alone) changes a verdict; the words themselves do."""
    from seqlab.encoding.vocabulary import make_review_vectorizer

    texts = ["good film", "a bad and very long film indeed, long and bad and long", "great"]
    vectorizer = make_review_vectorizer(texts, vocabulary_size=100, max_length=16)
    config = tiny(task="classify", units=8, heads=2, vocabulary_size=100, pooling=pooling, word_pairs=word_pairs,
                  bidirectional=True)  # (means nothing to a Transformer: it sees the whole review anyway)
    keras.utils.set_random_seed(2)
    model = build_model(config, vectorizer=vectorizer, sequence_length=16)
    assert model.count_params() == parameter_count(config, vectorizer.vocabulary_size(), 16)
    together = model(tf.constant(texts)).numpy()
    alone = np.concatenate([model(tf.constant([text])).numpy() for text in texts])
    np.testing.assert_allclose(together, alone, atol=1e-6)
    embedding = model.get_layer("embedding")
    table = embedding.get_weights()[0]
    table[0] = 50.0  # the padding row: would swamp every attention and every pooling if it were read
    embedding.set_weights([table])
    np.testing.assert_allclose(model(tf.constant(texts)).numpy(), together, atol=1e-6)
    table[1:] += np.random.default_rng(3).normal(size=table[1:].shape)  # (a constant shift LayerNorm would undo)
    embedding.set_weights([table])
    assert np.abs(model(tf.constant(texts)).numpy() - together).max() > 1e-3


def test_its_arithmetic_per_token_is_the_projections_the_mlp_and_attention_over_the_window():
    config = tiny(units=64, num_layers=2)
    per_layer = 2 * (12 * 64 * 64 + 2 * (100 + 1) / 2 * 64)  # text attends to (T + 1) / 2 positions on average
    assert flops_per_token(config, 65, 100) == int(2 * per_layer + 2 * 64 * 65)
    reviews = tiny(task="classify", units=64, num_layers=2, pooling="max_mean")
    assert flops_per_token(reviews, 1000, 100) == 2 * 2 * (12 * 64 * 64 + 2 * 100 * 64)
    from seqlab.model import estimate  # no steps through time: the arithmetic is the whole estimate

    assert estimate.step_seconds(config, 100, 6400, 65) == pytest.approx(
        6400 * flops_per_token(config, 65, 100) / estimate.FLOPS_PER_SECOND)


@pytest.mark.parametrize("task", ["generate", "classify"])
def test_the_tiny_transformer_presets_are_transformers_that_fit(task):
    from seqlab.model.memory import MB, estimate_peak_memory
    from seqlab.presets import PRESET_LABELS, preset_configs

    model, train = preset_configs(task, "tiny-transformer")
    assert model.cell == "transformer" and model.units % model.heads == 0 and train.time_budget_seconds == 300
    vocabulary = 65 if task == "generate" else model.vocabulary_size
    assert estimate_peak_memory(model, train, vocabulary).total < 2 * 1024 * MB
    assert "Transformer" in PRESET_LABELS["tiny-transformer"]
