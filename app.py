"""seqlab: the router. Each page is a thin file in pages/ that calls the seqlab package.

Nothing here imports TensorFlow, so the Home and Data pages open fast; the pages that need a model load it
lazily through seqlab. Streamlit reads .streamlit/config.toml beside this file whatever the working directory;
the one setting that guards the server's paths is also set here, so no launch can leave it out. Presenter mode
(seqlab/ui/presenter.py, `?present=1`) is read before the page settings, because it collapses the sidebar and puts
the menu at the top.
"""

import streamlit as st

from seqlab.ui import presenter
from seqlab.ui.routing import mark_routed
from seqlab.ui.workspace import remember_in_browser

st.set_option("client.showErrorDetails", "none")  # a bug shows a short notice, never a traceback with paths
st.set_page_config(page_title="seqlab · RNN playground", page_icon="🔁", layout="wide",
                   initial_sidebar_state=presenter.sidebar_state())
navigation = st.navigation([
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/data.py", title="Data", icon=":material/menu_book:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/generate.py", title="Generate", icon=":material/edit_note:"),
    st.Page("pages/score.py", title="Score reviews", icon=":material/movie:"),
    st.Page("pages/forecast.py", title="Forecast", icon=":material/show_chart:"),
    st.Page("pages/inside.py", title="Inside the network", icon=":material/visibility:"),
    st.Page("pages/lesson.py", title="Lesson: why gates?", icon=":material/lightbulb:"),
    st.Page("pages/runs.py", title="Runs", icon=":material/folder_open:"),
    st.Page("pages/teacher.py", title="Teacher", icon=":material/school:"),
], position=presenter.navigation_position())
mark_routed()
remember_in_browser()
presenter.show_presenter_controls()
navigation.run()
