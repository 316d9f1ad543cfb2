"""Data: pick or bring a corpus and see its statistics."""

import streamlit as st

from seqlab.report.plain_words import TASK_NAMES
from seqlab.ui.data_view import choose_corpus, chosen_label, show_statistics
from seqlab.ui.routing import require_router

require_router()
st.title("Data")
st.caption("Everything starts with a corpus: a text to imitate, reviews labelled positive or negative, or a series "
           "of numbers to forecast.")
corpus = choose_corpus()
if corpus is not None:
    heading, action = st.columns([4, 1], vertical_alignment="bottom")
    heading.subheader(f"{chosen_label()} · {TASK_NAMES[corpus.task]}")
    if action.button("Train on this corpus →", type="primary", width="stretch"):
        st.switch_page("pages/train.py")
    show_statistics(corpus)
