"""The browser's workspace: which `Viewer` (seqlab/runs/workspaces.py) this Streamlit session is.

The id lives in a cookie, so it survives reloads, new tabs and browser restarts and a single user never notices
it. The server reads cookies only when a session connects (st.context.cookies), so the first visit makes up an
id, keeps it in the session, and a small script (`remember_in_browser`, run by app.py) stores it in the cookie.
A tab that made up its own id before the cookie existed adopts the cookie's by reloading once.

With isolation off (SEQLAB_WORKSPACES=off: a personal laptop) every browser is the operator, as the CLI is:
one shared workspace, every run. Share links (`?run=<id>&share=<token>`) add read-only access to one run for
this session.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from seqlab import settings
from seqlab.errors import SeqlabError
from seqlab.runs import run_folder, workspaces
from seqlab.runs.workspaces import Viewer
from seqlab.ui.messages import show_error

COOKIE = "seqlab_workspace"
WORKSPACE_KEY = "seqlab_workspace"  # st.session_state: this session's workspace id
SHARED_KEY = "seqlab_shared_runs"  # st.session_state: run ids opened through a share link
COOKIE_SECONDS = 400 * 24 * 3600  # browsers cap a cookie's life at about 400 days

_REMEMBER = """<script>
(function () {{
  const found = document.cookie.match(/(?:^|;\\s*){cookie}=([A-Za-z0-9_-]{{22,64}})(?:;|$)/);
  if (!found) {{
    document.cookie = "{cookie}={workspace}; max-age={seconds}; path=/; SameSite=Lax";
  }} else if (found[1] !== "{workspace}" && !sessionStorage.getItem("seqlab_adopted")) {{
    sessionStorage.setItem("seqlab_adopted", "1");  // at most once per tab: never a reload loop
    window.location.reload();
  }}
}})();
</script>"""


def isolation_on() -> bool:
    """SEQLAB_WORKSPACES (on by default); a bad value is shown and read as on, the safe side."""
    try:
        return settings.workspaces_on()
    except SeqlabError as error:
        show_error(error)
        return True


def _workspace_id() -> str:
    workspace = st.session_state.get(WORKSPACE_KEY)
    if not workspaces.is_workspace_id(workspace):
        cookie = st.context.cookies.get(COOKIE)
        workspace = cookie if workspaces.is_workspace_id(cookie) else workspaces.new_workspace_id()
        st.session_state[WORKSPACE_KEY] = workspace
    return workspace


def current_viewer() -> Viewer:
    """This session's Viewer: its workspace (from the cookie, or new), plus the runs it opened by share link."""
    shared = frozenset(st.session_state.get(SHARED_KEY, ()))
    if not isolation_on():
        return Viewer(workspace=None, from_browser=True, shared_runs=shared)
    _accept_share_link()
    return Viewer(workspace=_workspace_id(), from_browser=True, shared_runs=frozenset(st.session_state[SHARED_KEY]))


def _accept_share_link() -> None:
    """A valid ?run=…&share=… grants this session read-only access to that run; a wrong token grants nothing."""
    shared = st.session_state.setdefault(SHARED_KEY, [])
    run_id, token = st.query_params.get("run"), st.query_params.get("share")
    if not run_id or not token or run_id in shared:
        return
    try:
        path = run_folder.run_in_root(run_id)
    except SeqlabError:
        return  # the page says there is no such run
    if workspaces.share_matches(path, token):
        shared.append(run_id)


def remember_in_browser() -> None:
    """Store this session's workspace id in the browser's cookie (app.py calls this on every run)."""
    if not isolation_on():
        return
    script = _REMEMBER.format(cookie=COOKIE, workspace=_workspace_id(), seconds=COOKIE_SECONDS)
    with st.sidebar:
        st.html(script, unsafe_allow_javascript=True)


def share_link(run_dir: Path) -> str | None:
    """The read-only link to a run (relative to the app's address when Streamlit does not know it)."""
    token = workspaces.share_token(run_dir)
    if token is None:
        return None
    base = (st.context.url or "").split("?")[0].rstrip("/")
    if base.rsplit("/", 1)[-1] in ("runs", "generate", "score", "forecast", "data", "train"):
        base = base.rsplit("/", 1)[0]
    return f"{base}/train?run={run_dir.name}&share={token}"


def show_share_link(run_dir: Path) -> None:
    """The owner's way to show a run to others: a link that opens its charts, samples, Generate and Score, but
    never its Stop, Resume, Delete or Download."""
    link = share_link(run_dir)
    if link is None or not isolation_on():
        return
    with st.popover("Share", icon=":material/share:", help="A link others can open to watch this run and use its "
                    "model, without being able to stop, resume, delete or download it."):
        st.caption("Anyone with this link can see this run's charts and samples and use its model — read-only.")
        st.code(link, language=None)
