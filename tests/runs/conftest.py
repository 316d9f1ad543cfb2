"""Fixtures of the job-runner tests: `job_backend` runs a contract test once per job backend.

The contract (tests/runs/test_jobs.py, the tests that take `job_backend`): the queue is bounded, Stop takes effect
within the grace period, a worker that ignores Stop is ended, a killed worker becomes `interrupted`, and resume
continues the metrics, on every backend alike. Their fake worker (test_jobs.FAKE_WORKER) is started through
`processes.worker_command`, so a backend must build its worker's command line with that function for the fake to
run in its place, and the tests end a worker by the `worker_pid` the fake writes itself, not by a backend's job id.
"""

from __future__ import annotations

import pytest

# The backends the contract runs on. Hook for the Ray backend: add "ray" here and name, in BACKEND_FIXTURES, a
# session-scoped fixture that starts a local Ray head once, e.g. {"ray": "ray_head"}; if that fixture returns a
# dict, it is set as environment variables for each test (say {"SEQLAB_RAY_ADDRESS": "http://127.0.0.1:8265"}).
# A backend whose fixture skips (Ray not installed) skips its own cases only.
BACKENDS = ["local", "ray"]
BACKEND_FIXTURES: dict[str, str] = {"ray": "ray_environment"}


@pytest.fixture
def ray_environment(ray_head) -> dict[str, str]:
    """The session's local Ray head (tests/ray_head.py: started once, by the first Ray case) as settings."""
    return {"SEQLAB_RAY_ADDRESS": ray_head.address}


@pytest.fixture(params=BACKENDS)
def job_backend(request, monkeypatch) -> str:
    """The backend's name, with SEQLAB_BACKEND set to it for the test (and whatever its fixture starts)."""
    if request.param in BACKEND_FIXTURES:
        environment = request.getfixturevalue(BACKEND_FIXTURES[request.param])
        for name, value in (environment if isinstance(environment, dict) else {}).items():
            monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("SEQLAB_BACKEND", request.param)
    return request.param
