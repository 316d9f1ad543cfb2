"""Runs: every training run — compare curves and settings, continue, download or delete."""

import streamlit as st

from seqlab.ui.routing import require_router
from seqlab.ui.runs_view import show_runs_page

require_router()
st.title("Runs")
st.caption("Every model you trained in this browser: compare them, continue one, download it, or delete it.")
show_runs_page()
