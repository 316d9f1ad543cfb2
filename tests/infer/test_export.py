"""Exported models leave seqlab: plain Keras loads them in a process where seqlab cannot be imported, and they
predict what seqlab's own sampler and scorer predict.

Tiny runs of every shape the builder makes (three cells, two layers with dropout, bidirectional, max_mean pooling
with the word-pair bag, attention pooling) are trained here, exported, and loaded by one separate Python process:
isolated mode (-I), started in an empty folder outside the checkout, and with an import hook that refuses any
seqlab module.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from seqlab.corpus.imdb import clean_review
from seqlab.errors import SeqlabError
from seqlab.runs import run_folder
from tests.tiny_runs import CLASSIFY_TINY, GENERATE_TINY, train_tiny, write_generation_text, write_review_table

GENERATORS = {"lstm": {}, "gru": dict(cell="gru"), "simple-rnn": dict(cell="simple_rnn"),
              "lstm-2-layers": dict(num_layers=2, dropout=0.1, weight_dropout=0.1)}
CLASSIFIERS = {"bi-lstm": {}, "bi-gru-max-mean-pairs": dict(cell="gru", pooling="max_mean", word_pairs=64,
                                                           dropout=0.1),
               "rnn-2-layers": dict(cell="simple_rnn", num_layers=2, bidirectional=False),
               "bi-lstm-attention": dict(pooling="attention")}
SEED = "To be, or not to be"
PREFIXES = (1, 7, len(SEED))  # next-character distributions compared after these many seed characters
REVIEWS = ["a good film, really good", "awful.<br /><br />A bad film number 3, awful", "good",
           "a bad film number 7 awful awful and then a good film with good acting but an awful ending overall",
           "really\u2028good\u00a0film", "zzqx unknownword"]
TOLERANCE = 1e-5  # probabilities, float32 NumPy vs float32 Keras

# Runs in the separate process: loads every exported model with Keras alone and writes its predictions.
PLAIN_KERAS = r'''
import importlib.abc, json, re, sys

class NoSeqlab(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "seqlab":
            raise ImportError("seqlab is not installed here")

sys.meta_path.insert(0, NoSeqlab())
try:
    import seqlab  # noqa: F401
    seqlab_importable = True
except ImportError:
    seqlab_importable = False
import keras, numpy as np

def clean(text):  # the model card's cleaning
    return re.sub(r"\s+", " ", re.sub(r"<br\s*/?>", " ", text, flags=re.IGNORECASE)).strip()

jobs = json.load(open(sys.argv[1], encoding="utf-8"))
results = {"seqlab_importable": seqlab_importable, "keras": keras.__version__}
for name, job in jobs.items():
    model = keras.saving.load_model(job["model"])  # safe_mode: only Keras' own classes
    if "ids" in job:
        logits = model.predict(np.array([job["ids"]], dtype=np.int32), verbose=0)[0].astype(np.float64)
        p = np.exp(logits - logits.max(axis=-1, keepdims=True))
        results[name] = (p / p.sum(axis=-1, keepdims=True)).tolist()
    else:
        texts = np.array([clean(text) for text in job["reviews"]], dtype=object)
        results[name] = model.predict(texts, verbose=0)[:, 0].tolist()
json.dump(results, open(sys.argv[2], "w", encoding="utf-8"))
'''


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("export")
    root = folder / "runs"
    root.mkdir()
    text, table = write_generation_text(folder), write_review_table(folder)
    made = {"root": root, "folder": folder}
    for name, overrides in GENERATORS.items():
        made[name] = train_tiny(root, f"generate-{name}", "generate", text, **{**GENERATE_TINY, **overrides})
    for name, overrides in CLASSIFIERS.items():
        made[name] = train_tiny(root, f"classify-{name}", "classify", table, **{**CLASSIFY_TINY, **overrides})
    return made


@pytest.fixture(scope="module")
def exported(runs) -> dict:
    """Every run exported to a folder, and what plain Keras in a seqlab-free process predicts with it."""
    from seqlab.infer.export import export_to_folder

    folder, jobs = runs["folder"], {}
    for name in [*GENERATORS, *CLASSIFIERS]:
        out = folder / "exported" / name
        export_to_folder(runs[name], out, runs["root"])
        if name in GENERATORS:
            vocabulary = json.loads((out / "vocabulary.json").read_text(encoding="utf-8"))["characters"]
            jobs[name] = {"model": str(out / "model.keras"), "ids": [vocabulary.index(c) for c in SEED]}
        else:
            jobs[name] = {"model": str(out / "model.keras"), "reviews": REVIEWS}
    return predict_in_plain_keras(folder, jobs)


def predict_in_plain_keras(folder, jobs: dict) -> dict:
    """Run PLAIN_KERAS on `jobs` (name -> exported model and its inputs) in a process that cannot import seqlab:
    no seqlab beside the script, and -I drops the checkout from sys.path. Returns its results by name."""
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    (elsewhere / "plain_keras.py").write_text(PLAIN_KERAS, encoding="utf-8")
    result = subprocess.run([sys.executable, "-I", "plain_keras.py", "jobs.json", "results.json"], cwd=elsewhere,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((elsewhere / "results.json").read_text(encoding="utf-8"))


def test_plain_keras_loads_them_without_seqlab(exported):
    assert exported["seqlab_importable"] is False
    assert set(exported) >= {*GENERATORS, *CLASSIFIERS}


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_predict_what_the_numpy_sampler_predicts(runs, exported, name):
    from seqlab.infer.loading import load_sampler

    sampler = load_sampler(runs[name], runs["root"])
    plain = np.asarray(exported[name])  # (seed length, vocabulary): the distribution after each character
    for prefix in PREFIXES:
        logits, _ = sampler.model.warm(sampler.vocabulary.encode(SEED[:prefix])[None], sampler.model.initial_state(1))
        expected = np.exp(logits[0] - logits[0].max())
        expected /= expected.sum()
        difference = np.abs(plain[prefix - 1] - expected).max()
        assert difference < TOLERANCE, (name, prefix, difference)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifiers_predict_what_the_scorer_predicts(runs, exported, name):
    from seqlab.infer.scoring import ReviewScorer

    expected = ReviewScorer.from_run(runs[name], runs["root"]).probabilities(REVIEWS)
    difference = np.abs(np.asarray(exported[name]) - expected).max()
    assert difference < TOLERANCE, (name, difference)
    assert np.ptp(expected) > 0.01  # the reviews get different verdicts: the comparison means something


def test_the_zip_holds_the_model_its_settings_vocabulary_metrics_and_card(runs):
    from seqlab.infer.export import export_zip

    for name in ("lstm", "bi-gru-max-mean-pairs"):
        archive = zipfile.ZipFile(io.BytesIO(export_zip(runs[name], runs["root"])))
        assert sorted(archive.namelist()) == ["README.md", "config.json", "metrics.jsonl", "model.keras",
                                              "vocabulary.json"]
        assert archive.read("config.json") == (runs[name] / run_folder.CONFIG).read_bytes()
        assert archive.read("metrics.jsonl") == (runs[name] / run_folder.METRICS).read_bytes()
        model_config = json.loads(archive.read("config.json"))["model"]
        card = archive.read("README.md").decode("utf-8")
        status = run_folder.read_status(runs[name])
        assert 'keras.saving.load_model("model.keras")' in card and "teaching" in card
        assert f"{status['best_val_loss']:.4f}" in card and str(runs["folder"]) not in card  # no local paths
        assert "reviews.csv" in card or "hamlet-excerpt.txt" in card
        words = json.loads(archive.read("vocabulary.json"))
        if model_config["task"] == "generate":
            assert words["characters"] == json.loads((runs[name] / "vocabulary.json").read_text())["characters"]
            assert "np.random.choice" in card
        else:
            assert words["words"][:2] == ["", "[UNK]"] and "good" in words["words"]
            assert "def clean(text)" in card and "| model.word_pairs | 64 |" in card


def test_the_card_names_what_the_settings_mean_for_the_task(runs):
    from seqlab.infer.model_card import model_card

    model_config, train_config = run_folder.read_configs(runs["lstm"])
    card = model_card("r", model_config, train_config, run_folder.read_status(runs["lstm"]), seed='a"b')
    assert "word_pairs" not in card and "pooling" not in card  # classifier-only settings
    assert 'for c in "a\\"b"' in card and "the last 10% of the text" in card


def test_only_runs_seqlab_may_load_are_exported(runs, tmp_path):
    import shutil

    from seqlab.infer.export import export_to_folder

    copy = tmp_path / "copied-run"
    shutil.copytree(runs["lstm"], copy)
    with pytest.raises(SeqlabError, match="not a run of the runs root"):
        export_to_folder(copy, tmp_path / "out", runs["root"])
    unfinished = run_folder.create_run_folder(runs["root"] / "not-trained", *run_folder.read_configs(runs["lstm"]))
    with pytest.raises(SeqlabError, match="has no model.keras yet"):
        export_to_folder(unfinished, tmp_path / "out", runs["root"])
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(SeqlabError, match="is a file"):
        export_to_folder(runs["lstm"], tmp_path / "a-file", runs["root"])
    assert not (tmp_path / "out").exists()


def test_reviews_are_cleaned_as_the_card_says():
    """The card's clean() is clean_review: what reaches the vectorizer is what seqlab's scorer feeds it."""
    from seqlab.infer.model_card import CLASSIFY_USE

    lines = CLASSIFY_USE.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("def clean"))
    namespace = {}
    exec("import re\n" + "\n".join(lines[start:start + 2]), namespace)
    assert [namespace["clean"](text) for text in REVIEWS] == [clean_review(text) for text in REVIEWS]
