"""Inside the network: what a trained character model's units hold, and what its predictions looked back at."""

import streamlit as st

from seqlab.ui import inside_view as view
from seqlab.ui.loaded_runs import choose_run
from seqlab.ui.routing import require_router

require_router()
st.title("Inside the network")
st.caption("A text model reads one character at a time and keeps a few hundred numbers — its units — as its "
           "memory. Here you can watch those numbers change as it reads a passage, and see which earlier "
           "characters each of its guesses depended on.")
item = choose_run("generate")
if item is not None:
    view.show_page(item)
