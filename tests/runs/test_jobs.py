"""The job runner, driven by a fake worker (no TensorFlow) that behaves like the trainer on disk. The tests that
take `job_backend` are the contract every backend keeps (tests/runs/conftest.py runs them once per backend)."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from seqlab import presets, settings
from seqlab.errors import SeqlabError
from seqlab.runs import backends, jobs, processes, run_folder
from tests.tiny_runs import end_every_run

# Like the real worker: merges its state into status.json, appends metrics, obeys stop_requested,
# writes a final state and calls schedule() as it exits. Workers it schedules are fakes too.
FAKE_WORKER = r'''
import os, sys, time
from pathlib import Path
from seqlab.runs import jobs, processes, run_folder

run_dir, root, mode, steps = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
processes.worker_command = lambda d, r: [sys.executable, __file__, str(d), str(r), mode, str(steps)]
first = run_folder.read_status(run_dir).get("step", 0) + 1
run_folder.write_status(run_dir, state="running", step=first - 1, worker_pid=os.getpid())
if mode == "crash":
    time.sleep(0.2)
    sys.exit(1)
if mode == "ignore-stop":
    time.sleep(60)
for step in range(first, first + steps):
    if (run_dir / run_folder.STOP_REQUEST).exists():
        run_folder.write_status(run_dir, state="stopped")
        jobs.schedule(root)
        sys.exit(0)
    time.sleep(0.05)
    run_folder.append_jsonl(run_dir / run_folder.METRICS, {"type": "step", "step": step})
    run_folder.write_status(run_dir, step=step)
run_folder.write_status(run_dir, state="finished")
jobs.schedule(root)
'''


@pytest.fixture
def root() -> Path:
    return run_folder.runs_root()


@pytest.fixture
def fake(tmp_path, monkeypatch, root):
    """use(mode, steps) makes every worker started from now on a fake one; all are gone after the test."""
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE_WORKER, encoding="utf-8")

    def use(mode: str = "normal", steps: int = 5) -> None:
        monkeypatch.setattr(processes, "worker_command",
                            lambda run_dir, root: [sys.executable, str(script), str(run_dir), str(root), mode,
                                                   str(steps)])
    use()
    yield use
    end_every_run(root)


def new_run(parent: Path, name: str | None = None, created_at: float | str | None = None) -> Path:
    model, train = presets.default_configs("generate")
    run_dir = run_folder.create_run_folder(parent / (name or run_folder.new_run_id(model, train)), model, train)
    if created_at is not None:
        run_folder.write_status(run_dir, created_at=created_at)
    return run_dir


def poll(predicate, timeout: float = 20.0, what: str = "condition"):
    """Wait without scheduling anything, so a test can see what the workers did on their own."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def steps_logged(run_dir: Path) -> list[int]:
    return [record["step"] for record in run_folder.read_jsonl(run_dir / run_folder.METRICS)]


def test_submit_runs_the_worker_in_its_own_process_and_session(root, fake):
    fake("normal", 10)
    run_dir = new_run(root, "r1")
    status = jobs.submit(run_dir)
    assert status["state"] == "running" and status["queue_position"] is None
    pid = status["pid"]
    assert pid != os.getpid()
    if not settings.portable_processes():  # POSIX: its own session; the portable (Windows) path has none
        assert os.getsid(pid) != os.getsid(0) and os.getsid(pid) == pid
    assert status["pid_start_time"] == processes.process_start_time(pid)
    assert status["backend"] == "local" and status["where"].startswith("this computer")  # the default backend
    assert status["queued_at"] <= status["launched_at"]
    status = jobs.wait_for(run_dir, timeout=30)
    assert status["state"] == "finished" and status["worker_pid"] == pid
    assert steps_logged(run_dir) == list(range(1, 11))


def test_the_queue_is_bounded_and_moved_by_the_exiting_worker(root, job_backend, fake, monkeypatch):
    monkeypatch.setenv("SEQLAB_MAX_JOBS", "1")
    fake("normal", 10)
    first, second, third = new_run(root, "a"), new_run(root, "b"), new_run(root, "c")
    assert jobs.submit(first)["state"] == "running"
    status = jobs.submit(second)
    assert status["state"] == "queued" and status["queue_position"] == 1
    status = jobs.submit(third)
    assert status["state"] == "queued" and status["queue_position"] == 2
    assert run_folder.read_status(first)["state"] == "running"
    # From here on only the workers schedule: each one starts the next as it exits.
    poll(lambda: run_folder.read_status(first)["state"] == "finished", what="the first run to finish")
    poll(lambda: run_folder.read_status(second)["state"] in ("running", "finished"), what="the second run to start")
    poll(lambda: run_folder.read_status(third)["queue_position"] == 1, what="the third run to move up the queue")
    assert run_folder.read_status(third)["state"] == "queued"
    poll(lambda: run_folder.read_status(second)["state"] == "finished", what="the second run to finish")
    poll(lambda: run_folder.read_status(third)["state"] == "finished", what="the third run to finish")
    # the second starts after the first finished
    assert run_folder.read_status(second)["launched_at"] >= run_folder.read_status(first)["updated_at"]
    assert run_folder.read_status(third)["launched_at"] >= run_folder.read_status(second)["updated_at"]


def test_stop_of_a_running_run_takes_effect_quickly(root, job_backend, fake):
    fake("normal", 400)
    run_dir = new_run(root)
    jobs.submit(run_dir)
    poll(lambda: run_folder.read_status(run_dir).get("step", 0) >= 2, what="training to start")
    started = time.monotonic()
    assert jobs.stop(run_dir)["state"] == "stopping"
    assert json.loads((run_dir / run_folder.STOP_REQUEST).read_text())["requested_at"] > 0
    status = jobs.wait_for(run_dir, timeout=30)
    assert status["state"] == "stopped" and time.monotonic() - started < 3
    assert len(steps_logged(run_dir)) < 100


def test_stop_of_a_queued_run_is_immediate(root, job_backend, fake, monkeypatch):
    monkeypatch.setenv("SEQLAB_MAX_JOBS", "1")
    fake("normal", 400)
    busy, waiting = new_run(root, "busy"), new_run(root, "waiting")
    jobs.submit(busy)
    assert jobs.submit(waiting)["state"] == "queued"
    assert jobs.stop(waiting)["state"] == "stopped"
    jobs.schedule()
    assert run_folder.read_status(waiting)["state"] == "stopped" and "pid" not in run_folder.read_status(waiting)


def test_a_worker_ignoring_stop_is_terminated_after_the_grace_period(root, job_backend, fake):
    fake("ignore-stop")
    run_dir = new_run(root)
    assert jobs.submit(run_dir)["backend"] == job_backend
    poll(lambda: run_folder.read_status(run_dir).get("worker_pid"), what="the worker to start")
    started = time.monotonic()
    status = jobs.stop(run_dir, wait=True, grace=1.0)
    assert status["state"] == "stopped"
    assert 1.0 <= time.monotonic() - started < 5
    assert not backends.for_status(status).is_alive(status)


def test_reconcile_terminates_a_worker_that_ignores_stop(root, job_backend, fake, monkeypatch):
    monkeypatch.setattr(jobs, "STOP_GRACE_SECONDS", 0.3)
    fake("ignore-stop")
    run_dir = new_run(root)
    jobs.submit(run_dir)
    poll(lambda: run_folder.read_status(run_dir).get("worker_pid"), what="the worker to start")
    jobs.stop(run_dir)
    started = time.monotonic()
    status = jobs.wait_for(run_dir, timeout=10)  # reconcile() sends SIGTERM once the grace has passed
    assert status["state"] == "stopped" and status["terminate_sent_at"] is not None
    assert time.monotonic() - started < jobs.KILL_AFTER_TERM_SECONDS  # SIGTERM did it, no SIGKILL needed


def test_a_killed_worker_is_interrupted_and_resumes_keeping_its_metrics(root, job_backend, fake):
    fake("normal", 400)
    run_dir = new_run(root)
    jobs.submit(run_dir)
    poll(lambda: run_folder.read_status(run_dir).get("step", 0) >= 3, what="some steps")
    pid = run_folder.read_status(run_dir)["worker_pid"]  # the training process itself, on any backend
    os.kill(pid, signal.SIGKILL)
    status = poll(lambda: (s := jobs.reconcile(run_dir))["state"] != "running" and s, what="reconcile to notice")
    assert status["state"] == "interrupted" and "ended unexpectedly" in status["error"]
    before = steps_logged(run_dir)
    assert before[:3] == [1, 2, 3]
    fake("normal", 3)
    status = jobs.resume(run_dir)
    assert status["state"] == "running" and status["resume"] is True and status["error"] is None
    poll(lambda: run_folder.read_status(run_dir).get("worker_pid") not in (None, pid), what="a new worker")
    assert jobs.wait_for(run_dir, timeout=30)["state"] == "finished"
    after = steps_logged(run_dir)
    assert after[:len(before)] == before and len(after) == len(before) + 3


def test_resume_refuses_a_finished_run_and_a_crash_is_interrupted(root, job_backend, fake):
    fake("normal", 1)
    done = new_run(root, "done")
    jobs.submit(done)
    assert jobs.wait_for(done, timeout=30)["state"] == "finished"
    with pytest.raises(SeqlabError, match="finished and cannot be resumed"):
        jobs.resume(done)
    fake("crash")
    crashed = new_run(root, "crashed")
    jobs.submit(crashed)
    status = jobs.wait_for(crashed, timeout=30)
    assert status["state"] == "interrupted" and "resume it" in status["error"]


def test_resume_moves_a_resumed_run_to_the_back_of_the_queue(root, fake, monkeypatch):
    monkeypatch.setenv("SEQLAB_MAX_JOBS", "1")
    fake("normal", 400)
    old = new_run(root, "old", created_at=1.0)  # created first, but queued again last
    busy, waiting = new_run(root, "busy"), new_run(root, "waiting")
    run_folder.write_status(old, state="stopped", step=0)
    jobs.submit(busy)
    jobs.submit(waiting)
    status = jobs.resume(old)
    assert status["state"] == "queued" and status["queue_position"] == 2


def test_pid_reuse_is_not_mistaken_for_the_worker():
    me = os.getpid()
    started = processes.process_start_time(me)
    assert started is not None
    assert processes.is_alive({"pid": me, "pid_start_time": started})
    assert not processes.is_alive({"pid": me, "pid_start_time": started + 1})
    assert not processes.is_alive({"pid": None}) and not processes.is_alive({})


def test_list_runs_shows_damaged_folders_beside_healthy_ones(root):
    new_run(root, "older", created_at=1000.0)
    new_run(root, "newer", created_at=2000.0)
    broken = new_run(root, "broken", created_at=1500.0)
    (broken / run_folder.CONFIG).write_text("{not json", encoding="utf-8")
    no_status = new_run(root, "no-status", created_at=500.0)
    (no_status / run_folder.STATUS).write_text("garbage", encoding="utf-8")
    new_run(root, "odd", created_at="yesterday")  # hand-edited: sorts as oldest, does not break the sort
    (root / "stray.txt").write_text("not a run")
    (root / ".scheduler.lock").touch()  # not a run
    listed = {item["id"]: item for item in jobs.list_runs()}
    assert set(listed) == {"older", "newer", "broken", "no-status", "odd"}
    assert listed["broken"]["status"]["state"] == "damaged" and "not valid JSON" in listed["broken"]["error"]
    assert listed["no-status"]["status"]["state"] == "damaged" and listed["no-status"]["error"]
    for name in ("older", "newer"):
        item = listed[name]
        assert item["error"] is None and item["status"]["state"] == "queued"
        assert item["model"]["task"] == "generate" and item["train"]["corpus"] == "tiny-shakespeare"
        assert item["path"] == str(root / name)
    assert [item["id"] for item in jobs.list_runs()] == ["newer", "broken", "older", "odd", "no-status"]


def test_submit_of_a_folder_outside_the_root_links_it_in(root, fake, tmp_path):
    fake("normal", 2)
    outside = new_run(tmp_path / "elsewhere", "r1")
    (root / "r1").mkdir()  # the name is taken: the link gets a suffix
    jobs.submit(outside)
    link = root / "r1-2"
    assert link.is_symlink() and link.resolve() == outside.resolve()
    assert jobs.wait_for(outside, timeout=30)["state"] == "finished"
    listed = {item["id"]: item for item in jobs.list_runs()}
    assert listed["r1-2"]["status"]["state"] == "finished" and listed["r1-2"]["model"] is not None


def test_finished_workers_are_reaped(root, fake):
    fake("normal", 2)
    run_dir = new_run(root)
    pid = jobs.submit(run_dir)["pid"]
    assert jobs.wait_for(run_dir, timeout=30)["state"] == "finished"

    def reaped() -> bool:
        jobs.schedule()
        return not Path(f"/proc/{pid}").exists()
    poll(reaped, timeout=10, what="the finished worker to be reaped")
    assert pid not in processes._children


def test_max_jobs_setting(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # no GPU slots here, even on a machine with GPUs
    monkeypatch.setenv("SEQLAB_MAX_JOBS", "3")
    assert jobs.max_concurrent_jobs() == 3 and processes.threads_per_job() == max(1, (os.cpu_count() or 2) // 3)
    monkeypatch.setenv("SEQLAB_MAX_JOBS", "0")
    with pytest.raises(SeqlabError, match="SEQLAB_MAX_JOBS"):
        jobs.max_concurrent_jobs()
    monkeypatch.delenv("SEQLAB_MAX_JOBS")
    assert jobs.max_concurrent_jobs() == max(1, (os.cpu_count() or 2) // 2)


def test_stop_never_turns_a_run_the_worker_just_finished_into_stopping(root, monkeypatch):
    """The worker writes 'finished' between the job runner's look at the run and its 'stopping'."""
    run_dir = new_run(root, "just-finished")
    run_folder.write_status(run_dir, state="finished", step=10)
    monkeypatch.setattr(jobs, "reconcile", lambda path: {**run_folder.read_status(path), "state": "running"})
    jobs.stop(run_dir)
    assert run_folder.read_status(run_dir)["state"] == "finished"


def test_two_resumes_at_once_queue_the_run_once_and_start_one_worker(root, fake):
    import threading

    fake("normal", 40)
    run_dir = new_run(root, "twice")
    run_folder.write_status(run_dir, state="stopped", queued_at=time.time())
    outcomes, started_before = [], len(processes._children)

    def resume() -> None:
        try:
            outcomes.append(jobs.resume(run_dir, root)["state"])
        except SeqlabError as error:
            outcomes.append(str(error))

    threads = [threading.Thread(target=resume) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(outcome == "running" for outcome in outcomes) == 1, outcomes
    assert any("cannot be resumed" in outcome for outcome in outcomes), outcomes
    assert len(processes._children) == started_before + 1


def test_a_pid_without_its_start_time_or_another_command_line_is_never_signalled(root):
    """A hand-edited status naming some process must not get that process group SIGTERM and SIGKILL."""
    import subprocess
    import sys

    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        started = processes.process_start_time(bystander.pid)
        run_dir = new_run(root, "someone-elses-pid")
        assert not processes.is_alive({"pid": bystander.pid})  # no start time: not known to be the run's
        status = {"pid": bystander.pid, "pid_start_time": started}
        assert processes.is_alive(status)
        processes.end_worker(status, run_dir, force=True)  # alive, but its command line names no run
        time.sleep(0.3)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_out_folders_are_linked_with_a_junction_where_symlinks_are_refused(root, tmp_path, monkeypatch):
    """Windows without developer mode refuses symlinks; a directory junction needs no rights."""
    import sys
    import types

    made = []

    def refuse(self, target, target_is_directory=False):
        raise OSError(1314, "A required privilege is not held by the client")

    def create_junction(target, link):
        made.append((target, link))
        os.symlink(target, link)  # what the junction does for Path.resolve and is_dir

    monkeypatch.setattr(Path, "symlink_to", refuse)
    monkeypatch.setattr(jobs, "ON_WINDOWS", True)
    monkeypatch.setitem(sys.modules, "_winapi", types.SimpleNamespace(CreateJunction=create_junction))
    elsewhere = tmp_path / "elsewhere" / "my-run"
    elsewhere.mkdir(parents=True)
    link = jobs._link_into_root(elsewhere, root)
    assert made == [(str(elsewhere.resolve()), str(root / "my-run"))] and link.resolve() == elsewhere.resolve()
