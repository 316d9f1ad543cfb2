"""A review table's columns and a preview of the labels read from them, for the Data page and `seqlab inspect`.

A person who brings a table needs to see which columns seqlab found, pick others from the file's own list
(never type a name), and check on a few rows that "7" was read as positive before training on it. The table
is parsed once (`read_table_file`); each preview with other columns or another star threshold is then cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqlab.corpus.decoding import MAX_CORPUS_BYTES, decode_bytes, read_file_bytes
from seqlab.corpus.imdb import clean_review
from seqlab.corpus.registry import TABLE_DELIMITERS
from seqlab.corpus.tables import (
    AUTOMATIC,
    automatic_threshold,
    choose_columns,
    parse_labels,
    star_ratings,
    table_columns,
)
from seqlab.errors import SeqlabError

PREVIEW_ROWS = 8
PREVIEW_CHARACTERS = 80  # of each review's start


@dataclass(frozen=True)
class Table:
    """A parsed table: its header, its cells by column, and what detection chose (None where it could not)."""

    source: str
    header: list[str]
    columns: dict[str, list[str]]
    detected_text: str | None
    detected_label: str | None
    problem: str  # why detection could not choose, "" when it did


def is_table(filename: str) -> bool:
    return Path(filename).suffix.lower() in TABLE_DELIMITERS


def table_from_text(text: str, delimiter: str, source: str) -> Table:
    """Parse the table and detect its columns; a table seqlab cannot detect is still listed (problem says why)."""
    header, columns = table_columns(text, delimiter, source)
    try:
        detected_text, detected_label = choose_columns(header, columns, None, None, source)
        problem = ""
    except SeqlabError as error:
        detected_text = detected_label = None
        problem = error.what
    return Table(source, header, columns, detected_text, detected_label, problem)


def read_table_file(path: Path, source: str | None = None, max_bytes: int = MAX_CORPUS_BYTES) -> Table:
    """A .csv/.tsv file on disk (a stored upload, or a path given to the CLI)."""
    path = Path(path)
    if not is_table(path.name):
        raise SeqlabError(f"'{path.name}' is not a table", "a .csv or .tsv file", "choose a .csv or .tsv file")
    label = source or path.name
    decoded = decode_bytes(read_file_bytes(path, max_bytes), label)
    return table_from_text(decoded.text, TABLE_DELIMITERS[path.suffix.lower()], label)


def preview_labels(table: Table, text_column: str | None = None, label_column: str | None = None,
                   star_threshold: float = AUTOMATIC, rows: int = PREVIEW_ROWS) -> dict:
    """What training would read with these choices: the columns used, a few rows (start of the text, the label
    as written, read as), the class counts and, for star ratings, the scale and the threshold applied.

    Raises SeqlabError as the loader would (unknown label values, the same column twice, one class only)."""
    text_column, label_column = choose_columns(table.header, table.columns, text_column or None,
                                               label_column or None, table.source)
    raw = table.columns[label_column]
    labels = parse_labels(raw, label_column, star_threshold)
    keep = [i for i, text in enumerate(table.columns[text_column]) if text.strip()]
    ratings = star_ratings(raw)
    counts = np.bincount(labels[keep], minlength=2) if keep else np.zeros(2, dtype=int)
    preview = {
        "text_column": text_column, "label_column": label_column,
        "positive": int(counts[1]), "negative": int(counts[0]), "dropped_empty_rows": len(raw) - len(keep),
        "rows": [{"text": _start(table.columns[text_column][i]), "label as written": raw[i].strip(),
                  "read as": "positive" if labels[i] else "negative"} for i in keep[:rows]],
        "stars": None,
    }
    if ratings is not None:
        used = float(star_threshold or automatic_threshold(ratings))
        preview["stars"] = {"lowest": float(ratings.min()), "highest": float(ratings.max()), "threshold": used,
                            "automatic": not star_threshold}
    return preview


def describe_stars(stars: dict) -> str:
    """One plain sentence about how ratings became labels (shared by the Data page and the CLI)."""
    low, high, threshold = (f"{stars[key]:g}" for key in ("lowest", "highest", "threshold"))
    how = "chosen automatically for this scale" if stars["automatic"] else "as you chose"
    return (f"Ratings run from {low} to {high} stars: {threshold} and above is read as positive, below as "
            f"negative ({how}). No review is dropped as neutral.")


def _start(text: str) -> str:
    text = clean_review(text)
    return text if len(text) <= PREVIEW_CHARACTERS else text[:PREVIEW_CHARACTERS - 1] + "…"
