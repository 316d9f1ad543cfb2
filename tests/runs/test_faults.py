"""Faults a person meets: the app server killed mid-training, a killed worker with a queue behind it, a full disk
and an unwritable runs folder. Each must end in a clear message or a resumable run — never a traceback, and never
damage to the runs already there. (A killed worker alone is covered in test_training.py and test_jobs.py; a
damaged run folder beside healthy ones in test_jobs.py and test_page_runs.py.)
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from seqlab.cli.main import main as run_cli
from seqlab.presets import default_configs
from seqlab.runs import jobs, processes, run_folder, states, storage
from tests.conftest import REPO
from tests.e2e.conftest import chromium_path  # noqa: F401  (fixture: Debian chromium, installed if missing)
from tests.reliability import harness
from tests.runs.test_jobs import fake  # noqa: F401  (fixture: the fake worker of the job runner's tests)

NO_SPACE = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def parent_pid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def page(name: str) -> AppTest:
    return AppTest.from_file(str(REPO / "pages" / f"{name}.py"), default_timeout=60).run()


def texts(elements) -> str:
    return "\n".join(str(element.value) for element in elements)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every saved file's bytes; the scheduler's (empty) lock file is not saved content."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and path.name != jobs.LOCK_NAME}


@pytest.fixture
def root() -> Path:
    return run_folder.runs_root()


@pytest.fixture
def finished_run(root) -> Path:
    """An existing run on disk, to check that a failed start leaves it untouched."""
    model, train = default_configs("generate", corpus="hamlet")
    run_dir = run_folder.create_run_folder(root / "earlier-run", model, train)
    run_folder.append_jsonl(run_dir / run_folder.METRICS, {"type": "step", "step": 1, "loss": 3.2})
    run_folder.write_status(run_dir, state="finished", step=1, total_steps=1, best_val_loss=3.1)
    return run_dir


def test_a_killed_app_server_leaves_training_running_and_a_new_server_shows_it(tmp_path, chromium_path):  # noqa: F811
    from playwright.async_api import async_playwright

    folder = run_folder.runs_root()  # the folder tests/conftest.py gave this test; both servers use it
    knobs = {**harness.TINY_KNOBS, "Time budget (seconds)": 600}

    async def scenario() -> None:
        first = harness.start_app(folder, tmp_path / "cache", tmp_path / "server.log")
        servers = [first]
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=chromium_path, args=harness.CHROMIUM_ARGS)
                context = await browser.new_context(viewport={"width": 1400, "height": 1000})
                page = await context.new_page()
                run_id = await harness.start_tiny_training(page, first.url, knobs, step_cap=0)
                run_dir = folder / run_id
                await harness.watch_run(page, ("running",), timeout=60)
                while (status := jobs.reconcile(run_dir)).get("step", 0) < 1:
                    assert status["state"] == "running", status
                    await asyncio.sleep(0.3)
                worker = status["pid"]
                assert parent_pid(worker) == first.process.pid  # the server itself started the worker

                first.process.send_signal(signal.SIGKILL)
                first.process.wait()
                assert not harness.healthy(first.url)
                assert processes.is_alive(run_folder.read_status(run_dir))  # its own session: the worker lives on

                second = harness.start_app(folder, tmp_path / "cache", tmp_path / "server.log")
                servers.append(second)
                page = await context.new_page()  # the same browser (its workspace cookie) comes back
                await page.goto(f"{second.url}/train")  # no ?run=: the newest active run is shown
                assert await harness.watch_run(page, ("running",), timeout=60) == "running"
                assert f"run={run_id}" in page.url and await harness.problems(page) == []
                steps = run_folder.read_status(run_dir)["step"]
                await page.get_by_role("button", name="Stop", exact=True).first.wait_for()

                os.kill(worker, signal.SIGKILL)  # now the worker dies: the page must say so
                assert await harness.watch_run(page, ("interrupted",), timeout=30) == "interrupted"
                await page.get_by_role("button", name="Resume", exact=True).first.wait_for()
                assert "resume it to continue from its last checkpoint" in await page.locator("body").inner_text()
                status = run_folder.read_status(run_dir)
                assert status["state"] == "interrupted" and status["step"] >= steps
                await browser.close()
        finally:
            for server in servers:
                harness.stop_app(server)
            harness.stop_active_runs(folder)

    asyncio.run(scenario())


def test_a_killed_worker_does_not_stall_the_queue_and_stays_resumable(root, fake, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SEQLAB_MAX_JOBS", "1")
    fake("normal", 400)
    model, train = default_configs("generate")
    first = run_folder.create_run_folder(root / "first", model, train)
    second = run_folder.create_run_folder(root / "second", model, train)
    pid = jobs.submit(first)["pid"]
    assert jobs.submit(second)["queue_position"] == 1
    os.kill(pid, signal.SIGKILL)  # it cannot start the next run on its way out, as a worker normally does
    while processes.is_alive(run_folder.read_status(first)):  # until the kernel has ended it (a zombie is not alive)
        time.sleep(0.01)
    jobs.schedule()  # what any watching page or CLI does every second
    assert run_folder.read_status(first)["state"] == "interrupted"
    assert run_folder.read_status(second)["state"] == "running"
    status = jobs.resume(first)
    assert status["state"] == "queued" and status["queue_position"] == 1


def test_an_unwritable_runs_folder_is_a_message_in_the_cli_and_the_pages(tmp_path, monkeypatch, capsys):
    """A runs root below a regular file cannot be created even by root (chmod would not stop root)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    unusable = blocker / "runs"
    expected = f"Cannot create the runs folder {unusable} (Not a directory)"
    for command in (["train", "--corpus", "hamlet", "--max-steps", "2", "--runs-root", str(unusable)],
                    ["runs", "--runs-root", str(unusable)]):
        assert run_cli(command) == 2
        error = capsys.readouterr().err
        assert error.startswith(f"error: {expected}") and "Fix: set SEQLAB_RUNS" in error
        assert "Traceback" not in error and error.count("\n") == 1
    monkeypatch.setenv("SEQLAB_RUNS", str(unusable))
    train = page("train")
    assert not train.exception and expected in texts(train.error)
    assert train.button(key="train_start").disabled
    for name in ("runs", "generate", "score"):
        app = page(name)
        assert not app.exception, name
        assert expected in texts(app.error), name


def test_a_full_disk_at_start_is_a_message_and_existing_runs_stay_intact(root, finished_run, monkeypatch, capsys):
    before = snapshot(root)

    def no_space(*args, **kwargs):
        raise NO_SPACE

    monkeypatch.setattr(storage.os, "replace", no_space)  # every seqlab write ends in this rename
    assert run_cli(["train", "--corpus", "hamlet", "--max-steps", "2", "--detach"]) == 2
    error = capsys.readouterr().err
    assert "Cannot write the run folder" in error and "No space left on device" in error
    assert "free some disk space" in error and "Traceback" not in error
    train = page("train")
    train.button(key="train_start").click().run()
    assert not train.exception
    assert "No space left on device" in texts(train.error) and "free some disk space" in texts(train.error)
    monkeypatch.undo()

    assert snapshot(root) == before  # no half-made run folder, nothing of the old run changed
    listed = jobs.list_runs(root)
    assert [item["id"] for item in listed] == ["earlier-run"]
    assert listed[0]["status"]["state"] == "finished" and listed[0]["error"] is None


def test_a_full_disk_during_training_fails_the_run_with_the_fix(root, monkeypatch):
    """In-process trainer (as test_training's NaN test): metrics.jsonl stops accepting writes at step 5."""
    from seqlab.runs import worker

    written = []
    append = run_folder.append_jsonl

    def filling_up(path, record):
        if record.get("step", 0) >= 5:
            raise NO_SPACE
        written.append(record)
        append(path, record)

    monkeypatch.setattr(run_folder, "append_jsonl", filling_up)
    model, train = default_configs("generate", corpus="hamlet", units=8, embedding_dim=4, sequence_length=20,
                                   batch_size=8, max_steps=20)
    run_dir = run_folder.create_run_folder(root / "filling-up", model, train)
    assert worker.train_run(run_dir) == "failed"
    status = run_folder.read_status(run_dir)
    assert "the run folder cannot be written (No space left on device)" in status["error"]
    assert "free some disk space" in status["advice"] and "internal error" not in status["error"]
    assert status["state"] in states.RESUMABLE
    assert [record["step"] for record in written] == [1, 2, 3, 4]
