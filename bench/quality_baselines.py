"""The two baselines of `bench quality` (bench/quality.py), each beside a seqlab preset.

- The PyTorch reference for text: torch_reference.build_torch_model trained in its own process (TensorFlow and
  torch never share one) for a wall-clock budget, on the windows seqlab's trainer and evaluator cut from the same
  corpus (same vocabulary, same split by position), then scored on the same held-out windows.
- The bag-of-words baseline for reviews: scikit-learn's TF-IDF of words and word pairs + LogisticRegression, the
  usual strong linear baseline for IMDb, trained on the reviews seqlab trains on.
Neither imports TensorFlow at module level: the worker runs this file as `python -m … --torch-worker SPEC_JSON`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from bench.training import DATA_SEED, VOCABULARY_SIZE, Shape
from seqlab.errors import SeqlabError

REPOSITORY = Path(__file__).resolve().parents[1]
MARKER = "@@quality "  # prefix of the PyTorch worker's result line on stdout
BOW_C_VALUES = (1.0, 4.0, 16.0, 64.0)  # inverse regularisation strengths, picked on the validation 10%


def torch_phase(corpus: str, shape: Shape, seconds: float, max_steps: int, workspace: Path,
                timeout: float) -> dict:
    """The same windows as seqlab's trainer and evaluator (split_by_position, make_windows), trained in a
    subprocess: TensorFlow, loaded here, and torch never share a process."""
    if importlib.util.find_spec("torch") is None:
        return {"framework": "torch", "error": "torch not installed (pip install -r requirements-bench.txt)"}
    from seqlab.corpus.registry import load_corpus
    from seqlab.encoding.datasets import make_windows, split_by_position
    from seqlab.encoding.vocabulary import CharVocabulary
    from seqlab.runs import processes

    text = load_corpus(corpus).text
    vocabulary = CharVocabulary.from_text(text)  # as seqlab.train.trainer.prepare_data builds it
    if vocabulary.size > VOCABULARY_SIZE:
        raise SeqlabError(f"the corpus has {vocabulary.size} distinct characters", f"at most {VOCABULARY_SIZE} (the "
                          "PyTorch reference's output layer)", "use Tiny Shakespeare or a slice of it")
    train_ids, validation_ids = split_by_position(vocabulary.encode(text, unknown="skip"))
    paths = {"train_windows": workspace / "train_windows.npy", "validation_windows": workspace / "validation.npy"}
    np.save(paths["train_windows"], make_windows(train_ids, shape.sequence_length))
    np.save(paths["validation_windows"], make_windows(validation_ids, shape.sequence_length))
    spec = {"shape": asdict(shape), "seconds": seconds, "max_steps": max_steps, "threads": processes.threads_per_job(),
            **{name: str(path) for name, path in paths.items()}}
    command = [sys.executable, "-m", "bench.quality_baselines", "--torch-worker", json.dumps(spec)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPOSITORY)
    for line in completed.stdout.splitlines():
        if line.startswith(MARKER):
            return {"framework": "torch", "shape": asdict(shape), "vocabulary_size": vocabulary.size,
                    **json.loads(line[len(MARKER):])}
    error = completed.stderr.strip().splitlines()
    raise RuntimeError(f"the PyTorch worker exited ({completed.returncode}): {error[-1] if error else 'no message'}")


def torch_worker(spec: dict) -> dict:
    """Train for `seconds` of wall clock (shuffled windows, reshuffled each epoch), then score the held-out windows.

    The step is torch_reference's: autocast forward, float32 cross-entropy, backward, global-norm clip, Adam.
    """
    import torch
    import torch.nn.functional as functional

    from bench.torch_reference import build_torch_model

    shape, threads = Shape(**spec["shape"]), spec["threads"]
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(min(2, threads))
    torch.manual_seed(DATA_SEED)
    train = torch.from_numpy(np.load(spec["train_windows"])).long()  # (windows, sequence + 1)
    validation = torch.from_numpy(np.load(spec["validation_windows"])).long()
    model = build_torch_model(shape).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=shape.learning_rate)
    autocast = (lambda: torch.autocast(device_type="cpu", dtype=torch.bfloat16)) \
        if shape.precision == "bfloat16" else contextlib.nullcontext
    batches_per_epoch = max(1, len(train) // shape.batch_size)  # drop the remainder, as seqlab's pipeline does
    shuffler, steps, order, loss = np.random.default_rng(DATA_SEED), 0, None, None
    started = time.perf_counter()
    while time.perf_counter() - started < spec["seconds"] and not (spec["max_steps"] and steps >= spec["max_steps"]):
        if steps % batches_per_epoch == 0:
            order = torch.from_numpy(shuffler.permutation(len(train)))
        start = (steps % batches_per_epoch) * shape.batch_size
        window = train[order[start:start + shape.batch_size]]
        optimizer.zero_grad(set_to_none=True)
        with autocast():
            logits = model(window[:, :-1])  # (batch, time, vocabulary)
        loss = functional.cross_entropy(logits.float().reshape(-1, VOCABULARY_SIZE), window[:, 1:].reshape(-1))
        loss.backward()
        if shape.clip == "norm":
            torch.nn.utils.clip_grad_norm_(model.parameters(), shape.clip_threshold)
        optimizer.step()
        steps += 1
    training_seconds = time.perf_counter() - started
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():  # float32, as seqlab's evaluation
        for start in range(0, len(validation), 256):
            batch = validation[start:start + 256]
            logits, targets = model(batch[:, :-1]).float(), batch[:, 1:]
            total_loss += float(functional.cross_entropy(logits.reshape(-1, VOCABULARY_SIZE), targets.reshape(-1),
                                                         reduction="sum"))
            correct += int((logits.argmax(-1) == targets).sum())
            count += targets.numel()
    validation_loss = total_loss / max(1, count)
    return {"steps": steps, "training_seconds": round(training_seconds, 2),
            "epochs_seen": round(steps / batches_per_epoch, 3),
            "parameters": sum(p.numel() for p in model.parameters()), "torch": torch.__version__,
            "intra_op_threads": torch.get_num_threads(), "autocast_bfloat16": shape.precision == "bfloat16",
            "last_training_loss": float(loss) if loss is not None else None,
            "evaluation": {"characters": count, "loss": validation_loss,
                           "bits_per_character": validation_loss / math.log(2), "accuracy": correct / max(1, count)}}


def review_slice(archive: Path, workspace: Path, train_count: int, test_count: int) -> Path:
    """A small aclImdb folder (both classes alike, evenly spaced reviews) for --quick; returns its path."""
    from seqlab.corpus.registry import load_corpus

    corpus = load_corpus(str(archive))
    folder = workspace / "imdb-slice"
    for split, texts, labels, count in (("train", corpus.texts, corpus.labels, train_count),
                                        ("test", corpus.test_texts, corpus.test_labels, test_count)):
        for label in (0, 1):
            members = np.flatnonzero(np.asarray(labels) == label)  # sorted by (label, id): spread over both
            target = folder / "aclImdb" / split / ("pos" if label else "neg")
            target.mkdir(parents=True, exist_ok=True)
            for number, index in enumerate(members[np.linspace(0, len(members) - 1, count // 2).astype(int)]):
                (target / f"{number}_{7 if label else 3}.txt").write_text(texts[index], encoding="utf-8")
    return folder


def bag_of_words_phase(corpus_path: str, seed: int) -> dict:
    """TF-IDF of words and word pairs + LogisticRegression; C picked on seqlab's validation 10%, then tested."""
    try:
        from sklearn import __version__ as sklearn_version
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        return {"framework": "scikit-learn", "error": "scikit-learn not installed (pip install -r "
                "requirements-bench.txt)"}
    from seqlab.corpus.registry import load_corpus
    from seqlab.encoding.datasets import stratified_split
    from seqlab.infer.evaluation import classification_metrics

    corpus = load_corpus(corpus_path)
    labels = np.asarray(corpus.labels)
    train_index, validation_index = stratified_split(labels, 0.1, seed)  # the split seqlab's trainer makes
    started = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_df=0.95, sublinear_tf=True)
    features = vectorizer.fit_transform([corpus.texts[i] for i in train_index])
    validation_features = vectorizer.transform([corpus.texts[i] for i in validation_index])
    best = None
    for c_value in BOW_C_VALUES:
        classifier = LogisticRegression(C=c_value, max_iter=2000).fit(features, labels[train_index])
        accuracy = float((classifier.predict(validation_features) == labels[validation_index]).mean())
        if best is None or accuracy > best[0]:
            best = (accuracy, c_value, classifier)
    training_seconds = time.perf_counter() - started
    probabilities = best[2].predict_proba(vectorizer.transform(corpus.test_texts))[:, 1]
    return {"framework": "scikit-learn", "scikit_learn": sklearn_version, "model": "TfidfVectorizer(ngram_range=(1, "
            "2), min_df=2, max_df=0.95, sublinear_tf=True) + LogisticRegression", "chosen_c": best[1],
            "validation_accuracy": best[0], "features": len(vectorizer.vocabulary_),
            "train_reviews": len(train_index), "training_seconds": round(training_seconds, 2),
            "evaluation": classification_metrics(np.asarray(corpus.test_labels), probabilities)}


if __name__ == "__main__":  # the PyTorch worker, started by torch_phase: --torch-worker SPEC_JSON
    print(MARKER + json.dumps(torch_worker(json.loads(sys.argv[2]))), flush=True)
