"""No dead ends on Generate and Score: a run is usable as soon as it saved a model — while it trains (marked so),
stopped, interrupted or finished — the page watches for one when it has none, and a model file replaced while it
is read is never loaded half-way or cached under the wrong checksum (seqlab/ui/loaded_runs.py,
seqlab/infer/loading.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from seqlab.runs import jobs, run_folder, workspaces
from tests.conftest import REPO
from tests.tiny_runs import GENERATE_TINY, train_tiny, write_generation_text

PAGE = str(REPO / "pages" / "generate.py")
FINISHED = "20260101-000000-generate-lstm-done"


@pytest.fixture(scope="module")
def trained_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("usable-runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEQLAB_RUNS", str(root))
        train_tiny(root, FINISHED, "generate", write_generation_text(root.parent), **GENERATE_TINY)
    return root


def _copy(root: Path, name: str, created_at: float, **status) -> Path:
    run_dir = root / name
    shutil.copytree(root / FINISHED, run_dir, ignore=shutil.ignore_patterns(".status.lock"))
    run_folder.write_status(run_dir, created_at=created_at, **status)
    return run_dir


@pytest.fixture
def runs_root(trained_root, tmp_path, monkeypatch) -> Path:
    """The finished run, and copies of it: training with a model, training without one yet, queued, failed, and
    one whose model has no recorded checksum. Workers are not real: reconcile reads the status as written."""
    root = tmp_path / "runs"
    root.mkdir()
    shutil.copytree(trained_root / FINISHED, root / FINISHED)
    _copy(root, "20260102-000000-generate-lstm-training", 3e9, state="running", best_step=20)
    no_model = _copy(root, "20260103-000000-generate-lstm-starting", 4e9, state="running")
    (no_model / run_folder.BEST_MODEL).unlink()
    _copy(root, "20260104-000000-generate-lstm-queued", 5e9, state="queued")
    _copy(root, "20260105-000000-generate-lstm-failed", 6e9, state="failed")
    unrecorded = _copy(root, "20260106-000000-generate-lstm-unrecorded", 7e9, state="stopped")
    (unrecorded / run_folder.CHECKSUMS).write_text("{}")
    monkeypatch.setenv("SEQLAB_RUNS", str(root))
    monkeypatch.setattr(jobs, "reconcile", run_folder.read_status)
    return root


def test_usable_runs_include_a_running_run_with_a_model(runs_root):
    from seqlab.ui.loaded_runs import still_training, training_mark, usable_runs

    usable = usable_runs("generate", workspaces.OPERATOR)
    assert [item["id"] for item in usable] == ["20260102-000000-generate-lstm-training", FINISHED]
    assert still_training(usable[0]) and not still_training(usable[1])
    assert training_mark(usable[0]) == "still training — model from step 20"
    for state in ("stopping", "stopped", "interrupted"):
        run_folder.write_status(runs_root / FINISHED, state=state)
        assert FINISHED in [item["id"] for item in usable_runs("generate", workspaces.OPERATOR)]


def test_the_generate_page_offers_the_training_run_marked_and_generates_from_it(runs_root):
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not app.exception
    picker = app.selectbox[0]
    assert picker.value == "20260102-000000-generate-lstm-training"
    assert "still training — model from step 20" in picker.format_func(picker.value)
    assert any("Still training" in element.value and "step 20" in element.value for element in app.info)
    app.toggle[0].set_value(False)
    next(button for button in app.button if button.label == "Generate").click()
    app.run()
    assert not app.exception and not app.error and app.code


def test_with_no_model_the_page_watches_and_a_new_model_changes_what_it_watches(runs_root, trained_root):
    from seqlab.ui.loaded_runs import models_signature

    for path in runs_root.iterdir():
        (path / run_folder.BEST_MODEL).unlink(missing_ok=True)
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not app.exception and "no trained text generation model yet" in app.info[0].value.lower()
    assert "while it is still training" in app.info[0].value
    before = models_signature(None)
    assert models_signature(None) == before  # nothing new: the page is not rerun
    training = runs_root / "20260102-000000-generate-lstm-training"
    shutil.copy(trained_root / FINISHED / run_folder.BEST_MODEL, training / run_folder.BEST_MODEL)
    assert models_signature(None) != before  # the first model of a run: the page reruns and offers it
    seen = models_signature(str(training))
    run_folder.write_status(training, best_step=40)
    assert models_signature(str(training)) != seen  # a better model of the run shown
    seen = models_signature(str(training))
    run_folder.write_status(training, state="stopped")
    assert models_signature(str(training)) != seen  # the run shown ended: its mark goes


def test_a_model_replaced_while_it_loads_is_loaded_again_under_its_new_checksum(trained_root, monkeypatch):
    from seqlab.infer import loading
    from seqlab.ui import loaded_runs

    monkeypatch.setenv("SEQLAB_RUNS", str(trained_root))
    run_dir = trained_root / FINISHED
    data, digest = loading.read_model_bytes(run_dir)
    assert digest == loaded_runs.model_checksum(run_dir)
    with pytest.raises(loading.ModelReplacedError):
        loading.load_run(run_dir, checksum="0" * 64)
    asked = []

    def loader(run_path: str, checksum: str):
        asked.append(checksum)
        if len(asked) == 1:
            raise loading.ModelReplacedError("replaced meanwhile")
        return "loaded"

    monkeypatch.setattr(loaded_runs.time, "sleep", lambda seconds: None)
    assert loaded_runs._loaded(loader, run_dir) == "loaded" and asked == [digest, digest]


def test_the_file_being_replaced_is_read_under_its_previous_checksum(trained_root, tmp_path, monkeypatch):
    """save_model's window between recording the new hash and renaming the new file over the old one."""
    from seqlab.infer import loading

    monkeypatch.setenv("SEQLAB_RUNS", str(trained_root))
    run_dir = trained_root / FINISHED
    sums = json.loads((run_dir / run_folder.CHECKSUMS).read_text())
    old = sums[run_folder.BEST_MODEL]
    try:
        (run_dir / run_folder.CHECKSUMS).write_text(json.dumps(
            {**sums, run_folder.BEST_MODEL: "f" * 64, "previous": {run_folder.BEST_MODEL: old}}))
        assert loading.read_model_bytes(run_dir)[1] == old
        with pytest.raises(loading.ModelReplacedError):  # the caller asked for the new one: it asks again
            loading.load_run(run_dir, checksum="f" * 64)
        (run_dir / run_folder.CHECKSUMS).write_text(json.dumps({**sums, run_folder.BEST_MODEL: "f" * 64}))
        monkeypatch.setattr(loading, "MODEL_READ_PAUSE_SECONDS", 0.0)
        with pytest.raises(loading.SeqlabError, match="checksum does not match"):
            loading.read_model_bytes(run_dir)
    finally:
        (run_dir / run_folder.CHECKSUMS).write_text(json.dumps(sums))
