"""Workspaces in the core: who may read or control a run, the per-workspace share of the queue, turns, uploads."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from seqlab.errors import SeqlabError
from seqlab.presets import default_configs
from seqlab.runs import jobs, launch, processes, run_folder, workspaces
from seqlab.runs.states import RunState
from seqlab.runs.workspaces import OPERATOR, Viewer

ALICE, BOB = workspaces.new_workspace_id(), workspaces.new_workspace_id()


@pytest.fixture(autouse=True)
def isolation_on(monkeypatch):
    monkeypatch.setenv("SEQLAB_WORKSPACES", "on")


def make_run(root: Path, name: str, workspace: str | None, queued_at: float | None = None) -> Path:
    """A queued run folder owned by `workspace`, never started (no worker)."""
    model, train = default_configs("generate", corpus="hamlet")
    run_dir = run_folder.create_run_folder(root / name, model, train)
    workspaces.write_owner(run_dir, workspace)
    if queued_at is not None:
        run_folder.write_status(run_dir, queued_at=queued_at)
    return run_dir


def test_workspace_ids_are_random_and_checked():
    assert ALICE != BOB and workspaces.is_workspace_id(ALICE) and len(ALICE) >= 32
    for bad in ["", "short", "../../etc/passwd", "a" * 65, None, 42, "x" * 30 + "!"]:
        assert not workspaces.is_workspace_id(bad)


def test_a_run_is_reachable_only_from_its_workspace_with_one_message_for_missing_and_foreign():
    root = run_folder.runs_root()
    make_run(root, "alices-run", ALICE)
    alice, bob = Viewer(ALICE), Viewer(BOB)
    assert workspaces.run_for(alice, "alices-run", control=True) == root / "alices-run"
    with pytest.raises(SeqlabError) as foreign:
        workspaces.run_for(bob, "alices-run")
    with pytest.raises(SeqlabError) as missing:
        workspaces.run_for(bob, "no-such-run")
    assert str(foreign.value).replace("alices-run", "X") == str(missing.value).replace("no-such-run", "X")
    assert "in your workspace" in str(foreign.value)
    assert workspaces.run_for(OPERATOR, "alices-run", control=True)  # the CLI reaches every run


def test_a_share_link_reads_but_never_controls():
    root = run_folder.runs_root()
    run_dir = make_run(root, "alices-run", ALICE)
    token = workspaces.share_token(run_dir)
    assert token and workspaces.share_matches(run_dir, token)
    assert not workspaces.share_matches(run_dir, token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert not workspaces.share_matches(make_run(root, "other", ALICE), token)  # one token per run
    shared = Viewer(BOB, shared_runs=frozenset({"alices-run"}))
    assert workspaces.run_for(shared, "alices-run") == run_dir
    with pytest.raises(SeqlabError, match="in your workspace"):
        workspaces.run_for(shared, "alices-run", control=True)


def test_listing_shows_each_workspace_its_own_runs_and_the_operator_all():
    root = run_folder.runs_root()
    make_run(root, "a1", ALICE), make_run(root, "b1", BOB), make_run(root, "cli", None)
    items = jobs.list_runs()
    assert {item["id"]: item["workspace"] for item in items} == {"a1": ALICE, "b1": BOB, "cli": None}
    assert [item["id"] for item in workspaces.visible_runs(Viewer(ALICE), items)] == ["a1"]
    assert [item["id"] for item in workspaces.visible_runs(Viewer(BOB), items)] == ["b1"]
    assert sorted(item["id"] for item in workspaces.visible_runs(OPERATOR, items)) == ["a1", "b1", "cli"]


def test_a_workspace_may_have_two_runs_waiting_or_training_and_the_third_is_refused():
    root = run_folder.runs_root()
    make_run(root, "a1", ALICE), make_run(root, "a2", ALICE)
    before = sorted(path.name for path in root.iterdir() if not path.name.startswith("."))
    model, train = default_configs("generate", corpus="hamlet", max_steps=2)
    with pytest.raises(SeqlabError) as refused:
        launch.start_training(model, train, viewer=Viewer(ALICE))
    assert "You already have 2 runs waiting or training" in str(refused.value)
    assert "stop one on the Runs page" in str(refused.value)
    assert sorted(path.name for path in root.iterdir() if not path.name.startswith(".")) == before  # none made
    run_folder.write_status(root / "a1", state=RunState.FINISHED)  # one ended: room for one more
    assert workspaces.check_room(Viewer(ALICE), root) is None
    workspaces.check_room(Viewer(BOB), root)  # another workspace has its own share
    workspaces.check_room(OPERATOR, root)  # the operator has no cap


def test_a_lower_cap_from_the_operator_and_a_bad_one(monkeypatch):
    root = run_folder.runs_root()
    make_run(root, "a1", ALICE)
    monkeypatch.setenv("SEQLAB_RUNS_PER_WORKSPACE", "1")
    with pytest.raises(SeqlabError, match="at most 1 at a time"):
        workspaces.check_room(Viewer(ALICE), root)
    monkeypatch.setenv("SEQLAB_RUNS_PER_WORKSPACE", "lots")
    with pytest.raises(SeqlabError, match="SEQLAB_RUNS_PER_WORKSPACE is 'lots'"):
        workspaces.check_room(Viewer(ALICE), root)


def test_turns_go_round_the_workspaces_not_first_come():
    entries = {name: Path(name) for name in ["a1", "a2", "a3", "b1", "c1", "c2"]}
    queued = [(1.0, ALICE, entries["a1"]), (2.0, ALICE, entries["a2"]), (3.0, ALICE, entries["a3"]),
              (4.0, BOB, entries["b1"]), (5.0, None, entries["c1"]), (6.0, None, entries["c2"])]
    assert [path.name for path in jobs.turn_order(queued, {}, {})] == ["a1", "b1", "c1", "a2", "c2", "a3"]
    # Alice already trains one: everyone else's first run goes before her next
    assert [path.name for path in jobs.turn_order(queued, {ALICE: 1}, {})] == ["b1", "c1", "a1", "c2", "a2", "a3"]
    # nobody trains, but Alice had the last turn: the others go first at the same turn
    assert [path.name for path in jobs.turn_order(queued, {}, {ALICE: 9.0, None: 5.0})] == [
        "b1", "c1", "a1", "c2", "a2", "a3"]


def test_the_scheduler_starts_runs_in_turns(monkeypatch):
    """One slot: each schedule() starts one run; the order they start in is the workspaces' turns."""
    root = run_folder.runs_root()
    now = time.time()
    for index, (name, workspace) in enumerate([("a1", ALICE), ("a2", ALICE), ("b1", BOB), ("b2", BOB)]):
        make_run(root, name, workspace, queued_at=now + index)
    started = []

    def fake_start(run_dir, root, *_):  # ends at once, freeing the slot for the next schedule()
        started.append(run_dir.name)
        run_folder.write_status(run_dir, state=RunState.FINISHED)
        return 0

    monkeypatch.setenv("SEQLAB_MAX_JOBS", "1")
    monkeypatch.setattr(processes, "start_worker", fake_start)
    jobs.schedule(root)
    assert started == ["a1"] and run_folder.read_status(root / "b1")["queue_position"] == 1  # b1 is next
    for _ in range(3):
        jobs.schedule(root)
    assert started == ["a1", "b1", "a2", "b2"]


def test_app_runs_get_the_operators_time_cap_and_cli_runs_do_not(monkeypatch):
    _, train = default_configs("generate", corpus="hamlet")
    assert launch.app_time_budget(train).time_budget_seconds == 900  # "no budget" becomes the cap
    assert launch.app_time_budget(train.__class__(**{**train.__dict__, "time_budget_seconds": 60})
                                  ).time_budget_seconds == 60
    assert launch.app_time_budget(train.__class__(**{**train.__dict__, "time_budget_seconds": 86400})
                                  ).time_budget_seconds == 900
    monkeypatch.setenv("SEQLAB_APP_RUN_SECONDS", "0")
    assert launch.app_time_budget(train).time_budget_seconds == 0


def test_uploads_live_in_the_workspaces_own_folder_and_no_one_trains_on_anothers(tmp_path):
    root = run_folder.runs_root()
    mine = launch.store_corpus_bytes(b"to be or not to be\n" * 200, ".txt", viewer=Viewer(ALICE))
    assert mine.parent == workspaces.upload_folder(root, ALICE) and ALICE not in str(mine)  # the id is not in it
    assert launch.resolve_corpus(str(mine), Viewer(ALICE)) == str(mine)
    private = tmp_path / "private.txt"
    private.write_text("a server file\n" * 100)
    for viewer, path in [(Viewer(BOB), mine), (Viewer(ALICE), private), (Viewer(ALICE), Path("/etc/passwd"))]:
        with pytest.raises(SeqlabError, match="not one of yours"):
            launch.resolve_corpus(str(path), viewer)
    assert launch.resolve_corpus(str(private), OPERATOR) == str(private)  # the CLI trains on any file


def test_a_browsers_resume_counts_against_its_share_too():
    root = run_folder.runs_root()
    make_run(root, "a1", ALICE), make_run(root, "a2", ALICE)
    stopped = make_run(root, "a3", ALICE)
    run_folder.write_status(stopped, state=RunState.STOPPED)
    with pytest.raises(SeqlabError, match="You already have 2 runs waiting or training"):
        jobs.resume(stopped, root, viewer=Viewer(ALICE))
    assert run_folder.read_status(stopped)["state"] == RunState.STOPPED  # unchanged
