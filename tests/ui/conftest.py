"""Fixtures shared by the page tests."""

from __future__ import annotations

import sys

import pytest

from seqlab.runs import processes
from tests.tiny_runs import end_every_run
from tests.ui.test_page_runs import FAKE_WORKER


@pytest.fixture
def fake_worker(tmp_path, monkeypatch):
    """Runs are really created and handed to the job runner; their worker only holds them 'running'."""
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE_WORKER, encoding="utf-8")
    monkeypatch.setattr(processes, "worker_command", lambda run_dir, root: [sys.executable, str(script), str(run_dir)])
    yield
    end_every_run()
