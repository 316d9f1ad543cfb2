"""Model files in the run folder: saved so that a kill at any instant leaves a file that verifies."""

from __future__ import annotations

import json

import keras
import pytest

from seqlab import runs
from seqlab.errors import SeqlabError


def tiny_model(value: float) -> keras.Model:
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    model.layers[0].bias.assign([value])
    return model


def test_save_model_records_a_checksum_that_verifies(tmp_path):
    runs.save_model(tmp_path, runs.CHECKPOINT, tiny_model(1.0))
    first = runs.file_sha256(runs.verify_checksum(tmp_path, runs.CHECKPOINT))
    runs.save_model(tmp_path, runs.CHECKPOINT, tiny_model(2.0))
    second = runs.file_sha256(runs.verify_checksum(tmp_path, runs.CHECKPOINT))
    assert first != second
    sums = json.loads((tmp_path / runs.CHECKSUMS).read_text())
    assert sums[runs.CHECKPOINT] == second and sums["previous"] == {}  # the old hash is no longer accepted
    assert not list(tmp_path.glob(".*.tmp.keras"))


def test_a_save_killed_before_the_rename_leaves_the_old_file_loadable(tmp_path, monkeypatch):
    runs.save_model(tmp_path, runs.CHECKPOINT, tiny_model(1.0))
    old = runs.file_sha256(tmp_path / runs.CHECKPOINT)

    def killed(*args):
        raise KeyboardInterrupt  # stands for SIGKILL between the checksum write and the rename

    monkeypatch.setattr(runs.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        runs.save_model(tmp_path, runs.CHECKPOINT, tiny_model(2.0))
    assert runs.file_sha256(runs.verify_checksum(tmp_path, runs.CHECKPOINT)) == old


def test_a_file_that_seqlab_did_not_write_is_refused(tmp_path):
    runs.save_model(tmp_path, runs.BEST_MODEL, tiny_model(1.0))
    tiny_model(3.0).save(tmp_path / runs.BEST_MODEL)  # replaced behind seqlab's back
    with pytest.raises(SeqlabError, match="checksum does not match"):
        runs.verify_checksum(tmp_path, runs.BEST_MODEL)
