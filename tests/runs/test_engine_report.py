"""A run says which engine trains it (status.json, the Train page, the CLI), and a machine whose compiler cannot
build the kernels trains anyway, trying the build once: the worker's path, in this process."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from seqlab.cli.training import engine_line
from seqlab.engine import choice, native_kernels
from seqlab.engine.labels import COMPILED, GPU, PREPARING, STANDARD
from seqlab.runs import run_folder
from tests.fake_compiler import ERROR_LINE, compile_calls, failing_compiler
from tests.tiny_runs import CLASSIFY_TINY, GENERATE_TINY, train_tiny, write_generation_text, write_review_table


@pytest.fixture
def engines_written(monkeypatch):
    """Every `engine` the worker writes to status.json, in order; recurrent_step_ops() fresh, as in a new worker."""
    written, write = [], run_folder.write_status

    def recording(run_dir, **fields):
        if "engine" in fields:
            written.append(fields["engine"])
        return write(run_dir, **fields)

    monkeypatch.setattr(run_folder, "write_status", recording)
    native_kernels.recurrent_step_ops.cache_clear()
    yield written
    monkeypatch.undo()
    native_kernels.recurrent_step_ops.cache_clear()


def train(tmp_path: Path, name: str, task: str = "generate", **overrides) -> dict:
    corpus = write_generation_text(tmp_path) if task == "generate" else write_review_table(tmp_path)
    tiny = GENERATE_TINY if task == "generate" else CLASSIFY_TINY
    run_dir = train_tiny(tmp_path / "runs", name, task, corpus, **{**tiny, "max_steps": 6, **overrides})
    return run_folder.read_status(run_dir)


def test_a_run_with_the_compiled_kernels_says_so(tmp_path, engines_written):
    status = train(tmp_path, "compiled")
    assert (status["engine"], status.get("engine_note")) == (COMPILED, None)
    assert engine_line(status) == "engine: compiled CPU kernels"


def test_with_a_compiler_that_fails_training_works_and_the_build_is_tried_once(tmp_path, engines_written,
                                                                               monkeypatch):
    monkeypatch.setenv("SEQLAB_KERNEL_CACHE", str(tmp_path / "kernels"))
    script, calls = failing_compiler(tmp_path)
    monkeypatch.setenv("CXX", str(script))
    first = train(tmp_path, "first", precision="bfloat16")  # no XLA (it would compile the plain ops for seconds)
    assert first["state"] == "finished" and first["engine"] == STANDARD
    assert first["engine_note"].startswith(f"the kernels could not be built with fake-g++: {ERROR_LINE}")
    assert engines_written == [None, PREPARING, None, STANDARD]  # the page said "preparing" during the build
    tried, [marker] = len(compile_calls(calls)), list((tmp_path / "kernels").glob("*.failed"))
    assert tried > 0
    built_at = marker.stat().st_mtime_ns
    engines_written.clear()
    native_kernels.recurrent_step_ops.cache_clear()  # a second worker process
    second = train(tmp_path, "second", precision="bfloat16")
    assert second["state"] == "finished" and second["engine_note"] == first["engine_note"]
    assert engines_written == [None, STANDARD]  # no "preparing": nothing was built
    assert len(compile_calls(calls)) == tried and marker.stat().st_mtime_ns == built_at
    assert engine_line(second) == f"engine: standard TensorFlow ({first['engine_note']})"


def test_on_a_gpu_the_run_says_gpu_and_builds_nothing(tmp_path, engines_written, monkeypatch):
    monkeypatch.setenv("SEQLAB_KERNEL_CACHE", str(tmp_path / "kernels"))
    script, calls = failing_compiler(tmp_path)
    monkeypatch.setenv("CXX", str(script))
    monkeypatch.setattr(choice, "on_gpu", lambda: True)
    status = train(tmp_path, "gpu")
    assert (status["engine"], status.get("engine_note")) == (GPU, None) and engines_written == [None, GPU]
    assert not calls.exists() and not (tmp_path / "kernels").exists()


def test_a_review_classifier_says_keras_loop_and_builds_nothing(tmp_path, engines_written, monkeypatch):
    monkeypatch.setenv("SEQLAB_KERNEL_CACHE", str(tmp_path / "kernels"))
    script, calls = failing_compiler(tmp_path)
    monkeypatch.setenv("CXX", str(script))
    status = train(tmp_path, "reviews", task="classify")
    assert (status["engine"], status["engine_note"]) == (STANDARD, choice.KERAS_LOOP_NOTE)
    assert not calls.exists()


def render(run_dir: str, status: dict) -> None:  # an AppTest script: imports inside
    from pathlib import Path

    from seqlab.ui.live_run import render_run

    render_run(Path(run_dir), status)


@pytest.mark.parametrize("engine,note,shown", [
    (STANDARD, "no C++ compiler found (g++ not found; clang++ not found)",
     "engine: standard TensorFlow (no C++ compiler found (g++ not found; clang++ not found))"),
    (COMPILED, None, "engine: compiled CPU kernels"),
    (PREPARING, None, "Preparing fast kernels (once, ~20 s)…")])
def test_the_train_page_says_the_engine(tmp_path, engine, note, shown):
    from seqlab.presets import default_configs

    run_dir = run_folder.create_run_folder(tmp_path / "runs" / "a-run", *default_configs("generate"))
    status = run_folder.write_status(run_dir, state="running", engine=engine, engine_note=note)
    app = AppTest.from_function(render, args=(str(run_dir), status), default_timeout=60).run()
    words = "\n".join(str(element.value) for element in [*app.caption, *app.info]).replace("\\", "")
    assert not app.exception and shown in words
    assert engine_line(status).lower() == shown.lower()  # the CLI's line
