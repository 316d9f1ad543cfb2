"""Review scoring: P(positive) for texts, per-word contributions, and whole CSV/TSV files.

Speed comes from three things (a classifier's eager `model(strings)` call ran Keras' recurrent loop op by op
in Python): the saved TextVectorization runs once per batch of strings; the rest of the model — embedding,
recurrent layers, output — runs as one traced tf.function; and reviews are sorted by length and each batch is
cut to its longest review, so short reviews do not pay for the padding. Cutting padding changes nothing: the
embedding masks id 0 and a masked step leaves the recurrent state as it was, in both directions.
"""

from __future__ import annotations

import codecs
import csv
import os
import string
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqlab.corpus.decoding import check_size
from seqlab.corpus.imdb import clean_review
from seqlab.corpus.tables import TEXT_COLUMN_NAMES, _looks_like_labels, _pick_column, check_width
from seqlab.errors import SeqlabError

VECTORIZE_ROWS = 4096  # strings per TextVectorization call
SCORE_ROWS = 16_384  # texts whose word ids are held at once (~100 MB at 800 words a review)
DELIMITERS = {".csv": ",", ".tsv": "\t"}
OUTPUT_COLUMNS = ("probability_positive", "predicted_label")
MAX_EXPLAINED_CHARACTERS = 50_000  # word contributions: IMDb's longest review is ~14,000 characters
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet evaluate a cell
_PUNCTUATION = frozenset(string.punctuation)  # what the vectorizer strips: a chunk of only these is no word
_PROBE_BYTES = 8192


@dataclass
class WordContribution:
    word: str  # the word as written, attached punctuation included
    start: int  # character offsets into the original text: text[start:end] == word
    end: int
    contribution: float  # P(full text) - P(text without this word): > 0 pushes toward positive


def verdict(probability: float) -> str:
    return "positive" if probability > 0.5 else "negative"


def _check_batch_size(batch_size) -> None:
    if not (isinstance(batch_size, int) and not isinstance(batch_size, bool) and batch_size >= 1):
        raise SeqlabError(f"batch_size is {batch_size!r}", "a whole number, at least 1", "use 256")


class ReviewScorer:
    """A trained review classifier, split into its vectorizer and a traced body (see the module docstring)."""

    def __init__(self, model, name: str = "the model"):
        import keras
        import tensorflow as tf

        names = [type(layer).__name__ for layer in model.layers]
        if "TextVectorization" not in names or "Embedding" not in names:
            raise SeqlabError(f"{name} is not a review classifier", "a model whose first layers are "
                              "TextVectorization and Embedding", "pick a classify run")
        self.name = name
        self.vectorizer = model.layers[names.index("TextVectorization")]
        self.sequence_length = int(self.vectorizer.get_config()["output_sequence_length"])
        from seqlab.model.builder import apply_after_vectorizer

        ids = keras.Input(shape=(None,), dtype="int64", name="ids")  # (batch, time): any width
        body = keras.Model(ids, apply_after_vectorizer(model, ids))  # embedding (masks 0), recurrent stack, output
        self._forward = tf.function(lambda batch: body(batch, training=False), reduce_retracing=True,
                                    input_signature=[tf.TensorSpec([None, None], tf.int64)])

    @classmethod
    def from_run(cls, run_dir: Path, root: Path | None = None) -> ReviewScorer:
        """The classifier of a classify run (SeqlabError for any other run, or one seqlab may not load)."""
        from seqlab.infer.loading import load_run, require_task

        run = require_task(load_run(run_dir, root), "classify", "score reviews")
        return cls(run.model, name=run.path.name)

    def probabilities(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        """P(positive) per text, float32 (n,). Texts are cleaned as training text was (clean_review)."""
        if isinstance(texts, str) or not isinstance(texts, list | tuple):
            raise SeqlabError(f"texts is a {type(texts).__name__}", "a list of review strings",
                              "pass the texts as a list, even a single one")
        _check_batch_size(batch_size)
        for index, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                problem = "empty" if isinstance(text, str) else f"a {type(text).__name__}, not a string"
                raise SeqlabError(f"Text {index + 1} of {len(texts)} is {problem}", "some words to score",
                                  "remove empty texts, or type a review")
        return self._probabilities_of_clean([clean_review(text) for text in texts], batch_size)

    def _probabilities_of_clean(self, cleaned: list[str], batch_size: int = 256) -> np.ndarray:
        """Vectorized and scored SCORE_ROWS texts at a time, so the id matrix stays small whatever the count."""
        parts = [self._probabilities_of_ids(self._ids(cleaned[start:start + SCORE_ROWS]), batch_size)
                 for start in range(0, len(cleaned), SCORE_ROWS)]
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    def _ids(self, cleaned: list[str]) -> np.ndarray:
        """Word ids (n, sequence_length), 0-padded at the end, from the run's own vectorizer."""
        import tensorflow as tf

        if not cleaned:
            return np.zeros((0, self.sequence_length), np.int64)
        return np.concatenate([self.vectorizer(tf.constant(cleaned[start:start + VECTORIZE_ROWS])).numpy()
                               for start in range(0, len(cleaned), VECTORIZE_ROWS)])

    def _probabilities_of_ids(self, ids: np.ndarray, batch_size: int = 256) -> np.ndarray:
        import tensorflow as tf

        lengths = np.count_nonzero(ids, axis=1)  # padding (0) only ever trails
        order = np.argsort(-lengths, kind="stable")
        result = np.empty(len(ids), np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            width = max(1, int(lengths[rows].max()))
            result[rows] = np.asarray(self._forward(tf.constant(ids[rows, :width])))[:, 0]
        return result

    def word_contributions(self, text: str, max_words: int = 400) -> tuple[float, list[WordContribution]]:
        """P(positive) of `text` and each word's leave-one-out contribution.

        A word is a whitespace-separated chunk of the original text (HTML line breaks count as spaces) holding
        something besides ASCII punctuation, which the vectorizer strips. Its contribution is P(text) minus P(text
        with that chunk removed); all the variants are scored as batches. Only the first `max_words` words are
        scored and listed; later words still count in the full text's probability. A word whose removal leaves the
        model's input unchanged — past its sequence length (the vectorizer keeps that many words) — contributes
        exactly 0 and is not scored again.
        """
        if not isinstance(max_words, int) or isinstance(max_words, bool) or max_words < 1:
            raise SeqlabError(f"max_words is {max_words!r}", "a whole number, at least 1", "use 400")
        if not isinstance(text, str) or not text.strip():
            raise SeqlabError("The text is empty", "a review of at least one word", "type or paste a review")
        if len(text) > MAX_EXPLAINED_CHARACTERS:  # each word's variant is a copy of the whole text
            raise SeqlabError(f"The review is {len(text):,} characters long", "a review of at most "
                              f"{MAX_EXPLAINED_CHARACTERS:,} characters to explain word by word",
                              "explain a shorter excerpt (its probability alone has no such limit)")
        spans = word_spans(text)[:max_words]
        variants = [clean_review(text)] + [clean_review(text[:start] + " " + text[end:]) for start, end in spans]
        ids = self._ids(variants)  # (1 + words, sequence_length)
        changed = np.flatnonzero((ids[1:] != ids[0]).any(axis=1)) + 1  # the others: the model sees no difference
        scores = self._probabilities_of_ids(ids[np.r_[0, changed]]).astype(np.float64)
        contributions = np.zeros(len(variants))
        contributions[changed] = scores[0] - scores[1:]
        words = [WordContribution(text[start:end], start, end, float(contribution))
                 for (start, end), contribution in zip(spans, contributions[1:])]
        return float(scores[0]), words


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word in `text`, as word_contributions defines a word."""
    import re

    from seqlab.corpus.imdb import _BREAK_TAG

    masked = _BREAK_TAG.sub(lambda match: " " * len(match.group()), text)  # same offsets, tags are spaces
    return [match.span() for match in re.finditer(r"\S+", masked)
            if any(character not in _PUNCTUATION for character in match.group())]


def _open_table(path: Path):
    """A text handle on a CSV/TSV, or a SeqlabError for empty, oversized, binary or non-UTF files."""
    path = Path(path)
    if not path.is_file():
        raise SeqlabError(f"No file at {path}", "the path of a .csv or .tsv file", "check the path")
    if path.suffix.lower() not in DELIMITERS:
        raise SeqlabError(f"'{path.name}' is not a .csv or .tsv file", "a table of reviews ending in .csv or .tsv",
                          "save the table as CSV (or TSV) with a header row")
    check_size(path.stat().st_size, str(path))
    with open(path, "rb") as file:
        probe = file.read(_PROBE_BYTES)
    utf16 = probe.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    sample = probe.decode("utf-16" if utf16 else "utf-8", errors="ignore")
    controls = sum(1 for character in sample if ord(character) < 32 and character not in "\n\r\t\f\v")
    if (not utf16 and b"\x00" in probe) or (sample and controls / len(sample) > 0.1):
        raise SeqlabError(f"{path} looks like a binary file, not a table", "a CSV/TSV text file in UTF-8",
                          "export the table as CSV (UTF-8) first")
    return open(path, encoding="utf-16" if utf16 else "utf-8-sig", newline="")


def _rows(handle, delimiter: str, source: str) -> Iterator[list[str]]:
    """Non-blank CSV rows; a decoding error names the line it happened after."""
    reader = csv.reader(handle, delimiter=delimiter)
    header_seen = False
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                if not header_seen:  # a table too wide is refused before any data row is read
                    check_width(len(row), source)
                    header_seen = True
                yield row
    except UnicodeDecodeError:
        raise SeqlabError(f"{source} is not valid UTF-8 (after line {reader.line_num:,})",
                          "text encoded as UTF-8, or UTF-16 with a byte-order mark",
                          "re-save the file as UTF-8 (most editors offer this under 'Save as')") from None
    except csv.Error as error:
        raise SeqlabError(f"{source} is not a readable table at line {reader.line_num:,} ({error})",
                          "a CSV/TSV file with a header row", "check the quoting around that line") from None


def _text_column(header: list[str], sample: list[list[str]], chosen: str | None, source: str) -> int:
    if chosen is not None:
        if chosen not in header:
            raise SeqlabError(f"{source} has no column named '{chosen}'", f"one of its columns: {', '.join(header)}",
                              "choose the text column from that list")
        return header.index(chosen)
    named = _pick_column(header, TEXT_COLUMN_NAMES, "text", source)
    if named is not None:
        return header.index(named)
    columns = [[row[i] if i < len(row) else "" for row in sample] for i in range(len(header))]
    candidates = [i for i, values in enumerate(columns) if any(v.strip() for v in values)
                  and not _looks_like_labels([v for v in values if v.strip()])]
    if not candidates:
        raise SeqlabError(f"{source} has no column with review text (columns: {', '.join(header)})",
                          "a column of free text, ideally named 'text' or 'review'",
                          "name the column with --text-column (or the column picker in the app)")
    return max(candidates, key=lambda i: sum(len(value) for value in columns[i]))


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet will show as text: one starting with =, +, -, @, a tab or a carriage return would run
    as a formula when a teacher opens the scored file (CSV injection), so it gets a leading apostrophe (OWASP)."""
    return "'" + cell if cell[:1] in FORMULA_STARTS else cell


def score_csv(scorer: ReviewScorer, in_path: Path, out_path: Path, text_column: str | None = None,
              progress: Callable[[int], None] | None = None, chunk_size: int = 512) -> int:
    """Score every row of a CSV/TSV (streamed, chunk by chunk); returns the number of rows written.

    The output holds the input columns plus probability_positive and predicted_label (columns of those names
    already present are replaced); a row with an empty text gets empty values. It is written to a temporary
    file beside `out_path` and renamed at the end, so a reader never sees half a file.
    """
    _check_batch_size(chunk_size)
    in_path, out_path = Path(in_path), Path(out_path)
    source = str(in_path)
    out_delimiter = DELIMITERS.get(out_path.suffix.lower(), DELIMITERS.get(in_path.suffix.lower(), ","))
    with _open_table(in_path) as handle:
        rows = _rows(handle, DELIMITERS[in_path.suffix.lower()], source)
        header = [cell.strip() for cell in next(rows, [])]
        first = [row for _, row in zip(range(chunk_size), rows)]
        if not header or not first:
            raise SeqlabError(f"{source} has no data rows under its header", "a header row and one row per review",
                              "add rows, or check that the file is the one you meant")
        column = _text_column(header, first, text_column, source)
        kept = [i for i, name in enumerate(header) if name not in OUTPUT_COLUMNS]
        try:
            out_path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.name}.", suffix=".tmp")
        except OSError as error:
            raise SeqlabError(f"Cannot write {out_path} ({error.strerror})", "a writable output folder",
                              "choose another --out path") from None
        try:
            count = _write_scores(scorer, descriptor, out_delimiter, header, kept, column, first, rows, chunk_size,
                                  progress)
            os.replace(temporary, out_path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return count


def _write_scores(scorer, descriptor, delimiter, header, kept, column, first, rows, chunk_size, progress) -> int:
    count = scored = 0
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
        writer.writerow([spreadsheet_safe(header[i]) for i in kept] + list(OUTPUT_COLUMNS))
        chunk = first
        while chunk:
            for row in chunk:
                if any(cell.strip() for cell in row[len(header):]):
                    raise SeqlabError(f"Data row {count + 1:,} has {len(row)} fields but the header has "
                                      f"{len(header)}", "the same number of fields in every row",
                                      "quote fields that contain the delimiter")
                row[:] = row[:len(header)] + [""] * (len(header) - len(row))
            texts = [clean_review(row[column]) for row in chunk]
            filled = [i for i, text in enumerate(texts) if text]
            values = scorer._probabilities_of_clean([texts[i] for i in filled])
            outputs = [["", ""] for _ in chunk]
            for i, value in zip(filled, values.tolist()):
                outputs[i] = [f"{value:.6f}", verdict(value)]
            writer.writerows([[spreadsheet_safe(row[i]) for i in kept] + output for row, output in zip(chunk, outputs)])
            count, scored = count + len(chunk), scored + len(filled)
            if progress is not None:
                progress(count)
            chunk = [row for _, row in zip(range(chunk_size), rows)]
        if not scored:
            raise SeqlabError(f"Column '{header[column]}' holds no text in any row", "reviews to score",
                              "choose the column that holds the reviews (--text-column)")
        out.flush()
        os.fsync(out.fileno())
    return count
