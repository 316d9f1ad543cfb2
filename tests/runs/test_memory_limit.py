"""Workers start with an address-space limit (SEQLAB_WORKER_ADDRESS_SPACE_MB): one that hits it ends in a final
state with an error instead of hanging, and a worker whose allocation fails says it ran out of memory."""

from __future__ import annotations

import sys

import pytest

from seqlab import settings
from seqlab.presets import default_configs
from seqlab.runs import jobs, processes, run_folder, states
from tests.tiny_runs import GENERATE_TINY, end_every_run


@pytest.fixture
def tiny_run(tmp_path):
    model, train = default_configs("generate", corpus="hamlet", **GENERATE_TINY)
    yield run_folder.create_run_folder(run_folder.runs_root() / "tiny", model, train)
    end_every_run()


@pytest.mark.skipif(sys.platform == "win32", reason="no address-space limit on Windows")
def test_a_worker_over_its_address_space_limit_ends_with_an_error(monkeypatch, tiny_run):
    monkeypatch.setenv(settings.WORKER_ADDRESS_SPACE_VARIABLE, "200")  # not even TensorFlow loads in 200 MB
    jobs.submit(tiny_run)
    status = jobs.wait_for(tiny_run, timeout=60)
    assert status["state"] in states.FINAL - {states.RunState.FINISHED}, status
    assert status.get("error"), status


def test_the_limiter_is_there_only_when_asked_for():
    assert processes.address_space_limiter(0) is None
    if sys.platform != "win32":
        assert callable(processes.address_space_limiter(8 * 2**30))


def test_a_worker_that_runs_out_of_memory_fails_saying_so(monkeypatch, tiny_run):
    from seqlab.runs import worker

    def exhausted(run_dir, status):
        raise MemoryError()

    monkeypatch.setattr(worker, "_train", exhausted)
    assert worker.train_run(tiny_run) == states.RunState.FAILED
    status = run_folder.read_status(tiny_run)
    assert "ran out of memory" in status["error"] and "smaller batch" in status["advice"], status
