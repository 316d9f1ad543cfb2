"""Make every page run under app.py's router, even on a fresh server's first deep link.

Streamlit assumes an app with a `pages/` folder uses the old folder routing until app.py first calls
st.navigation. So the first session after a (re)start that opens, say, /train directly gets the folder's
auto-generated pages, without app.py's titles, icons and wide layout. The page notices (app.py did not mark
the session), turns the folder routing off as st.navigation itself would, and reruns: the same URL then goes
through app.py. (PagesManager.uses_pages_directory is the flag st.navigation clears; Streamlit 1.67.)
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

ROUTED_KEY = "seqlab_routed"  # set by app.py on every run


def mark_routed() -> None:
    """Called by app.py before it runs the chosen page."""
    st.session_state[ROUTED_KEY] = True


def require_router() -> None:
    """Called first by each page: rerun once if app.py's router did not run this session."""
    context = get_script_run_ctx()
    if context is None or Path(context.main_script_path).name != "app.py":
        return  # a page run on its own (AppTest): nothing to fix
    if not st.session_state.get(ROUTED_KEY):
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False  # what app.py's st.navigation call does
        st.session_state[ROUTED_KEY] = True  # never loop
        st.rerun()
