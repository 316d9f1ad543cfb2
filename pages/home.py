"""Home: what seqlab is, the pipeline in one picture, and one-click quick demos (no TensorFlow here)."""

import streamlit as st

from seqlab.ui.home_view import show_introduction, show_next_steps, show_quick_demos
from seqlab.ui.routing import require_router

require_router()
st.title("seqlab — watch a neural network learn to read")
show_introduction()
show_quick_demos()
show_next_steps()
