"""Teacher page glue: a password-locked view of every workspace's runs, a leaderboard, and Stop for any run.

The password is the operator's: SEQLAB_TEACHER_PASSWORD, or `teacher_password` in .streamlit/secrets.toml. With
neither, the page stays locked and says how to set one. Wrong guesses are slowed down server-wide (a few a
minute), so a room cannot guess it by trying. Unlocking lasts for this browser session only.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque
from pathlib import Path

import streamlit as st

from seqlab import settings
from seqlab.errors import SeqlabError
from seqlab.report import comparison, plain_words
from seqlab.report.leaderboard import leaderboard, workspace_label
from seqlab.runs import jobs, states
from seqlab.ui.messages import plain, show_error

UNLOCKED_KEY = "seqlab_teacher_unlocked"
GUESSES_PER_MINUTE = 5  # wrong passwords the whole server accepts per minute
_wrong_guesses: deque[float] = deque()
_guess_lock = threading.Lock()


def _password() -> str:
    try:
        secret = st.secrets.get("teacher_password", "")
    except Exception:  # noqa: BLE001  (no secrets file, or a broken one: the environment variable decides)
        secret = ""
    return str(secret or settings.teacher_password())


def _too_many_guesses() -> bool:
    with _guess_lock:
        while _wrong_guesses and time.monotonic() - _wrong_guesses[0] > 60:
            _wrong_guesses.popleft()
        return len(_wrong_guesses) >= GUESSES_PER_MINUTE


def _check(guess: str, password: str) -> bool:
    if _too_many_guesses():
        st.error("Too many wrong passwords in the last minute. Wait a minute, then try again.")
        return False
    if hmac.compare_digest(guess.encode("utf-8"), password.encode("utf-8")):
        return True
    with _guess_lock:
        _wrong_guesses.append(time.monotonic())
    st.error("That is not the teacher password. Ask whoever runs this server; it is set as "
             f"{settings.TEACHER_PASSWORD_VARIABLE}.")
    return False


def unlocked() -> bool:
    """The password form until this session gives the right password."""
    if st.session_state.get(UNLOCKED_KEY):
        return True
    password = _password()
    if not password:
        st.info(f"The teacher view is locked: no teacher password is set on this server. Whoever starts the app "
                f"sets one, e.g. `{settings.TEACHER_PASSWORD_VARIABLE}=… streamlit run app.py`, or "
                "`teacher_password = \"…\"` in .streamlit/secrets.toml.", icon=":material/lock:")
        return False
    with st.form("teacher_login"):
        guess = st.text_input("Teacher password", type="password", max_chars=200)
        if st.form_submit_button("Unlock", type="primary") and _check(guess, password):
            st.session_state[UNLOCKED_KEY] = True
            st.rerun()
    return False


LEADERBOARD_COLUMNS = ["Task", "Corpus", "Cell", "Right", "Unsure among", "Run", "Whose", "Model", "Runs tried",
                       "Validation loss (nats)"]
EVERY_RUN_COLUMNS = ["Whose", "Name", "Status", "Progress", "Task", "Model", "Corpus", "Right", "Unsure among",
                     "Run id"]


def figure_columns() -> dict:
    """The plain figures as the Runs page shows them; the loss in nats last, for experts."""
    return {"Right": st.column_config.NumberColumn("Right", format="percent",
                                                   help="Share of held-back characters (or reviews) it gets right"),
            "Unsure among": st.column_config.NumberColumn(
                "Unsure among", format="%.1f characters",
                help="Text only: as unsure as choosing between this many characters (fewer is better). "
                     + plain_words.LOSS_IN_NATS),
            "Validation loss (nats)": st.column_config.NumberColumn(format="%.4f", help=plain_words.LOSS_IN_NATS),
            "Progress": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="percent")}


def show_leaderboard(items: list[dict]) -> None:
    st.subheader("Leaderboard")
    st.caption("The best run for each text and cell type: for text generation the one least unsure of the next "
               "character (lowest validation loss), for reviews the one that gets most reviews right.")
    rows = leaderboard(items)
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch", column_order=LEADERBOARD_COLUMNS,
                     column_config=figure_columns())
    else:
        st.caption("No run has a validation figure yet (they appear at the end of a run's first epoch).")


def show_every_run(items: list[dict]) -> None:
    st.subheader("Every run")
    rows = [{"Whose": workspace_label(item.get("workspace")), **comparison.table_row(item)} for item in items]
    st.dataframe(rows, hide_index=True, width="stretch", column_order=EVERY_RUN_COLUMNS,
                 column_config=figure_columns())
    active = [item for item in items if item["status"]["state"] in states.ACTIVE]
    st.subheader("Running and waiting")
    if not active:
        st.caption("Nothing is training or waiting right now.")
    for item in active:
        label, button = st.columns([4, 1], vertical_alignment="center")
        label.markdown(f"**{plain(comparison.run_name(item))}** ({plain(item['id'])}) · "
                       f"{workspace_label(item.get('workspace'))} · {item['status']['state']}")
        if button.button("Stop", key=f"teacher-stop-{item['id']}", icon=":material/stop:",
                         help="Stops this run after its current batch; its owner keeps what it learned."):
            try:
                jobs.stop(Path(item["path"]))
            except (SeqlabError, OSError) as error:
                show_error(error)
            else:
                st.rerun()


def show_teacher_page() -> None:
    if not unlocked():
        return
    try:
        items = jobs.list_runs()
    except SeqlabError as error:
        show_error(error)
        return
    st.caption(f"{len(items)} runs from {len({item.get('workspace') for item in items})} workspaces "
               "(each browser is one workspace; runs started from the command line are the operator's).")
    show_leaderboard(items)
    show_every_run(items)
