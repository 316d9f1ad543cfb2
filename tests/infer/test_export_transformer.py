"""An exported tiny Transformer is stock Keras too: plain Keras, in a process where seqlab cannot be imported, loads it
and predicts what seqlab's own scorer predicts.

One trained review encoder (learned positions, pooling 'last': the position table, the counted positions and the
one-hot pick in keras.ops) goes through the seqlab-free process of test_export.py; every shape (text with either
position signal, max_mean with the word-pair bag, attention pooling) is checked in this process against the
untrained model, which costs no training. (Every export also checks itself against seqlab's own model before it
is handed out: a text model against the cached NumPy sampler, export.py's _check_same_outputs.)
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from seqlab.runs import run_folder
from tests.infer.test_export import REVIEWS, TOLERANCE, predict_in_plain_keras
from tests.tiny_runs import CLASSIFY_TINY, train_tiny, write_review_table

TRANSFORMER = dict(cell="transformer", units=16, heads=2, num_layers=2)
CLASSIFIERS = {"last": {}}


@pytest.fixture(scope="module")
def predictions(tmp_path_factory) -> dict:
    """name -> (run folder, what plain Keras predicts with its exported model), and the runs root."""
    from seqlab.infer.export import export_to_folder

    folder = tmp_path_factory.mktemp("export-transformer")
    root = folder / "runs"
    root.mkdir()
    table = write_review_table(folder)
    runs, jobs = {}, {}
    for name, overrides in CLASSIFIERS.items():
        runs[name] = train_tiny(root, name, "classify", table, **{**CLASSIFY_TINY, **TRANSFORMER, **overrides})
    for name, run_dir in runs.items():
        out = folder / "exported" / name
        export_to_folder(run_dir, out, root)
        jobs[name] = {"model": str(out / "model.keras"), "reviews": REVIEWS}
    plain = predict_in_plain_keras(folder, jobs)
    assert plain["seqlab_importable"] is False
    return {"root": root, **{name: (run_dir, plain[name]) for name, run_dir in runs.items()}}


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_an_exported_review_encoder_judges_as_the_scorer(predictions, name):
    from seqlab.infer.scoring import ReviewScorer

    run_dir, plain = predictions[name]
    expected = ReviewScorer.from_run(run_dir, predictions["root"]).probabilities(REVIEWS)
    assert np.abs(np.asarray(plain) - expected).max() < TOLERANCE
    assert run_folder.read_status(run_dir)["engine"] in ("standard TensorFlow", "GPU")  # no recurrent engine to pick
    assert np.ptp(expected) > 0.01  # the reviews get different verdicts: the comparison means something


@pytest.mark.parametrize("overrides", [dict(task="generate", positions="learned"),
                                       dict(task="generate", positions="sinusoidal", dropout=0.1),
                                       dict(pooling="max_mean", word_pairs=64, positions="sinusoidal"),
                                       dict(pooling="attention", dropout=0.1)])
def test_every_shape_has_a_stock_twin(overrides):
    import tensorflow as tf

    from seqlab.config import ModelConfig, TrainConfig
    from seqlab.encoding.vocabulary import make_review_vectorizer
    from seqlab.infer import export
    from seqlab.model.builder import build_model

    config = ModelConfig(**{"task": "classify", "vocabulary_size": 100, **TRANSFORMER, **overrides})
    if config.task == "generate":
        model = build_model(config, 11, sequence_length=12)
        stock, probe = export._generator(config, model), np.arange(10, dtype=np.int32)[None] % 11
    else:
        vectorizer = make_review_vectorizer(REVIEWS, vocabulary_size=100, max_length=12)
        model = build_model(config, vectorizer=vectorizer, sequence_length=12)
        stock, probe = export._classifier(config, model), tf.constant(REVIEWS)
    export._copy_weights(model, stock)
    expected, actual = np.asarray(model(probe)), np.asarray(stock(probe))
    assert np.abs(expected - actual).max() < 1e-5 and np.ptp(expected) > 1e-3
    if config.task == "generate":  # the export's own check, against the cached NumPy sampler, probes the context
        run = SimpleNamespace(model_config=config, train_config=TrainConfig(sequence_length=12))
        export._check_same_outputs(run, model, stock)
