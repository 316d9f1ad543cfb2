"""Evaluate a trained run on a split of its corpus or of another one (`python -m seqlab evaluate`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqlab.corpora import Corpus, load_corpus
from seqlab.errors import SeqlabError
from seqlab.loading import LoadedRun, load_run

SPLITS = ("validation", "test", "all")


def evaluate_run(run_dir: Path, corpus_name: str | None = None, split: str = "validation",
                 batch_size: int = 256) -> dict:
    """JSON-ready metrics: loss and accuracy; for reviews also precision, recall, F1 and the confusion matrix."""
    if split not in SPLITS:
        raise SeqlabError(f"Unknown split '{split}'", f"one of {', '.join(SPLITS)}", "choose validation or test")
    run = load_run(run_dir)
    corpus = load_corpus(corpus_name or run.train_config.corpus, allow_download=False)
    if corpus.task != run.model_config.task:
        raise SeqlabError(f"'{corpus.name}' is a {corpus.task} corpus but the run is a {run.model_config.task} model",
                          f"a {run.model_config.task} corpus", "pick a matching corpus")
    result = {"run": str(run.path), "corpus": corpus.name, "split": split}
    if run.model_config.task == "generate":
        result.update(_evaluate_generator(run, corpus, split, batch_size))
    else:
        result.update(_evaluate_classifier(run, corpus, split, batch_size))
    return result


def _evaluate_generator(run: LoadedRun, corpus: Corpus, split: str, batch_size: int) -> dict:
    from seqlab.datasets import make_windows, split_by_position

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
    total_loss = correct = count = 0.0
    for start in range(0, len(windows), batch_size):
        batch = windows[start:start + batch_size]
        logits = np.asarray(run.model(batch[:, :-1], training=False), dtype=np.float64)  # (batch, time, vocabulary)
        targets = batch[:, 1:]
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        total_loss -= np.take_along_axis(log_probs, targets[..., None], axis=-1).sum()
        correct += (logits.argmax(axis=-1) == targets).sum()
        count += targets.size
    loss = total_loss / count
    return {"characters": int(count), "loss": float(loss), "bits_per_character": float(loss / np.log(2)),
            "accuracy": float(correct / count)}


def _evaluate_classifier(run: LoadedRun, corpus: Corpus, split: str, batch_size: int) -> dict:
    import tensorflow as tf

    from seqlab.datasets import stratified_split

    if split == "test":
        if corpus.test_texts is None:
            raise SeqlabError(f"'{corpus.name}' has no test split", "a corpus with one (imdb-full, or a Stanford "
                              "aclImdb archive/folder given as a path)",
                              "pass --corpus ../shared/data/aclImdb_v1_reviews.tar.gz, or use --split validation")
        texts, labels = corpus.test_texts, np.asarray(corpus.test_labels)
    elif split == "validation":
        _, index = stratified_split(np.asarray(corpus.labels), 0.1, run.train_config.seed)
        texts, labels = [corpus.texts[i] for i in index], np.asarray(corpus.labels)[index]
    else:
        texts, labels = corpus.texts, np.asarray(corpus.labels)
    dataset = tf.data.Dataset.from_tensor_slices(tf.constant(list(texts))).batch(batch_size)
    probabilities = np.concatenate([np.asarray(run.model(batch, training=False))[:, 0] for batch in dataset])
    return classification_metrics(labels, probabilities)


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
