"""Lesson: why gates? A cell-type race, a memory probe and a look inside, one click per step (no TensorFlow here)."""

import streamlit as st

from seqlab.ui.lesson_view import show_lesson
from seqlab.ui.routing import require_router

require_router()
st.title("Lesson: why gates?")
st.caption("For teachers: three experiments that show why the LSTM and the GRU remember longer than the SimpleRNN, "
           "about ten minutes in all.")
show_lesson()
