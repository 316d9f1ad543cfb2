"""Workspaces on the pages (AppTest, isolation on): each session sees only its own runs; a share link reads
without controlling; the Teacher page is locked by the operator's password and then sees and stops every run."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from seqlab.presets import default_configs
from seqlab.runs import run_folder, workspaces
from seqlab.runs.states import RunState
from seqlab.ui.workspace import WORKSPACE_KEY
from tests.conftest import REPO

ALICE, BOB = workspaces.new_workspace_id(), workspaces.new_workspace_id()
RUN = "20260101-000000-generate-lstm-aaaa"


@pytest.fixture(autouse=True)
def isolation_on(monkeypatch):
    monkeypatch.setenv("SEQLAB_WORKSPACES", "on")


@pytest.fixture
def alices_run():
    """A queued run of Alice's that never starts (no queued_at: not submitted)."""
    model, train = default_configs("generate", corpus="hamlet")
    run_dir = run_folder.create_run_folder(run_folder.runs_root() / RUN, model, train)
    workspaces.write_owner(run_dir, ALICE)
    return run_dir


def page(name: str, workspace: str, **query) -> AppTest:
    app = AppTest.from_file(str(REPO / "pages" / f"{name}.py"), default_timeout=60)
    app.session_state[WORKSPACE_KEY] = workspace
    for key, value in query.items():
        app.query_params[key] = value
    return app.run()


def texts(app: AppTest) -> str:
    return "\n".join(str(element.value) for kind in ("markdown", "error", "info", "caption", "subheader")
                     for element in getattr(app, kind))


def stop_buttons(app: AppTest) -> list:
    return [button for button in app.button if button.label == "Stop"]


def test_the_owner_sees_the_run_and_its_stop_button_and_no_one_else_does(alices_run):
    alice = page("train", ALICE)
    assert not alice.exception and RUN in texts(alice) and stop_buttons(alice)
    bob = page("train", BOB)
    assert not bob.exception and RUN not in texts(bob) and not stop_buttons(bob)
    for name in ("home", "runs"):
        assert RUN not in texts(page(name, BOB)), name
        assert RUN in texts(page(name, ALICE)) or name == "runs", name
    assert RUN in str([row for row in page("runs", ALICE).dataframe[0].value.to_dict("records")])


def test_a_guessed_run_id_gets_the_no_such_run_message(alices_run):
    bob = page("train", BOB, run=RUN)
    assert f"There is no run '{RUN}' in your workspace" in texts(bob) and not stop_buttons(bob)
    runs = page("runs", BOB, run=RUN)
    assert f"There is no run '{RUN}' in your workspace" in texts(runs)
    assert not [button for button in runs.button if button.label.startswith("Delete")]


def test_a_share_link_opens_the_run_read_only_and_a_wrong_token_opens_nothing(alices_run):
    token = workspaces.share_token(alices_run)
    bob = page("train", BOB, run=RUN, share=token)
    assert not bob.exception and f"Run {RUN}" in texts(bob) and "Shared with you read-only" in texts(bob)
    assert not stop_buttons(bob) and not [button for button in bob.button if button.label == "Resume"]
    wrong = page("train", BOB, run=RUN, share=token[::-1])
    assert f"There is no run '{RUN}' in your workspace" in texts(wrong)
    assert RUN not in texts(page("runs", BOB, run=RUN, share=token)).replace(f"no run '{RUN}'", "")


def test_the_owners_stop_is_refused_for_a_share_link_even_if_clicked(alices_run, monkeypatch):
    from seqlab.ui import live_run

    bob = page("train", BOB, run=RUN, share=workspaces.share_token(alices_run))
    monkeypatch.setattr(live_run, "current_viewer", lambda: workspaces.Viewer(BOB))
    live_run._stop(alices_run)  # a forged click: the callback checks again
    assert run_folder.read_status(alices_run)["state"] == RunState.QUEUED and not bob.exception


def test_the_teacher_page_is_locked_without_a_password(alices_run, monkeypatch):
    monkeypatch.delenv("SEQLAB_TEACHER_PASSWORD", raising=False)
    teacher = page("teacher", BOB)
    assert "no teacher password is set" in texts(teacher) and RUN not in texts(teacher)


def test_the_teacher_unlocks_sees_every_workspace_and_stops_any_run(alices_run, monkeypatch):
    monkeypatch.setenv("SEQLAB_TEACHER_PASSWORD", "s3cret")
    teacher = page("teacher", BOB)
    teacher.text_input[0].input("wrong")
    teacher.button[0].click().run()
    assert "That is not the teacher password" in texts(teacher) and RUN not in texts(teacher)
    teacher.text_input[0].input("s3cret")
    teacher.button[0].click().run()
    assert not teacher.exception and RUN in texts(teacher) and "Leaderboard" in texts(teacher)
    next(button for button in teacher.button if button.key == f"teacher-stop-{RUN}").click().run()
    assert run_folder.read_status(alices_run)["state"] == RunState.STOPPED


def test_uploads_go_to_the_workspaces_own_folder():
    app = page("data", ALICE)
    app.radio[0].set_value("Paste").run()
    app.text_area[0].input("To be, or not to be, that is the question. " * 40).run()
    stored = app.session_state["seqlab_corpus"]["corpus"]
    assert stored.startswith(str(workspaces.upload_folder(run_folder.runs_root(), ALICE)))
