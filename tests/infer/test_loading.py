"""Loading trained runs: only run folders of the runs root, only model files whose checksum matches.

The tiny runs are trained in-process by tests/tiny_runs.py, which test_scoring and test_cli_generation share.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from seqlab.errors import SeqlabError
from seqlab.runs import run_folder
from tests.tiny_runs import CLASSIFY_TINY, GENERATE_TINY, train_tiny, write_generation_text, write_review_table


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """One tiny generation run and one tiny classify run in a module-wide runs root."""
    folder = tmp_path_factory.mktemp("loading")
    root = folder / "runs"
    root.mkdir()
    return {"root": root.resolve(), "folder": folder,
            "generate": train_tiny(root, "tiny-generate", "generate", write_generation_text(folder), **GENERATE_TINY),
            "classify": train_tiny(root, "tiny-classify", "classify", write_review_table(folder), **CLASSIFY_TINY)}


@pytest.fixture
def root(trained, monkeypatch) -> Path:
    monkeypatch.setenv("SEQLAB_RUNS", str(trained["root"]))
    return trained["root"]


def test_loads_runs_of_the_root(trained, root):
    from seqlab.infer.loading import load_run

    run = load_run(trained["generate"])
    assert run.model_config.task == "generate" and run.vocabulary is not None and run.status["state"] == "finished"
    assert run.model.output_shape[-1] == run.vocabulary.size
    review = load_run(trained["classify"])
    assert review.model_config.bidirectional and review.vocabulary is None


def test_load_sampler_generates_from_the_seed(trained, root):
    from seqlab.infer.loading import load_sampler

    text = load_sampler(trained["generate"]).generate("HAMLET", 40, random_seed=3)[0]
    assert text.startswith("HAMLET") and len(text) == len("HAMLET") + 40


def test_a_run_outside_the_root_is_refused(trained, root, tmp_path):
    from seqlab.infer.loading import load_run

    outside = tmp_path / "elsewhere" / "copied-run"
    shutil.copytree(trained["generate"], outside)  # a complete run, checksums and all
    with pytest.raises(SeqlabError, match="is not a run of the runs root"):
        load_run(outside)
    nested = root / "folder" / "copied-run"  # under the root, but not an entry of it
    shutil.copytree(trained["generate"], nested)
    with pytest.raises(SeqlabError, match="is not a run of the runs root"):
        load_run(nested)
    with pytest.raises(SeqlabError, match="not a seqlab run folder"):
        load_run(tmp_path)


def test_a_run_linked_into_the_root_loads(trained, root, tmp_path):
    """`train --out elsewhere`: the job runner links the folder into the root, so it counts as a run."""
    from seqlab.infer.loading import load_run
    from seqlab.runs import jobs

    outside = tmp_path / "my-experiment"
    shutil.copytree(trained["generate"], outside)
    link = jobs._link_into_root(outside, root)
    try:
        assert link.is_symlink() and link.parent == root
        assert load_run(outside).path == outside.resolve()
        assert load_run(link).path == outside.resolve()
    finally:
        link.unlink()
    with pytest.raises(SeqlabError, match="is not a run of the runs root"):
        load_run(outside)


def test_another_root_is_used_when_given(trained, root, tmp_path):
    from seqlab.infer.loading import load_run

    other_root = tmp_path / "other-root"
    shutil.copytree(trained["generate"], other_root / "run")
    with pytest.raises(SeqlabError, match="is not a run of the runs root"):
        load_run(other_root / "run")
    assert load_run(other_root / "run", root=other_root).model_config.task == "generate"


def test_a_changed_model_file_is_refused(trained, root):
    from seqlab.infer.loading import load_run

    copy = root / "tampered"
    shutil.copytree(trained["generate"], copy)
    try:
        with open(copy / run_folder.BEST_MODEL, "ab") as file:
            file.write(b"\0")
        with pytest.raises(SeqlabError, match="checksum does not match"):
            load_run(copy)
        (copy / run_folder.BEST_MODEL).unlink()
        with pytest.raises(SeqlabError, match="has no model.keras yet"):
            load_run(copy)
    finally:
        shutil.rmtree(copy)


def test_wrong_task_is_refused(trained, root):
    from seqlab.infer.loading import load_sampler
    from seqlab.infer.scoring import ReviewScorer

    with pytest.raises(SeqlabError, match="is a classify run, so it cannot generate text"):
        load_sampler(trained["classify"])
    with pytest.raises(SeqlabError, match="is a generate run, so it cannot score reviews"):
        ReviewScorer.from_run(trained["generate"])


def test_evaluate_reviews_with_mistakes(trained, root):
    """evaluate_run (which loads runs through load_run) scores reviews with the fast scorer."""
    import numpy as np

    from seqlab.corpus.registry import load_corpus
    from seqlab.infer.evaluation import classification_metrics, evaluate_run
    from seqlab.infer.scoring import ReviewScorer

    corpus = load_corpus(trained["folder"] / "reviews.csv")
    probabilities = ReviewScorer.from_run(trained["classify"]).probabilities(corpus.texts)
    result = evaluate_run(trained["classify"], str(trained["folder"] / "reviews.csv"), split="all", examples=4)
    expected = classification_metrics(corpus.labels, probabilities)
    assert result["loss"] == pytest.approx(expected["loss"], abs=1e-6)
    assert result["confusion_matrix"] == expected["confusion_matrix"]
    wrong = int(np.sum((probabilities > 0.5) != corpus.labels))
    mistakes = result["mistakes"]
    assert len(mistakes) == min(4, wrong)
    confidence = [abs(m["probability_positive"] - 0.5) for m in mistakes]
    assert confidence == sorted(confidence, reverse=True)
    for mistake in mistakes:
        assert (mistake["probability_positive"] > 0.5) != (mistake["label"] == "positive")
        assert mistake["text"] in corpus.texts
    assert "mistakes" not in evaluate_run(trained["classify"], str(trained["folder"] / "reviews.csv"), split="all")
    with pytest.raises(SeqlabError, match="examples is -1"):
        evaluate_run(trained["classify"], split="all", examples=-1)


def test_evaluation_has_a_review_cap(trained, root, monkeypatch):
    from seqlab.infer import evaluation

    monkeypatch.setattr(evaluation, "MAX_EVALUATION_REVIEWS", 50)
    with pytest.raises(SeqlabError, match="holds 60 reviews.*at most 50 reviews"):
        evaluation.evaluate_run(trained["classify"], str(trained["folder"] / "reviews.csv"), split="all")


def test_evaluate_generator(trained, root):
    import math

    from seqlab.infer.evaluation import evaluate_run

    result = evaluate_run(trained["generate"], split="validation")
    assert result["characters"] > 0 and math.isfinite(result["loss"]) and 0 <= result["accuracy"] <= 1
    assert result["bits_per_character"] == pytest.approx(result["loss"] / math.log(2))


def test_mistakes_most_confident_first():
    import numpy as np

    from seqlab.infer.evaluation import mistakes

    texts = ["right", "slightly wrong", "very wrong", "wrong", "also right"]
    labels = np.array([1, 1, 0, 0, 0])
    probabilities = np.array([0.9, 0.45, 0.97, 0.7, 0.2], np.float32)
    found = mistakes(texts, labels, probabilities, limit=2)
    assert [m["text"] for m in found] == ["very wrong", "wrong"]
    assert found[0] == {"text": "very wrong", "label": "negative", "probability_positive": pytest.approx(0.97)}
    assert [m["text"] for m in mistakes(texts, labels, probabilities, limit=10)] == [
        "very wrong", "wrong", "slightly wrong"]
