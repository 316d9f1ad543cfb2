"""Score a memory-probe run where it matters: at the answer positions only, on lines it has never seen.

A probe corpus is mostly random distractor letters, so a run's validation accuracy (over every character) hardly
moves whether or not the model remembers the key; the one question is whether it writes the right answer after the
signpost. Each fresh line (seqlab/corpus/synthetic.py, another seed than the training text) is fed after a newline,
from the zero state a training window starts from, through the run's model in NumPy (seqlab/infer/numpy_cells.py, or
numpy_transformer.py for a Transformer, which looks back no further than its training window),
all lines side by side; the greedy guess (argmax) at the signpost is compared with the answer. The result is written
into the run folder as `probe.json`,

    {"corpus": "memory-copy-20", "kind": "copy", "distance": 20, "cell": "lstm", "accuracy": 0.97,
     "chance": 0.125, "lines": 500, "evaluated_at": 1764860000.0, "run_state": "finished"}

so the app reads it instead of loading the model again. Scoring is done after training, never during it: on a
2-core machine it would take CPU from a run that trains against a time budget.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from seqlab.corpus import synthetic
from seqlab.errors import SeqlabError
from seqlab.runs import run_folder
from seqlab.runs.states import RunState
from seqlab.runs.storage import write_json_atomic

PROBE = "probe.json"
EVALUATION_LINES = 500


def probe_corpus(run_dir: Path) -> tuple[str, int]:
    """(kind, distance) of the run's memory-probe corpus; SeqlabError for a run trained on anything else."""
    _, train = run_folder.read_configs(run_dir)
    parsed = synthetic.parse_name(train.corpus)
    if parsed is None:
        raise SeqlabError(f"{Path(run_dir).name} was trained on '{train.corpus}', not a memory-probe corpus",
                          "a run on memory-copy-N or memory-brackets-N", "start one with `python -m seqlab probe "
                          "memory`")
    return parsed


def answer_accuracy(model, vocabulary, kind: str, distance: int, count: int = EVALUATION_LINES) -> float:
    """The share of `count` fresh lines whose answer is the model's first guess at the signpost.
    `model`: a NumpyCharModel or NumpyTransformer; `vocabulary`: the run's CharVocabulary."""
    lines, answer_at = synthetic.evaluation_lines(kind, distance, count)
    prompts = np.stack([vocabulary.encode("\n" + line[:answer_at]) for line in lines])  # (lines, answer_at + 1)
    answers = vocabulary.encode("".join(line[answer_at] for line in lines))
    logits, _ = model.warm(prompts, model.initial_state(len(lines)))
    return float(np.mean(np.argmax(logits, axis=1) == answers))


def evaluate_run(run_dir: Path, root: Path | None = None, count: int = EVALUATION_LINES) -> dict:
    """Score the run's best model on fresh lines and write probe.json; returns what was written."""
    from seqlab.infer.loading import load_run
    from seqlab.infer.sampling import numpy_model

    kind, distance = probe_corpus(run_dir)
    run = load_run(Path(run_dir), root)
    accuracy = answer_accuracy(numpy_model(run.model), run.vocabulary, kind, distance, count)
    record = {"corpus": synthetic.corpus_name(kind, distance), "kind": kind, "distance": distance,
              "cell": run.model_config.cell, "accuracy": accuracy, "chance": synthetic.chance(kind), "lines": count,
              "evaluated_at": time.time(), "run_state": run.status.get("state")}
    write_json_atomic(Path(run_dir) / PROBE, record)
    return record


def read_probe(run_dir: Path) -> dict | None:
    """The run's probe.json, or None before it was scored (or if the file is unreadable)."""
    try:
        record = json.loads((Path(run_dir) / PROBE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("accuracy"), int | float) else None


def evaluate_finished(run_dirs: list[str | Path], root: Path | None = None) -> list[dict]:
    """Score every run of the list that has ended with a model and has no probe.json yet (a stopped run is scored
    on the model it kept); returns the records written. A run without any model yet is left for later."""
    written = []
    for run_dir in map(Path, run_dirs):
        state = run_folder.read_status(run_dir)["state"]
        if state in (RunState.FINISHED, RunState.STOPPED) and read_probe(run_dir) is None and (
                run_dir / run_folder.BEST_MODEL).is_file():
            written.append(evaluate_run(run_dir, root))
    return written
