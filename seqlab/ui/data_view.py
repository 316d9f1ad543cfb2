"""Data page glue: pick or bring a corpus, then show what a model would learn from."""

from __future__ import annotations

import streamlit as st

from seqlab.corpora import Corpus, corpus_from_bytes, corpus_from_text, corpus_from_url, list_corpora, load_corpus
from seqlab.errors import SeqlabError
from seqlab.statistics import corpus_statistics


@st.cache_resource(show_spinner="Loading corpus…")
def cached_builtin(name: str) -> Corpus:
    """Built-in corpora are shared by every session (read once per server)."""
    return load_corpus(name)


def choose_corpus() -> Corpus | None:
    """The corpus picker: built-in, upload, paste or URL. Errors are shown, never raised."""
    builtins = {info.name: info for info in list_corpora() if info.name != "imdb-full"}
    kind = st.radio("Source", ["Built-in", "Upload", "Paste", "URL"], horizontal=True)
    try:
        if kind == "Built-in":
            name = st.selectbox("Corpus", list(builtins), format_func=lambda n: f"{n} — {builtins[n].description}")
            return cached_builtin(name)
        if kind == "Upload":
            upload = st.file_uploader("A .txt file (generation) or .csv/.tsv with text and label columns",
                                      type=["txt", "csv", "tsv"])
            return corpus_from_bytes(upload.getvalue(), upload.name) if upload else None
        if kind == "Paste":
            text = st.text_area("Paste a text to learn from", height=200)
            return corpus_from_text(text) if text else None
        url = st.text_input("URL of a .txt, .csv or .tsv file (http or https)")
        return corpus_from_url(url) if url else None
    except SeqlabError as error:
        st.error(str(error))
        return None


def show_statistics(corpus: Corpus) -> None:
    stats = corpus_statistics(corpus)
    if corpus.task == "generate":
        columns = st.columns(4)
        columns[0].metric("Characters", f"{stats['characters']:,}")
        columns[1].metric("Distinct characters", stats["distinct_characters"])
        columns[2].metric("Lines", f"{stats['lines']:,}")
        columns[3].metric("Words", f"{stats['words']:,}")
        st.text_area("Preview", corpus.text[:2000], height=250, disabled=True)
        return
    for split_name, split in stats["splits"].items():
        columns = st.columns(4)
        columns[0].metric(f"{split_name.title()} reviews", f"{split['documents']:,}")
        columns[1].metric("Positive", f"{split['positive_share']:.1%}")
        columns[2].metric("Median length (words)", split["length_words_percentiles"]["50"])
        columns[3].metric("95th percentile length", split["length_words_percentiles"]["95"])
    st.dataframe({"text": corpus.texts[:20], "label": ["positive" if x else "negative" for x in corpus.labels[:20]]})
