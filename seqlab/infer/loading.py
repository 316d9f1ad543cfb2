"""Load a trained run: config, vocabulary and the best model — only files seqlab itself wrote.

Two checks stand between a path and `keras.saving.load_model`:
1. the run folder lives under the runs root — directly, or as the target of the symlink the job runner puts
   in the root for a run trained with `--out` elsewhere. A folder copied from anywhere else (a download, a
   colleague's "run") carries its own checksums.json, so the checksum alone would prove nothing;
2. the model file's sha256 matches the one the trainer recorded in checksums.json, so a file dropped into
   a real run folder is never deserialized either.

The model is read once, as bytes: the bytes hashed are the bytes loaded, so the file cannot change between the
check and the load. A run still training replaces model.keras with each new best model (save_model in
seqlab/runs/run_folder.py: a temporary file, then an atomic rename, with the old hash kept as "previous" meanwhile),
so the app may read it at any moment; a read that catches checksums.json a step ahead of the file is tried again.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from seqlab import settings
from seqlab.config import ModelConfig, TrainConfig
from seqlab.errors import SeqlabError
from seqlab.runs import run_folder


@dataclass
class LoadedRun:
    path: Path
    model_config: ModelConfig
    train_config: TrainConfig
    model: object  # keras.Model: ids -> logits (generate) or strings -> P(positive) (classify)
    vocabulary: object | None  # CharVocabulary for generate runs
    status: dict
    checksum: str = ""  # the sha256 of the model.keras bytes loaded


MODEL_READ_ATTEMPTS = 10  # a model file being replaced settles within milliseconds (one rename, one small JSON)
MODEL_READ_PAUSE_SECONDS = 0.1


class ModelReplacedError(SeqlabError):
    """model.keras is no longer the file whose checksum the caller asked for: a training run saved a newer best
    model meanwhile (the caller asks again with the new checksum)."""


def check_run_location(run_dir: Path, root: Path | None = None) -> Path:
    """The run folder, resolved, if it is an entry of the runs root (itself or through a root symlink)."""
    root = run_folder.runs_root(root)
    path = Path(run_dir).expanduser()
    if not (path / run_folder.CONFIG).is_file():
        raise SeqlabError(f"{path} is not a seqlab run folder (no {run_folder.CONFIG} in it)",
                          "a folder made by `python -m seqlab train`", "check the path, or pick a run from "
                          "`python -m seqlab runs`")
    resolved = path.resolve()
    if resolved.parent == root:
        return resolved
    linked = any(entry.is_symlink() and entry.resolve() == resolved for entry in root.iterdir())
    if not linked:
        raise SeqlabError(f"{resolved} is not a run of the runs root {root}",
                          "a run trained by seqlab into the runs root (runs trained with --out elsewhere are "
                          "linked into it by the job runner)",
                          "train the model with `python -m seqlab train`, or point --runs-root / "
                          f"{settings.RUNS_VARIABLE} at the root it was trained in; seqlab never loads model files "
                          "from other folders")
    return resolved


def read_model_bytes(run_dir: Path) -> tuple[bytes, str]:
    """model.keras's bytes and their sha256, only if seqlab recorded that hash for it (the current file's, or the
    one it is replacing); tried again for a moment while the worker swaps in a new best model."""
    path = Path(run_dir) / run_folder.BEST_MODEL
    for _ in range(MODEL_READ_ATTEMPTS):
        if not path.is_file():
            run_folder.verify_checksum(run_dir, run_folder.BEST_MODEL)  # says there is no model yet
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # renamed over between the look and the read
            data = b""
        digest = hashlib.sha256(data).hexdigest()
        if data and digest in run_folder.accepted_checksums(run_dir, run_folder.BEST_MODEL):
            return data, digest
        time.sleep(MODEL_READ_PAUSE_SECONDS)
    raise SeqlabError(f"{path} is not the file seqlab saved (its checksum does not match)",
                      "model files written by seqlab's trainer only",
                      "retrain the run; seqlab never loads model files from elsewhere")


def _load_model_bytes(data: bytes):
    """A Keras model from verified .keras bytes, through a private temporary file (Keras loads from a path)."""
    import keras

    from seqlab.model.builder import SeqlabModel

    with tempfile.TemporaryDirectory(prefix="seqlab-model-") as folder:
        path = Path(folder) / run_folder.BEST_MODEL
        path.write_bytes(data)
        return keras.saving.load_model(path, compile=False, safe_mode=True,
                                       custom_objects={"SeqlabModel": SeqlabModel})


def load_run(run_dir: Path, root: Path | None = None, checksum: str | None = None) -> LoadedRun:
    """The run's configs, vocabulary and best model; SeqlabError for a foreign folder or a changed model file, and
    ModelReplacedError when `checksum` is given and the model file now recorded is another one."""
    from seqlab.encoding.vocabulary import CharVocabulary

    run_dir = check_run_location(run_dir, root)
    model_config, train_config = run_folder.read_configs(run_dir)
    data, digest = read_model_bytes(run_dir)
    if checksum is not None and digest != checksum:
        raise ModelReplacedError(f"{run_dir.name}'s model was replaced by a newer one while it was being loaded",
                            None, "load it again")
    vocabulary = None
    if model_config.task == "generate":
        try:
            vocabulary = CharVocabulary.load(run_dir / run_folder.VOCABULARY)
        except (OSError, ValueError, KeyError, TypeError):
            raise SeqlabError(f"{run_dir} has no readable {run_folder.VOCABULARY}", "the vocabulary the trainer saved",
                              "retrain the run") from None
    return LoadedRun(run_dir, model_config, train_config, _load_model_bytes(data), vocabulary,
                     run_folder.read_status(run_dir), digest)


def require_task(run: LoadedRun, task: str, action: str) -> LoadedRun:
    """The run itself if it was trained for `task`; else a message that names what the run can do instead."""
    if run.model_config.task != task:
        other = {"generate": "generate text (`python -m seqlab generate`)",
                 "classify": "score reviews (`python -m seqlab score`)",
                 "forecast": "forecast its series (`python -m seqlab forecast`)"}[run.model_config.task]
        raise SeqlabError(f"{run.path.name} is a {run.model_config.task} run, so it cannot {action}",
                          f"a {task} run", f"pick a {task} run, or use this one to {other}")
    return run


def load_sampler(run_dir: Path, root: Path | None = None):
    """A CharSampler for a generation run: the run's model in NumPy (recurrences, or a Transformer with its key/value
    cache), and its vocabulary."""
    from seqlab.infer.sampling import CharSampler

    run = require_task(load_run(run_dir, root), "generate", "generate text")
    return CharSampler.from_keras(run.model, run.vocabulary)
