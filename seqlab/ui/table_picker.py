"""Data page: the column picker for a table of reviews, the star threshold, and a preview of the labels it reads.

A person who brings a spreadsheet should not have to guess column names: the file's own columns are offered
(selectboxes, so nothing typed reaches the reader), the ones seqlab detected are chosen already, and a few rows
show what each label was read as before any training starts. The choices go to the Train page with the corpus.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from seqlab.corpus.table_preview import Table, describe_stars, preview_labels, read_table_file
from seqlab.corpus.tables import automatic_threshold, star_ratings
from seqlab.ui.messages import plain

THRESHOLDS = list(range(0, 11))  # 0: automatic; the same range as TrainConfig.star_threshold


@st.cache_resource(show_spinner="Reading the table…", max_entries=4)
def cached_table(reference: str, source: str) -> Table:
    """Stored tables are named by their content's hash, so one parse serves every session and every choice."""
    return read_table_file(Path(reference), source)


def _marked(detected: str | None):
    return lambda column: f"{column} (detected)" if column == detected else column


def _column(place, label: str, table: Table, detected: str | None, key: str, help: str) -> str | None:
    header = table.header
    index = header.index(detected) if detected in header else None
    chosen = place.selectbox(label, header, index=index, key=key, format_func=_marked(detected),
                             placeholder="Choose a column", help=help)
    return chosen if chosen in header else None  # a forged value outside the file's columns is not passed on


def _threshold(place, table: Table, label_column: str | None, key: str) -> int:
    """The star threshold, offered only when the label column holds star ratings (it means nothing for words)."""
    ratings = star_ratings(table.columns[label_column]) if label_column else None
    if ratings is None:
        st.session_state.pop(key, None)
        return 0
    automatic = automatic_threshold(ratings)

    def describe(value: int) -> str:
        return f"Automatic: {automatic:g} stars and above" if value == 0 else f"{value} stars and above"

    chosen = place.selectbox("Positive from", THRESHOLDS, key=key, format_func=describe,
                             help="A review with at least this many stars is read as positive, fewer as negative. "
                                  "Automatic uses 6 on a 1–10 scale and 4 on a 1–5 scale.")
    return int(chosen) if chosen in THRESHOLDS else 0


def pick_columns(reference: str, source: str) -> tuple[str, str, int]:
    """(text column, label column, star threshold) as chosen on the page; raises SeqlabError (shown by the caller)
    when the choice cannot be read, after the widgets are on screen so the person can change it."""
    table = cached_table(reference, source)
    stem = Path(reference).stem[:16]  # the content hash: another file gets fresh widgets
    st.markdown("**Columns in this file:** " + " · ".join(plain(name) for name in table.header))
    if table.problem:
        st.info(plain(f"seqlab could not choose the columns on its own ({table.problem}). Pick them below."))
    left, middle, right = st.columns(3)
    text_column = _column(left, "Text column", table, table.detected_text, f"seqlab_data_text_{stem}",
                          "The column holding the reviews themselves.")
    label_column = _column(middle, "Label column", table, table.detected_label, f"seqlab_data_label_{stem}",
                           "The column saying positive or negative: 0/1, pos/neg, positive/negative, "
                           "true/false, or 1–10 stars.")
    threshold = _threshold(right, table, label_column or table.detected_label, f"seqlab_data_stars_{stem}")
    preview = preview_labels(table, text_column, label_column, threshold)
    show_preview(preview)
    return preview["text_column"], preview["label_column"], threshold


def show_preview(preview: dict) -> None:
    """The first rows as they will be read, and the counts."""
    dropped = preview["dropped_empty_rows"]
    counts = (f"Read as **{preview['positive']:,} positive** and **{preview['negative']:,} negative** reviews"
              + (f"; {dropped:,} rows with no text were left out." if dropped else "."))
    st.markdown(counts)
    if preview["stars"]:
        st.caption(describe_stars(preview["stars"]))
    rows = pd.DataFrame([{"review (start)": plain(row["text"]), "label as written": plain(row["label as written"]),
                          "read as": row["read as"]} for row in preview["rows"]])
    st.table(rows, hide_index=True)  # static: readable on a projector; cells escaped, as st.table renders Markdown
