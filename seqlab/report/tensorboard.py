"""A run's metrics.jsonl as TensorBoard event files, for people who already read their curves there.

Written with tf.summary.write, which TensorFlow brings, tagged as TensorBoard's scalar plugin tags its own
(tf.summary.scalar would be the same thing, but it lives in the tensorboard package): TensorBoard, the viewer, is
optional and not needed to write. Every record is written, not the thinned series the charts draw: TensorBoard
does its own thinning.
`python -m seqlab export RUN --tensorboard DIR` calls this (seqlab/cli/export.py).
"""

from __future__ import annotations

import math
from pathlib import Path

from seqlab.errors import SeqlabError
from seqlab.runs import run_folder

STEP_SCALARS = ("loss", "accuracy", "grad_norm", "learning_rate", "tokens_per_second")  # train/<name>
EPOCH_SCALARS = {"val_loss": "loss", "val_accuracy": "accuracy"}  # validation/<name>


def write_tensorboard(run_dir: Path, out: Path) -> tuple[Path, int]:
    """Event files for the run under out/<run id>/ (one TensorBoard run per seqlab run); (that folder, scalars
    written). Run `tensorboard --logdir out` to see them."""
    run_dir, out = Path(run_dir), Path(out).expanduser()
    metrics = run_dir / run_folder.METRICS
    if not metrics.is_file():
        raise SeqlabError(f"{run_dir.name} has no {run_folder.METRICS} yet", "a run that has trained some steps",
                          "wait for the run to start training, or pick another run")
    if out.exists() and not out.is_dir():
        raise SeqlabError(f"{out} is a file", "a folder for TensorBoard's event files", "name a folder")
    try:
        import tensorflow as tf
    except ImportError:
        raise SeqlabError("TensorFlow is not installed here", "TensorFlow, whose tf.summary writes the event files",
                          "install the requirements: python3 -m pip install -r requirements.txt") from None
    folder, written = out / run_dir.name, 0
    try:
        writer = tf.summary.create_file_writer(str(folder))
    except (OSError, tf.errors.OpError) as error:
        raise SeqlabError(f"Could not write into {folder} ({getattr(error, 'message', error)})",
                          "a folder you may write to", "pick another --tensorboard folder") from None
    with writer.as_default():
        for record in run_folder.iter_jsonl(metrics):
            written += _write_record(tf, record, _scalar_metadata())
    writer.close()
    return folder, written


def _scalar_metadata() -> bytes:
    """What marks a summary as a scalar for TensorBoard (its scalar plugin's name and data class)."""
    from tensorflow.core.framework import summary_pb2

    return summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
                                       data_class=summary_pb2.DATA_CLASS_SCALAR).SerializeToString()


def _write_record(tf, record: dict, metadata: bytes) -> int:
    """One metrics.jsonl record as scalars at its step; the number written (non-numbers are left out)."""
    step = record.get("step")
    if not isinstance(step, int):
        return 0
    if record.get("type") == "epoch":
        names = {f"validation/{short}": record.get(name) for name, short in EPOCH_SCALARS.items()}
    else:
        names = {f"train/{name}": record.get(name) for name in STEP_SCALARS}
    written = 0
    for name, value in names.items():
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            tf.summary.write(name, tf.constant(float(value), tf.float32), step=step, metadata=metadata)
            written += 1
    return written
