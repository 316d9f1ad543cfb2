"""Data page glue: pick or bring a corpus, see what a model would learn from, and hand it to the Train page.

The chosen corpus is remembered in st.session_state[CORPUS_KEY] as a reference a worker process can open:
a built-in name, or the path of the bytes stored under the runs root (an upload, pasted text, a URL's
content) — named by content hash, never by the user's file name.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from seqlab.corpus.decoding import MAX_CORPUS_BYTES
from seqlab.corpus.registry import Corpus, list_corpora, load_corpus
from seqlab.corpus.statistics import corpus_statistics
from seqlab.corpus.table_preview import is_table
from seqlab.errors import SeqlabError
from seqlab.report import corpus_charts
from seqlab.report.plain_words import perplexity
from seqlab.runs.launch import store_corpus_bytes
from seqlab.ui.imdb_full_view import imdb_full_panel
from seqlab.ui.messages import plain, show_error
from seqlab.ui.series_view import pick_series, show_series, table_use
from seqlab.ui.table_picker import cached_table, pick_columns
from seqlab.ui.workspace import current_viewer

MAX_PASTED_CHARACTERS = 1_000_000  # longer texts come as a file upload (up to 50 MB)
CORPUS_KEY = "seqlab_corpus"  # {"corpus", "task", "label", "text_column", "label_column", "star_threshold",
# "value_column"}: what the Train page trains on
IMDB_FULL = "imdb-full"  # the built-in that needs a download (or an uploaded archive) first
SOURCES = ["Built-in", "Upload", "Paste", "URL"]


@st.cache_resource(show_spinner="Loading corpus…", max_entries=8)
def cached_corpus(reference: str, text_column: str = "", label_column: str = "", star_threshold: int = 0) -> Corpus:
    """Built-in corpora and stored uploads are read once per server and shared by every session."""
    return load_corpus(reference, text_column=text_column or None, label_column=label_column or None,
                       star_threshold=star_threshold)


@st.cache_data(show_spinner=False, max_entries=16)
def cached_statistics(reference: str, text_column: str = "", label_column: str = "", star_threshold: int = 0) -> dict:
    return corpus_statistics(cached_corpus(reference, text_column, label_column, star_threshold))


@st.cache_data(show_spinner="Downloading…", ttl=600, max_entries=4)
def _fetch(url: str) -> bytes:
    from seqlab.corpus.download import fetch_url

    return fetch_url(url, max_bytes=MAX_CORPUS_BYTES)


def _suffix(filename: str) -> str:
    return Path(filename).suffix.lower() or ".txt"


def _store(data: bytes, filename: str) -> str:
    """Only the extension of the user's name is kept; the stored name is the content's hash."""
    return str(store_corpus_bytes(data, _suffix(filename), viewer=current_viewer()))


def _reference_from_source(kind: str) -> tuple[str, str] | None:
    """(reference, label) for the chosen source, or None until the person has given something."""
    if kind == "Built-in":
        builtins = {info.name: info for info in list_corpora()}
        name = st.selectbox("Corpus", list(builtins), help="Tiny Shakespeare and Hamlet teach a model to write; "
                            "IMDb and Rotten Tomatoes teach it to tell a positive review from a negative one; "
                            "imdb-full is Stanford's whole set, with a test set (an 84 MB download); sunspots and "
                            "seasonal-synthetic are series of numbers to forecast.",
                            format_func=lambda n: f"{n} — {builtins[n].description}")
        if name == IMDB_FULL and not imdb_full_panel():
            return None  # not in the cache yet: the panel offers the download or an upload
        return name, name
    if kind == "Upload":
        upload = st.file_uploader("A .txt file (to generate text like it), or a .csv/.tsv with a text and a label "
                                  "column (to judge reviews) or a column of numbers (to forecast)",
                                  type=["txt", "csv", "tsv"])
        return (_store(upload.getvalue(), upload.name), upload.name) if upload else None
    if kind == "Paste":
        text = st.text_area("Paste a text to learn from (a few thousand characters at least)", height=200,
                            max_chars=MAX_PASTED_CHARACTERS)
        if not text:
            return None
        if len(text) > MAX_PASTED_CHARACTERS:  # the widget stops a browser there; a forged message stops here
            raise SeqlabError(f"The pasted text is {len(text):,} characters long", f"at most "
                              f"{MAX_PASTED_CHARACTERS:,} characters in the box", "upload a longer text as a file")
        if not text.strip():
            raise SeqlabError("The pasted text is only whitespace", "some text to learn from",
                              "paste a few thousand characters of text")
        return _store(text.replace("\r\n", "\n").encode("utf-8"), "pasted.txt"), "pasted text"
    url = st.text_input("URL of a .txt, .csv or .tsv file (http or https)", max_chars=2000,
                        help="Fetched once with a timeout and a 50 MB cap; local and private addresses are refused.")
    if not url:
        return None
    return _store(_fetch(url.strip()), url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]), url.strip()


def choose_corpus() -> Corpus | None:
    """The corpus picker. Errors are shown as messages; the last good choice stays remembered."""
    kind = st.radio("Source", SOURCES, horizontal=True, help="Where the text comes from.")
    chosen = None
    try:
        chosen = _reference_from_source(kind)
        if chosen is None:
            return None
        reference, label = chosen
        text_column, label_column, star_threshold, value_column = "", "", 0, ""
        if is_table(reference) and table_use(reference) == "forecast":
            header = cached_table(reference, Path(label).name or label).header
            corpus, value_column = pick_series(reference, header, label)
        else:
            if is_table(reference):
                text_column, label_column, star_threshold = pick_columns(reference, Path(label).name or label)
            corpus = cached_corpus(reference, text_column, label_column, star_threshold)
    except SeqlabError as error:
        message = str(error)
        if chosen is not None and kind != "Built-in":  # a stored copy: name it as the person knows it, not by hash
            message = message.replace(Path(chosen[0]).name, Path(chosen[1]).name or chosen[1])
        show_error(message)
        return None
    st.session_state[CORPUS_KEY] = {"corpus": reference, "task": corpus.task, "label": label,
                                    "text_column": text_column, "label_column": label_column,
                                    "star_threshold": star_threshold, "value_column": value_column}
    return corpus


def chosen_label() -> str:
    """The chosen corpus as the person knows it (the upload's file name or the URL's, never the stored hash name),
    escaped for Markdown: a file name is the browser's text."""
    chosen = st.session_state.get(CORPUS_KEY) or {}
    label = str(chosen.get("label") or chosen.get("corpus") or "")
    return plain(label.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or label)


def show_statistics(corpus: Corpus) -> None:
    if corpus.task == "forecast":  # a series: its numbers and its season (seqlab/ui/series_view.py)
        show_series(corpus)
        return
    reference = st.session_state[CORPUS_KEY]
    stats = cached_statistics(reference["corpus"], reference["text_column"], reference["label_column"],
                              reference.get("star_threshold", 0))
    from seqlab.corpus.charsets import encoding_note  # here, not above: this function is this feature's only edit

    note = encoding_note(corpus.details.get("encoding"))
    if note:  # read through a guess (cp1252, Latin-1, ...): say so, the person may see wrong accents
        st.info(note)
    if corpus.task == "generate":
        columns = st.columns(3)
        columns[0].metric("Characters", f"{stats['characters']:,}")
        columns[1].metric("Distinct characters", stats["distinct_characters"],
                          help="The vocabulary: the model picks the next character among these.")
        columns[2].metric("Lines", f"{stats['lines']:,}")
        uniform, unigram = stats["uniform_loss"], stats["unigram_loss"]
        st.markdown(f"**What a model must beat:** guessing at random is as unsure as choosing between "
                    f"{_choices(uniform)}; knowing only how common each character is, {_choices(unigram)}.",
                    help=f"The same as losses: {uniform:.2f} and {unigram:.2f} nats per character. A trained model "
                         "must do better than the second to have learned anything about order.")
        left, right = st.columns(2)
        left.plotly_chart(corpus_charts.character_frequency_figure(corpus.text), width="stretch")
        right.plotly_chart(corpus_charts.line_length_figure(corpus.text), width="stretch")
        st.text_area("Preview (first 2,000 characters)", corpus.text[:2000], height=250, disabled=True)
        return
    for split_name, split in stats["splits"].items():
        columns = st.columns(4)
        columns[0].metric(f"{split_name.title()} reviews", f"{split['documents']:,}")
        columns[1].metric("Positive", f"{split['positive_share']:.1%}",
                          help="Always answering the majority class would be right this often.")
        columns[2].metric("Median length (words)", split["length_words_percentiles"]["50"])
        columns[3].metric("95th percentile length", split["length_words_percentiles"]["95"],
                          help="A sequence length near this keeps almost every review whole.")
    left, right = st.columns([2, 1])
    left.plotly_chart(corpus_charts.review_length_figure(corpus), width="stretch")
    right.plotly_chart(corpus_charts.class_balance_figure(corpus), width="stretch")
    st.dataframe({"text": corpus.texts[:20], "label": ["positive" if x else "negative" for x in corpus.labels[:20]]},
                 width="stretch")


def _choices(loss: float) -> str:
    """'64.7 characters': how many equally likely characters a loss is as unsure as (plain_words.perplexity)."""
    choices = perplexity(loss)
    return "—" if choices is None else f"{choices:,.1f} characters"
