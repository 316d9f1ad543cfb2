"""Evaluate a trained run on a split of its corpus or of another one (`python -m seqlab evaluate`).

Reviews go through scoring.ReviewScorer: one vectorizer call per batch, a traced model body, batches cut to
their longest review. The eager `model(batch)` calls this replaced ran Keras' recurrent loop op by op: Stanford's
24,996 test reviews took 7.2 minutes with a 32-unit bidirectional LSTM (2.7 CPU-minutes) and now take well under
a minute (about 14 CPU-seconds, half of it parsing the archive). Generation windows run through a traced forward
pass for the same reason. The parsed corpus is kept for the next evaluation in the same process (the app's).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from seqlab.corpus.registry import Corpus, load_corpus
from seqlab.corpus.statistics import VALIDATION_FRACTION
from seqlab.errors import SeqlabError
from seqlab.infer.loading import LoadedRun, check_run_location, load_run
from seqlab.runs import run_folder

SPLITS = ("validation", "test", "all")
MAX_EVALUATION_REVIEWS = 200_000  # Stanford's test set has 25,000; scored in chunks (scoring.SCORE_ROWS)


def evaluate_run(run_dir: Path, corpus_name: str | None = None, split: str = "validation",
                 batch_size: int = 256, examples: int = 0, root: Path | None = None) -> dict:
    """JSON-ready metrics: loss and accuracy; for reviews also precision, recall, F1 and the confusion matrix.

    examples > 0 (reviews only) adds "mistakes": up to that many misclassified reviews as
    {text, label, probability_positive}, the most confident mistakes first.
    """
    if split not in SPLITS:
        raise SeqlabError(f"Unknown split '{split}'", f"one of {', '.join(SPLITS)}", "choose validation or test")
    if not isinstance(examples, int) or isinstance(examples, bool) or examples < 0:
        raise SeqlabError(f"examples is {examples!r}", "a whole number, 0 or more", "ask for 0 to 100 examples")
    if run_folder.read_configs(check_run_location(run_dir, root))[0].task == "forecast":
        return _evaluate_forecaster(run_dir, corpus_name, split, root)
    run = load_run(run_dir, root)
    corpus = _corpus(corpus_name or run.train_config.corpus)
    if corpus.task != run.model_config.task:
        raise SeqlabError(f"'{corpus.name}' is a {corpus.task} corpus but the run is a {run.model_config.task} model",
                          f"a {run.model_config.task} corpus", "pick a matching corpus")
    result = {"run": str(run.path), "corpus": corpus.name, "split": split}
    if run.model_config.task == "generate":
        result.update(_evaluate_generator(run, corpus, split, batch_size))
    else:
        result.update(_evaluate_classifier(run, corpus, split, batch_size, examples))
    return result


def _evaluate_forecaster(run_dir: Path, corpus_name: str | None, split: str, root: Path | None) -> dict:
    """A forecast run on its own series: "test" (and "all") is the held-out tail, forecast from its start;
    "validation" the validation windows. MAE and RMSE of the model and of the two baselines, in the series' units."""
    from seqlab.infer.forecasting import evaluate_forecast

    if corpus_name:
        raise SeqlabError("A forecast run is evaluated on its own series only", "no --corpus",
                          "leave out --corpus (train another run to forecast another series)")
    return evaluate_forecast(run_dir, "test" if split == "all" else split, root)


def _corpus(name: str) -> Corpus:
    """The corpus, parsed once per process for the same file (the app evaluates a run on several splits)."""
    path = Path(name).expanduser()
    try:
        stamp = (path.stat().st_mtime_ns, path.stat().st_size)
    except OSError:
        stamp = None  # a built-in name, or a missing path that load_corpus explains
    return _parsed_corpus(name, stamp)


@lru_cache(maxsize=1)
def _parsed_corpus(name: str, stamp: tuple | None) -> Corpus:
    return load_corpus(name, allow_download=False)


def _evaluate_generator(run: LoadedRun, corpus: Corpus, split: str, batch_size: int) -> dict:
    from seqlab.encoding.datasets import make_windows, split_by_position

    if split == "test":
        raise SeqlabError(f"'{corpus.name}' has no test split", "validation (the last 10%) or all",
                          "use --split validation")
    ids = run.vocabulary.encode(corpus.text, unknown="skip")
    if split == "validation":
        ids = split_by_position(ids)[1]
    windows = make_windows(ids, run.train_config.sequence_length)
    if not len(windows):
        raise SeqlabError("The text is too short to evaluate", "at least one window of the run's sequence length",
                          "use a longer text or --split all")
    import tensorflow as tf

    forward = tf.function(lambda ids: run.model(ids, training=False), reduce_retracing=True,
                          input_signature=[tf.TensorSpec([None, None], tf.int32)])
    total_loss = correct = count = 0.0
    for start in range(0, len(windows), batch_size):
        batch = windows[start:start + batch_size]
        logits = np.asarray(forward(tf.constant(batch[:, :-1], tf.int32)), dtype=np.float64)  # (batch, time, vocab)
        targets = batch[:, 1:]
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        total_loss -= np.take_along_axis(log_probs, targets[..., None], axis=-1).sum()
        correct += (logits.argmax(axis=-1) == targets).sum()
        count += targets.size
    loss = total_loss / count
    return {"characters": int(count), "loss": float(loss), "bits_per_character": float(loss / np.log(2)),
            "accuracy": float(correct / count)}


def _evaluate_classifier(run: LoadedRun, corpus: Corpus, split: str, batch_size: int, examples: int) -> dict:
    from seqlab.corpus.imdb import clean_review
    from seqlab.encoding.datasets import stratified_split
    from seqlab.infer.scoring import ReviewScorer

    if split == "test":
        if corpus.test_texts is None:
            raise SeqlabError(f"'{corpus.name}' has no test split", "a corpus with one (imdb-full, or a Stanford "
                              "aclImdb archive/folder given as a path)",
                              "pass --corpus ../shared/data/aclImdb_v1_reviews.tar.gz, or use --split validation")
        texts, labels = corpus.test_texts, np.asarray(corpus.test_labels)
    elif split == "validation":
        _, index = stratified_split(np.asarray(corpus.labels), VALIDATION_FRACTION, run.train_config.seed)
        texts, labels = [corpus.texts[i] for i in index], np.asarray(corpus.labels)[index]
    else:
        texts, labels = corpus.texts, np.asarray(corpus.labels)
    if len(texts) > MAX_EVALUATION_REVIEWS:
        raise SeqlabError(f"The {split} part of '{corpus.name}' holds {len(texts):,} reviews",
                          f"at most {MAX_EVALUATION_REVIEWS:,} reviews to evaluate on",
                          "evaluate on a smaller part (--split validation) or a smaller file")
    texts = [clean_review(text) for text in texts]  # as training saw them (corpora already clean; idempotent)
    probabilities = ReviewScorer(run.model, run.path.name)._probabilities_of_clean(texts, batch_size)
    result = classification_metrics(labels, probabilities)
    if examples:
        result["mistakes"] = mistakes(texts, labels, probabilities, examples)
    return result


def mistakes(texts: list[str], labels: np.ndarray, probabilities: np.ndarray, limit: int) -> list[dict]:
    """Misclassified reviews, the most confident first (farthest from 0.5 on the wrong side)."""
    labels = np.asarray(labels).astype(int)
    wrong = np.flatnonzero((probabilities > 0.5).astype(int) != labels)
    wrong = wrong[np.argsort(-np.abs(probabilities[wrong].astype(np.float64) - 0.5), kind="stable")][:limit]
    return [{"text": texts[i], "label": "positive" if labels[i] else "negative",
             "probability_positive": float(probabilities[i])} for i in wrong]


def classification_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict:
    labels = np.asarray(labels).astype(int)
    clipped = np.clip(probabilities.astype(np.float64), 1e-7, 1 - 1e-7)
    loss = -np.mean(labels * np.log(clipped) + (1 - labels) * np.log(1 - clipped))
    predicted = (probabilities > 0.5).astype(int)
    tp = int(((predicted == 1) & (labels == 1)).sum())
    tn = int(((predicted == 0) & (labels == 0)).sum())
    fp = int(((predicted == 1) & (labels == 0)).sum())
    fn = int(((predicted == 0) & (labels == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "reviews": int(len(labels)),
        "loss": float(loss),
        "accuracy": float((predicted == labels).mean()),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "confusion_matrix": {"labels": ["negative", "positive"], "rows": "true class", "columns": "predicted class",
                             "matrix": [[tn, fp], [fn, tp]]},
    }
