"""Shared fixtures: tiny corpora written on the fly, the shared data folder, isolated runs/cache roots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.ray_head import ray_head  # noqa: F401  (a session's one local Ray head, for the Ray backend's tests)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def isolated_roots(tmp_path, monkeypatch):
    """Every test gets its own cache and runs folder: nothing leaks between tests or into $HOME.

    In-process page tests run as a personal laptop does (SEQLAB_WORKSPACES=off): they see the runs the test
    trained through the CLI's path. Workspaces themselves are tested with isolation on (tests/ui/
    test_workspaces.py, tests/runs/test_workspaces.py) and every browser test's server runs with the default, on.
    """
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SEQLAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("SEQLAB_WORKSPACES", "off")


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared data folder {SHARED_DATA} is missing: tests need ../shared/data beside the repo")
    return SHARED_DATA


@pytest.fixture
def review_csv(tmp_path) -> Path:
    rows = ["text,label"] + [f'"a good film number {i}, really good",pos' for i in range(30)] + [
        f'"a bad film number {i}, awful",neg' for i in range(30)]
    path = tmp_path / "reviews.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def http_server():
    """A loopback HTTP server serving `routes` (path -> bytes); counts requests per path."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    routes: dict[str, bytes] = {}
    hits: dict[str, int] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            hits[self.path] = hits.get(self.path, 0) + 1
            body = routes.get(self.path)
            self.send_response(200 if body is not None else 404)
            body = body if body is not None else b"not found"
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.routes, server.hits = routes, hits
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()
