"""seqlab: the router. Each page is a thin file in pages/ that calls the seqlab package.

Nothing here imports TensorFlow, so the Home and Data pages open fast; the pages that need a model load it
lazily through seqlab.
"""

import streamlit as st

from seqlab.ui.routing import mark_routed

st.set_page_config(page_title="seqlab · RNN playground", page_icon="🔁", layout="wide")
navigation = st.navigation([
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/data.py", title="Data", icon=":material/menu_book:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/generate.py", title="Generate", icon=":material/edit_note:"),
    st.Page("pages/score.py", title="Score reviews", icon=":material/movie:"),
    st.Page("pages/runs.py", title="Runs", icon=":material/folder_open:"),
])
mark_routed()
navigation.run()
