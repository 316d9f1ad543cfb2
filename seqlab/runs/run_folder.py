"""The run folder: the single source of truth for one training run.

    RUN_DIR/
      config.json        ModelConfig + TrainConfig (written once, before training)
      status.json        state, progress, ETA, pid, error — rewritten atomically
      metrics.jsonl      one record per step and per epoch, append-only
      samples.jsonl      generate runs: a text sample per epoch
      vocabulary.json    generate runs: the character vocabulary
      series.json        forecast runs: the series, where it is cut, its scaling and the baselines' scores
      model.keras        the best-validation model (what sampling and scoring load)
      checkpoint.keras   the latest state with optimizer, for resume
      checksums.json     sha256 of the model files, recorded when seqlab wrote them
      stop_requested     present when someone pressed Stop
      train.log          the worker process's own output

The app and the CLI only read these files and send commands (stop, resume);
the worker process is the only writer of everything but `stop_requested`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Collection
from pathlib import Path

from seqlab import settings
from seqlab.config import ModelConfig, TrainConfig, configs_from_json, configs_to_json
from seqlab.errors import SeqlabError
from seqlab.runs import states
from seqlab.runs.metrics import MetricsTable, iter_jsonl, parse_record, read_metrics_file  # noqa: F401 (re-exported)
from seqlab.runs.states import RunState
from seqlab.runs.storage import exclusive, write_json_atomic, write_text_atomic

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
CONFIG, STATUS, METRICS, SAMPLES = "config.json", "status.json", "metrics.jsonl", "samples.jsonl"
VOCABULARY, BEST_MODEL, CHECKPOINT, CHECKSUMS = "vocabulary.json", "model.keras", "checkpoint.keras", "checksums.json"
STOP_REQUEST, LOG, STATUS_LOCK = "stop_requested", "train.log", ".status.lock"
EXPERIMENT = "experiment.json"  # a lesson experiment's mark (seqlab/lessons/experiment.py), written by the starter
SERIES = "series.json"  # forecast runs: the series, its cut, scaling and baselines (seqlab/encoding/pipeline.py)


def runs_root(override: str | Path | None = None) -> Path:
    """Flag > $SEQLAB_RUNS > $XDG_DATA_HOME/seqlab/runs > ~/.local/share/seqlab/runs (seqlab/settings.py)."""
    root = Path(override) if override else settings.runs_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SeqlabError(f"Cannot create the runs folder {root} ({error.strerror})",
                          "a writable folder for training runs",
                          f"set {settings.RUNS_VARIABLE} (or --runs-root) to a folder you can write") from None
    return root.expanduser().resolve()


def new_run_id(model: ModelConfig, train: TrainConfig) -> str:
    """Sortable and readable: 20261123-193012-generate-lstm-7f3a."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{model.task}-{model.cell}-{os.urandom(2).hex()}"


def check_run_id(run_id: str) -> str:
    if not RUN_ID.match(run_id or ""):
        raise SeqlabError(f"'{run_id}' is not a valid run id", "letters, digits, '.', '_' and '-' only",
                          "pick a run from `python -m seqlab runs`")
    return run_id


def run_in_root(run_id: str, root: Path | None = None) -> Path:
    """A run id from the app: validated, and only ever a folder directly inside the runs root."""
    root = runs_root(root)
    path = root / check_run_id(run_id)
    if not (path / CONFIG).is_file():
        raise SeqlabError(f"There is no run '{run_id}' in {root}", "the id of an existing run",
                          "pick a run from `python -m seqlab runs`")
    return path


def resolve_run(run: str | Path, root: Path | None = None) -> Path:
    """A run named on the command line: a folder path, or a run id inside the runs root."""
    path = Path(run).expanduser()
    if (path / CONFIG).is_file():
        return path.resolve()
    if RUN_ID.match(str(run)) and "/" not in str(run):
        candidate = runs_root(root) / str(run)
        if (candidate / CONFIG).is_file():
            return candidate.resolve()
    raise SeqlabError(f"{run} is not a seqlab run folder (no {CONFIG} in it)",
                      "a folder made by `python -m seqlab train`, or a run id from `python -m seqlab runs`",
                      "check the path")


def create_run_folder(run_dir: Path, model: ModelConfig, train: TrainConfig) -> Path:
    run_dir = Path(run_dir)
    if (run_dir / CONFIG).exists():
        raise SeqlabError(f"{run_dir} already holds a run", "a new or empty folder",
                          f"choose another --out folder, or continue it with `python -m seqlab resume {run_dir}`")
    if run_dir.exists() and any(run_dir.iterdir()):
        raise SeqlabError(f"{run_dir} exists and is not empty", "a new or empty folder", "choose another folder")
    existed = run_dir.exists()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(run_dir / CONFIG, configs_to_json(model, train))
        write_status(run_dir, state=RunState.QUEUED, created_at=time.time())
    except OSError as error:
        if not existed:  # a full disk must not leave a half-made run that lists as damaged
            shutil.rmtree(run_dir, ignore_errors=True)
        raise SeqlabError(f"Cannot write the run folder {run_dir} ({error.strerror})", "a writable folder",
                          "free some disk space or choose a folder you can write") from None
    return run_dir


def read_configs(run_dir: Path) -> tuple[ModelConfig, TrainConfig]:
    try:
        payload = (Path(run_dir) / CONFIG).read_text(encoding="utf-8")
    except OSError:
        raise SeqlabError(f"{run_dir} has no readable {CONFIG}", "a run folder made by seqlab",
                          "pick another run") from None
    return configs_from_json(payload)


def read_status(run_dir: Path) -> dict:
    """The status as written; a missing or damaged file reads as state 'damaged' with the reason."""
    try:
        status = json.loads((Path(run_dir) / STATUS).read_text(encoding="utf-8"))
        state = status.get("state") if isinstance(status, dict) else None
        if not isinstance(state, str) or state not in states.WRITTEN:  # (a list would not even hash)
            raise ValueError("unknown state")
        return status
    except (OSError, ValueError) as error:
        return {"state": RunState.DAMAGED, "error": f"status.json is missing or damaged ({error})"}


def write_status(run_dir: Path, **fields) -> dict:
    """Merge `fields` into status.json and replace it atomically.

    The worker and the job runner both write it, so the read-merge-write runs
    under a per-run file lock: neither can lose the other's fields.
    """
    with exclusive(Path(run_dir) / STATUS_LOCK):
        status = read_status(run_dir)
        if status.get("state") == RunState.DAMAGED:
            status = {}
        status.update(fields, updated_at=time.time())
        write_json_atomic(Path(run_dir) / STATUS, status)
    return status


def write_status_if(run_dir: Path, states: Collection[str], **fields) -> tuple[dict, bool]:
    """Merge `fields` into status.json only while its state is one of `states` (check-and-set under the same
    lock): (the status now, whether it was written). A Stop must not turn a run the worker just finished into
    'stopping', nor two Resumes start two workers."""
    with exclusive(Path(run_dir) / STATUS_LOCK):
        status = read_status(run_dir)
        if status.get("state") not in states:
            return status, False
        status.update(fields, updated_at=time.time())
        write_json_atomic(Path(run_dir) / STATUS, status)
    return status, True


def append_jsonl(path: Path, record: dict) -> None:
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    """All complete records; a truncated or garbled line (a crash mid-write) is skipped, not fatal."""
    return list(iter_jsonl(path))


def read_metrics(run_dir: Path) -> tuple[list[dict], list[dict]]:
    """(step records, epoch records), streamed and thinned to at most metrics.MAX_STEP_POINTS step records (the
    first, the latest, an even grid between; seqlab/runs/metrics.py); after a resume, the latest record for a step
    wins."""
    return read_metrics_file(Path(run_dir) / METRICS)


def truncate_metrics(run_dir: Path, last_step: int) -> None:
    """On resume from the checkpoint at `last_step`, forget what happened after it."""
    path = Path(run_dir) / METRICS
    kept = [r for r in read_jsonl(path) if r.get("step", 0) <= last_step]
    write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_checksums(run_dir: Path) -> dict:
    try:
        sums = json.loads((Path(run_dir) / CHECKSUMS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return sums if isinstance(sums, dict) else {}


def record_checksum(run_dir: Path, filename: str) -> None:
    """Remember the hash of a model file seqlab just wrote; loading refuses files that differ."""
    sums = _read_checksums(run_dir)
    sums[filename] = file_sha256(Path(run_dir) / filename)
    write_json_atomic(Path(run_dir) / CHECKSUMS, sums)


def save_model(run_dir: Path, filename: str, model) -> None:
    """Save a Keras model so that a kill at any instant leaves a file that verifies.

    The model goes to a temporary file first; its hash is recorded beside the old file's (kept under
    "previous") before the rename and the old one is dropped after, so either file passes verify_checksum.
    """
    run_dir = Path(run_dir)
    temporary = run_dir / f".{filename}.tmp.keras"
    model.save(temporary)
    sums = _read_checksums(run_dir)
    previous = dict(sums.get("previous") or {})
    if isinstance(sums.get(filename), str):
        previous[filename] = sums[filename]
    sums.update({filename: file_sha256(temporary), "previous": previous})
    write_json_atomic(run_dir / CHECKSUMS, sums)
    os.replace(temporary, run_dir / filename)
    previous.pop(filename, None)
    write_json_atomic(run_dir / CHECKSUMS, {**sums, "previous": previous})


def accepted_checksums(run_dir: Path, filename: str) -> set[str]:
    """The hashes a model file may have: the one recorded, and while save_model replaces it, the one before."""
    sums = _read_checksums(run_dir)
    previous = sums.get("previous") if isinstance(sums.get("previous"), dict) else {}
    return {value for value in (sums.get(filename), previous.get(filename)) if isinstance(value, str)}


def verify_checksum(run_dir: Path, filename: str) -> Path:
    """The path of a model file, only if it is the one seqlab wrote (never deserialize anything else)."""
    path = Path(run_dir) / filename
    accepted = accepted_checksums(run_dir, filename)
    if not path.is_file():
        raise SeqlabError(f"{run_dir} has no {filename} yet", "a run that has finished at least one validation",
                          "wait for the first epoch to end, or train the run longer")
    if file_sha256(path) not in accepted:
        raise SeqlabError(f"{path} is not the file seqlab saved (its checksum does not match)",
                          "model files written by seqlab's trainer only",
                          "retrain the run; seqlab never loads model files from elsewhere")
    return path
