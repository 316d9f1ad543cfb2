"""Generate: a trained character model writes text, one character at a time."""

from pathlib import Path

import streamlit as st

from seqlab.ui.generate_view import current_result, generate, generation_options, show_result, show_run_summary
from seqlab.ui.loaded_runs import choose_run
from seqlab.ui.routing import require_router

require_router()
st.title("Generate")
st.caption("Give the model a few words to start from; it continues, picking each next character by chance "
           "from what it learned. Several variations show how much chance is involved.")
item = choose_run("generate")
if item is not None:
    show_run_summary(item)
    options = generation_options(Path(item["path"]))
    colour = st.toggle("Colour by confidence", value=True, key="seqlab_generate_colour",
                       help="Shade each written character by how likely the model thought it was: "
                            "red marks surprises, no colour marks characters the model was sure of.")
    if options is not None:
        generate(item, options)
    result = current_result(item)
    if result is not None:
        show_result(result, colour)
