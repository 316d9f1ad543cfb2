"""Model files in the run folder: saved so that a kill at any instant leaves a file that verifies."""

from __future__ import annotations

import json

import keras
import pytest

from seqlab.errors import SeqlabError
from seqlab.runs import run_folder


def tiny_model(value: float) -> keras.Model:
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    model.layers[0].bias.assign([value])
    return model


def test_save_model_records_a_checksum_that_verifies(tmp_path):
    run_folder.save_model(tmp_path, run_folder.CHECKPOINT, tiny_model(1.0))
    first = run_folder.file_sha256(run_folder.verify_checksum(tmp_path, run_folder.CHECKPOINT))
    run_folder.save_model(tmp_path, run_folder.CHECKPOINT, tiny_model(2.0))
    second = run_folder.file_sha256(run_folder.verify_checksum(tmp_path, run_folder.CHECKPOINT))
    assert first != second
    sums = json.loads((tmp_path / run_folder.CHECKSUMS).read_text())
    assert sums[run_folder.CHECKPOINT] == second and sums["previous"] == {}  # the old hash is no longer accepted
    assert not list(tmp_path.glob(".*.tmp.keras"))


def test_a_save_killed_before_the_rename_leaves_the_old_file_loadable(tmp_path, monkeypatch):
    run_folder.save_model(tmp_path, run_folder.CHECKPOINT, tiny_model(1.0))
    old = run_folder.file_sha256(tmp_path / run_folder.CHECKPOINT)

    def killed(*args):
        raise KeyboardInterrupt  # stands for SIGKILL between the checksum write and the rename

    monkeypatch.setattr(run_folder.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        run_folder.save_model(tmp_path, run_folder.CHECKPOINT, tiny_model(2.0))
    assert run_folder.file_sha256(run_folder.verify_checksum(tmp_path, run_folder.CHECKPOINT)) == old


def test_a_file_that_seqlab_did_not_write_is_refused(tmp_path):
    run_folder.save_model(tmp_path, run_folder.BEST_MODEL, tiny_model(1.0))
    tiny_model(3.0).save(tmp_path / run_folder.BEST_MODEL)  # replaced behind seqlab's back
    with pytest.raises(SeqlabError, match="checksum does not match"):
        run_folder.verify_checksum(tmp_path, run_folder.BEST_MODEL)
