"""Data: pick or bring a corpus and see its statistics."""

import streamlit as st

from seqlab.ui.data_view import choose_corpus, show_statistics

st.title("Data")
st.caption("Everything starts with a corpus: a text to imitate, or reviews labelled positive or negative.")
corpus = choose_corpus()
if corpus is not None:
    st.subheader(f"{corpus.name} · {'text generation' if corpus.task == 'generate' else 'review sentiment'}")
    show_statistics(corpus)
