"""Labelled review tables (.csv / .tsv): find the text and label columns, parse labels.

People bring tables from everywhere, so columns are auto-detected by name first
(`text`, `review`, … / `label`, `sentiment`, …) and by content second, and labels
may be written many ways. When the choice is not clear we refuse and name the
columns, rather than silently train on the wrong one.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from seqlab.corpus.imdb import clean_review
from seqlab.errors import SeqlabError

TEXT_COLUMN_NAMES = ("text", "review", "sentence", "content", "body", "comment", "document", "phrase")
LABEL_COLUMN_NAMES = ("label", "sentiment", "polarity", "class", "target", "stars", "rating", "score", "y")
LABEL_WORDS = {  # accepted spellings of the two classes (after strip + lower-case)
    "0": 0, "1": 1, "0.0": 0, "1.0": 1,
    "neg": 0, "pos": 1, "negative": 0, "positive": 1, "false": 0, "true": 1,
}
AUTOMATIC = 0  # a star threshold of 0: the reader's own rule (automatic_threshold)
DEFAULT_STAR_THRESHOLD = 6.0  # with 1–10 star ratings, stars >= this are "positive"
FIVE_STAR_THRESHOLD = 4.0  # with ratings of at most 5 stars (a 1–5 scale), 4 and 5 are "positive"
MAX_COLUMNS = 100  # the widest table read: a review table needs two columns

MAX_CELL_CHARACTERS = 1_000_000  # one review: IMDb's longest is ~14,000 characters
csv.field_size_limit(MAX_CELL_CHARACTERS)  # csv's default (128 KB) is below some reviews' length


def parse_labels(values: list[str], column: str, star_threshold: float = AUTOMATIC) -> np.ndarray:
    """Map label strings to 0/1: word spellings first, then 1–10 star ratings (at or above the threshold is
    positive; AUTOMATIC picks it from the ratings' scale, see automatic_threshold)."""
    normalized = [value.strip().lower() for value in values]
    if all(value in LABEL_WORDS for value in normalized):
        return np.array([LABEL_WORDS[value] for value in normalized], dtype=np.int32)
    stars = [_as_star(value) for value in normalized]
    if all(star is not None for star in stars):
        ratings = np.array(stars, dtype=np.float64)
        return (ratings >= (star_threshold or automatic_threshold(ratings))).astype(np.int32)
    unknown = sorted({v for v in normalized if v not in LABEL_WORDS and _as_star(v) is None})
    shown = ", ".join(repr(v) for v in unknown[:5]) + (" …" if len(unknown) > 5 else "")
    raise SeqlabError(
        f"Column '{column}' has label values seqlab does not understand: {shown}",
        "labels written as 0/1, pos/neg, positive/negative, true/false, or star ratings from 1 to 10",
        "rewrite the labels in one of those forms, or choose another label column",
    )


def automatic_threshold(ratings: np.ndarray) -> float:
    """The threshold used when none is chosen: 6 on a 1–10 scale (as Stanford's IMDb: 7+ positive, 4- negative,
    so 6 splits the middle), 4 when no rating is above 5 (a 1–5 scale, where 6 would make every review negative)."""
    return DEFAULT_STAR_THRESHOLD if ratings.size == 0 or ratings.max() > 5 else FIVE_STAR_THRESHOLD


def star_ratings(values: list[str]) -> np.ndarray | None:
    """The values as star ratings, or None when they are label words or not all ratings (the threshold then
    means nothing)."""
    normalized = [value.strip().lower() for value in values]
    if all(value in LABEL_WORDS for value in normalized):
        return None
    stars = [_as_star(value) for value in normalized]
    return np.array(stars, dtype=np.float64) if all(star is not None for star in stars) else None


def _as_star(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if 1 <= number <= 10 else None


def _looks_like_labels(values: list[str]) -> bool:
    try:
        parse_labels(values, "probe")
    except SeqlabError:
        return False
    return True


def check_width(columns: int, source: str) -> None:
    """Refuse a table wider than MAX_COLUMNS before its columns are built (a few KB of commas can describe
    thousands of columns, each then padded and tested for labels)."""
    if columns > MAX_COLUMNS:
        raise SeqlabError(f"{source} has {columns:,} columns in its header", f"at most {MAX_COLUMNS} columns "
                          "(a review table needs two: the text and its label)",
                          "save a copy of the table with only its text and label columns, and use that")


def _pick_column(header: list[str], names: tuple[str, ...], kind: str, source: str) -> str | None:
    matches = [column for column in header if column.strip().lower() in names]
    if len(matches) > 1:
        raise SeqlabError(
            f"{source} has several columns that could be the {kind} column: {', '.join(matches)}",
            f"exactly one {kind} column",
            f"choose the {kind} column explicitly (--{kind}-column in the CLI, the column picker in the app)",
        )
    return matches[0] if matches else None


def read_table(
    text: str,
    delimiter: str,
    source: str,
    text_column: str | None = None,
    label_column: str | None = None,
    star_threshold: float = AUTOMATIC,
) -> tuple[list[str], np.ndarray, dict]:
    """Parse a table into (texts, labels 0/1, info about the chosen columns)."""
    header, columns = table_columns(text, delimiter, source)
    text_column, label_column = choose_columns(header, columns, text_column, label_column, source)
    labels = parse_labels(columns[label_column], label_column, star_threshold)
    texts = columns[text_column]
    keep = [i for i, t in enumerate(texts) if t.strip()]
    texts, labels = [clean_review(texts[i]) for i in keep], labels[keep]
    classes = set(labels.tolist())
    if len(classes) < 2:
        only = "positive" if classes == {1} else "negative"
        raise SeqlabError(
            f"{source}: every one of its {len(texts):,} rows is labelled {only}, so there is nothing to tell apart",
            "both positive and negative examples",
            "add examples of the other class (or lower the star threshold for star ratings)",
        )
    rows = len(columns[header[0]])
    info = {"text_column": text_column, "label_column": label_column, "dropped_empty_rows": rows - len(keep),
            "columns": header}
    ratings = star_ratings(columns[label_column])
    if ratings is not None:  # say which threshold made the labels (the automatic one is not written anywhere)
        info["star_threshold"] = float(star_threshold or automatic_threshold(ratings))
    return texts, labels, info


def table_columns(text: str, delimiter: str, source: str) -> tuple[list[str], dict[str, list[str]]]:
    """(header, column name -> its cells); short rows are padded with empty cells. The header's width is checked
    before any row is kept, and every row is cut to it, so a narrow file costs what its cells cost."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if not rows:
                check_width(len(row), source)
            rows.append(row[:len(rows[0])] if rows else row)
    except csv.Error as error:  # e.g. a cell over the csv module's 128 KB field limit
        raise SeqlabError(f"{source} is not a readable table at line {reader.line_num:,} ({error})",
                          f"a CSV/TSV file with a header row and cells of at most {MAX_CELL_CHARACTERS:,} characters",
                          "check the quoting around that line") from None
    if len(rows) < 2:
        raise SeqlabError(
            f"{source} has no data rows under its header",
            "a header row followed by one row per review",
            "add rows, or check that the file is the one you meant",
        )
    header = [column.strip() for column in rows[0]]
    separator = "tab" if delimiter == "\t" else repr(delimiter)
    if len(header) < 2:
        raise SeqlabError(
            f"{source} has a single column ('{header[0]}'), so there is no label column",
            f"two {separator}-separated columns: the review text and its label",
            "add a label column (for example 'label' with pos/neg), or use a .txt file to train a generator",
        )
    body = [row + [""] * (len(header) - len(row)) for row in rows[1:]]
    return header, {name: [row[i] for row in body] for i, name in enumerate(header)}


def choose_columns(header: list[str], columns: dict[str, list[str]], text_column: str | None,
                    label_column: str | None, source: str) -> tuple[str, str]:
    """The (text, label) columns: as chosen, else by name, else by content."""
    for chosen, kind in ((text_column, "text"), (label_column, "label")):
        if chosen is not None and chosen not in columns:
            raise SeqlabError(
                f"{source} has no column named '{chosen}'",
                f"one of its columns: {', '.join(header)}",
                f"choose the {kind} column from that list",
            )
    label_column = label_column or _pick_column(header, LABEL_COLUMN_NAMES, "label", source)
    if label_column is None:
        candidates = [name for name in header if name != text_column and _looks_like_labels(columns[name])]
        if len(candidates) != 1:
            problem = "no column holds labels" if not candidates else (
                f"several columns could hold the labels: {', '.join(candidates)}")
            raise SeqlabError(
                f"{source}: {problem} (columns: {', '.join(header)})",
                "one label column with values like 0/1, pos/neg, positive/negative, true/false or 1–10 stars",
                "add or name a 'label' column, or choose the label column explicitly",
            )
        label_column = candidates[0]
    text_column = text_column or _pick_column(header, TEXT_COLUMN_NAMES, "text", source)
    if text_column is None:
        others = [name for name in header if name != label_column and not _looks_like_labels(columns[name])]
        if not others:
            raise SeqlabError(
                f"{source} has no column with review text (columns: {', '.join(header)})",
                "a column of free text next to the label column",
                "add a 'text' column holding the reviews",
            )
        text_column = max(others, key=lambda name: sum(len(v) for v in columns[name]))
    if text_column == label_column:
        raise SeqlabError(
            f"{source}: the text and label columns are both '{text_column}'",
            "two different columns", "choose different columns for text and label",
        )
    return text_column, label_column
