"""Train: set up a run, start it, and watch it learn live."""

import streamlit as st

from seqlab.ui.live_run import show_run
from seqlab.ui.routing import require_router
from seqlab.ui.train_view import current_run, setup_form

require_router()
st.title("Train")
st.caption("Pick what to learn and how big a model to train, then watch the loss fall as it learns.")
run_dir = current_run()
if run_dir is not None:
    show_run(run_dir)
# keyed, so that it stays open (or shut) when the run shown above it ends and the page redraws
with st.expander("Set up a new run", expanded=run_dir is None, icon=":material/tune:", key="train_setup"):
    started = setup_form()
if started is not None:
    st.query_params["run"] = started.name
    st.rerun()
