"""Generate: a trained character model writes text, one character at a time."""

from pathlib import Path

import streamlit as st

from seqlab.ui import generate_view as view
from seqlab.ui.loaded_runs import choose_run
from seqlab.ui.routing import require_router

require_router()
st.title("Generate")
st.caption("Give the model a few words to start from; it continues, picking each next character by chance "
           "from what it learned. Several variations show how much chance is involved.")
item = choose_run("generate")
if item is not None:
    view.show_run_summary(item)
    options = view.generation_options(Path(item["path"]))
    colour = st.toggle("Colour by confidence", value=True, key="seqlab_generate_colour", help=view.COLOUR_HELP)
    if options is not None:
        view.generate(item, options)
    result = view.current_result(item)
    if result is not None:
        view.show_result(result, colour)
