"""Teacher: every workspace's runs, a leaderboard, and Stop for any run (locked by the operator's password)."""

import streamlit as st

from seqlab.ui.routing import require_router
from seqlab.ui.teacher_view import show_teacher_page

require_router()
st.title("Teacher view")
st.caption("For whoever runs this server for a class: every person's runs, the best ones, and a Stop for any.")
show_teacher_page()
