"""An exported tiny Transformer is stock Keras too: plain Keras, in a process where seqlab cannot be imported, loads it
and predicts what seqlab's own sampler (the key/value-cached NumPy Transformer) and scorer predict.

A trained generator (sinusoidal positions, dropout) and review encoder (learned positions, pooling 'last') go
through the seqlab-free process of test_export.py; the other shapes (learned text positions, max_mean with the
word-pair bag, attention pooling) are checked in this process against the untrained model, which costs no training.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from seqlab.runs import run_folder
from tests.infer.test_export import PLAIN_KERAS, REVIEWS, SEED, TOLERANCE
from tests.tiny_runs import CLASSIFY_TINY, GENERATE_TINY, train_tiny, write_generation_text, write_review_table

TRANSFORMER = dict(cell="transformer", units=16, heads=2, num_layers=2)
GENERATORS = {"sinusoidal": dict(positions="sinusoidal", dropout=0.1)}
CLASSIFIERS = {"last": {}}


@pytest.fixture(scope="module")
def predictions(tmp_path_factory) -> dict:
    """name -> (run folder, what plain Keras predicts with its exported model), and the runs root."""
    from seqlab.infer.export import export_to_folder

    folder = tmp_path_factory.mktemp("export-transformer")
    root = folder / "runs"
    root.mkdir()
    text, table = write_generation_text(folder), write_review_table(folder)
    runs, jobs = {}, {}
    for name, overrides in GENERATORS.items():
        runs[name] = train_tiny(root, name, "generate", text, **{**GENERATE_TINY, **TRANSFORMER, **overrides})
    for name, overrides in CLASSIFIERS.items():
        runs[name] = train_tiny(root, name, "classify", table, **{**CLASSIFY_TINY, **TRANSFORMER, **overrides})
    for name, run_dir in runs.items():
        out = folder / "exported" / name
        export_to_folder(run_dir, out, root)
        if name in GENERATORS:
            vocabulary = json.loads((out / "vocabulary.json").read_text(encoding="utf-8"))["characters"]
            jobs[name] = {"model": str(out / "model.keras"), "ids": [vocabulary.index(c) for c in SEED]}
        else:
            jobs[name] = {"model": str(out / "model.keras"), "reviews": REVIEWS}
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    (elsewhere / "plain_keras.py").write_text(PLAIN_KERAS, encoding="utf-8")
    result = subprocess.run([sys.executable, "-I", "plain_keras.py", "jobs.json", "results.json"], cwd=elsewhere,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    plain = json.loads((elsewhere / "results.json").read_text(encoding="utf-8"))
    assert plain["seqlab_importable"] is False
    return {"root": root, **{name: (run_dir, plain[name]) for name, run_dir in runs.items()}}


@pytest.mark.parametrize("name", GENERATORS)
def test_an_exported_transformer_writes_what_the_cached_sampler_writes(predictions, name):
    from seqlab.infer.loading import load_sampler

    run_dir, plain = predictions[name]
    sampler = load_sampler(run_dir, predictions["root"])
    for prefix in (1, 7, len(SEED)):  # SEED is shorter than the context (20): no re-read
        logits, _ = sampler.model.warm(sampler.vocabulary.encode(SEED[:prefix])[None], sampler.model.initial_state(1))
        expected = np.exp(logits[0] - logits[0].max())
        difference = np.abs(np.asarray(plain)[prefix - 1] - expected / expected.sum()).max()
        assert difference < TOLERANCE, (name, prefix, difference)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_an_exported_review_encoder_judges_as_the_scorer(predictions, name):
    from seqlab.infer.scoring import ReviewScorer

    run_dir, plain = predictions[name]
    expected = ReviewScorer.from_run(run_dir, predictions["root"]).probabilities(REVIEWS)
    assert np.abs(np.asarray(plain) - expected).max() < TOLERANCE
    assert run_folder.read_status(run_dir)["engine"] in ("standard TensorFlow", "GPU")  # no recurrent engine to pick
    assert np.ptp(expected) > 0.01  # the reviews get different verdicts: the comparison means something


@pytest.mark.parametrize("overrides", [dict(task="generate", positions="learned"),
                                       dict(pooling="max_mean", word_pairs=64, positions="sinusoidal"),
                                       dict(pooling="attention", dropout=0.1)])
def test_every_shape_has_a_stock_twin(overrides):
    import tensorflow as tf

    from seqlab.config import ModelConfig
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
